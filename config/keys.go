package config

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkKnownKeys walks a decoded YAML mapping against the struct v points to and reports the
// first key that has no field, with its line and the keys the section does have. yaml.v3's
// KnownFields names the Go type instead of the section, which tells an operator little.
func checkKnownKeys(n *yaml.Node, section string, v any) error {
	return walkKeys(n, section, reflect.TypeOf(v).Elem())
}

func walkKeys(n *yaml.Node, section string, t reflect.Type) error {
	if n.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return nil
	}
	fields := make(map[string]reflect.Type, t.NumField())
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := k.Value
		if section != "" {
			path = section + "." + k.Value
		}
		ft, ok := fields[k.Value]
		if !ok {
			where := "at the top level"
			if section != "" {
				where = "in section " + section
			}
			return fmt.Errorf("%w: line %d: %q %s (known keys: %s)",
				ErrUnknownKey, k.Line, path, where, strings.Join(names, ", "))
		}
		if err := walkKeys(val, path, ft); err != nil {
			return err
		}
	}
	return nil
}
