package cli

import (
	"encoding"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	registry "github.com/atoll-project/atoll/consensus/registry/api"
)

// maxDescriptorFileSize bounds a runtime descriptor file.
const maxDescriptorFileSize = 1 << 20

// errDescriptorFile wraps every error of a descriptor file's form (as opposed to the
// registry's rules, which ValidateRuntime names).
var errDescriptorFile = errors.New("runtime descriptor file")

// readRuntimeDescriptor reads a runtime descriptor from a YAML or JSON file (JSON is read as
// YAML, whose flow style it is). Decoding is strict: the keys are the descriptor's snake_case
// field names (DESIGN.md §4), and an unknown or repeated key, a value of the wrong type or
// out of its type's range is an error naming the file, line and key path. Keys, hashes,
// namespaces and versions are text ("1.2.0", hex); enumerations (kind, tee_hardware,
// governance_model, threshold kinds, slash reasons) take their number or their name; a tee
// blob is base64. It checks the form only: ValidateRuntime checks the rules.
func readRuntimeDescriptor(path string) (*registry.Runtime, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDescriptorFile, err)
	}
	if fi.Size() > maxDescriptorFileSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", errDescriptorFile, path, fi.Size(), maxDescriptorFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDescriptorFile, err)
	}
	rt, err := decodeRuntimeDescriptor(data)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", errDescriptorFile, path, err)
	}
	return rt, nil
}

// decodeRuntimeDescriptor decodes one YAML (or JSON) document strictly into a descriptor.
func decodeRuntimeDescriptor(data []byte) (*registry.Runtime, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("empty document: want a mapping of the descriptor's fields (id, entity_id, genesis, kind, executor, ...)")
	}
	var rt registry.Runtime
	if err := decodeStrict(doc.Content[0], reflect.ValueOf(&rt).Elem(), ""); err != nil {
		return nil, err
	}
	return &rt, nil
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// decodeStrict decodes n into v (settable) by v's type, naming path in errors.
func decodeStrict(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		return nodeError(n, path, "aliases are not accepted in a descriptor")
	}
	if v.Kind() == reflect.Pointer {
		// A marker (a pointer to a struct without fields, such as any_node) is set by its
		// key alone: `any_node:` and `any_node: {}` mean the same.
		if isNull(n) && !isMarker(v.Type().Elem()) {
			v.SetZero()
			return nil
		}
		p := reflect.New(v.Type().Elem())
		if err := decodeStrict(n, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			return nodeError(n, path, "want a text value (%s)", textHint(v.Type()))
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			return nodeError(n, path, "%v", err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return decodeStruct(n, v, path)
	case reflect.Map:
		return decodeMap(n, v, path)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return decodeBytes(n, v, path)
		}
		return decodeSlice(n, v, path)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode {
			return nodeError(n, path, "want a number")
		}
		u, err := parseEnumOrUint(n.Value, v.Type())
		if err != nil {
			return nodeError(n, path, "%v", err)
		}
		v.SetUint(u)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return nodeError(n, path, "want an integer")
		}
		i, err := strconv.ParseInt(n.Value, 10, v.Type().Bits())
		if err != nil {
			return nodeError(n, path, "%v", numError(err))
		}
		v.SetInt(i)
		return nil
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return nodeError(n, path, "want true or false")
		}
		return n.Decode(v.Addr().Interface())
	case reflect.String:
		if n.Kind != yaml.ScalarNode || isNull(n) {
			return nodeError(n, path, "want a string")
		}
		v.SetString(n.Value)
		return nil
	}
	return nodeError(n, path, "cannot decode a %s here", v.Type())
}

func decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nodeError(n, path, "want a mapping")
	}
	t := v.Type()
	fields := make(map[string]int, t.NumField())
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("cbor"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fields[name] = i
		names = append(names, name)
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := joinPath(path, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			if len(names) == 0 {
				return nodeError(k, kp, "unknown key %q %s (it takes no keys: write {})", k.Value, where)
			}
			return nodeError(k, kp, "unknown key %q %s (known keys: %s)", k.Value, where, strings.Join(names, ", "))
		}
		if seen[k.Value] {
			return nodeError(k, kp, "key %q given twice", k.Value)
		}
		seen[k.Value] = true
		if err := decodeStrict(val, v.Field(idx), kp); err != nil {
			return err
		}
	}
	return nil
}

func decodeMap(n *yaml.Node, v reflect.Value, path string) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nodeError(n, path, "want a mapping")
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := fmt.Sprintf("%s[%s]", path, k.Value)
		key := reflect.New(t.Key()).Elem()
		if err := decodeStrict(k, key, kp); err != nil {
			return err
		}
		if m.MapIndex(key).IsValid() {
			return nodeError(k, kp, "key %q given twice", k.Value)
		}
		elem := reflect.New(t.Elem()).Elem()
		if err := decodeStrict(val, elem, kp); err != nil {
			return err
		}
		m.SetMapIndex(key, elem)
	}
	v.Set(m)
	return nil
}

func decodeSlice(n *yaml.Node, v reflect.Value, path string) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return nodeError(n, path, "want a list")
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		if err := decodeStrict(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

func decodeBytes(n *yaml.Node, v reflect.Value, path string) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, path, "want base64 text")
	}
	b, err := base64.StdEncoding.DecodeString(n.Value)
	if err != nil {
		return nodeError(n, path, "want base64 text: %v", err)
	}
	v.SetBytes(b)
	return nil
}

// parseEnumOrUint parses a number, or for a type with names (a String method whose unknown
// values print as "unknown(N)") one of its names.
func parseEnumOrUint(s string, t reflect.Type) (uint64, error) {
	if u, err := strconv.ParseUint(s, 10, t.Bits()); err == nil {
		return u, nil
	} else if !errors.Is(err, strconv.ErrSyntax) {
		return 0, numError(err)
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return 0, fmt.Errorf("%s is out of range for this field: it must not be negative", s)
	}
	names := enumNames(t)
	if names == nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if u, ok := names[s]; ok {
		return u, nil
	}
	known := make([]string, 0, len(names))
	for name, u := range names {
		known = append(known, fmt.Sprintf("%s = %d", name, u))
	}
	sort.Strings(known)
	return 0, fmt.Errorf("%q is neither a number nor a known name (%s)", s, strings.Join(known, ", "))
}

// enumNames returns the names of a uint8 type with a String method, or nil.
func enumNames(t reflect.Type) map[string]uint64 {
	if t.Kind() != reflect.Uint8 || !t.Implements(reflect.TypeFor[fmt.Stringer]()) {
		return nil
	}
	names := make(map[string]uint64)
	for u := range uint64(256) {
		v := reflect.New(t).Elem()
		v.SetUint(u)
		if name := v.Interface().(fmt.Stringer).String(); !strings.HasPrefix(name, "unknown") {
			names[name] = u
		}
	}
	return names
}

func numError(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		if errors.Is(ne.Err, strconv.ErrRange) {
			return fmt.Errorf("%s is out of range for this field", ne.Num)
		}
		return fmt.Errorf("%q is not a number", ne.Num)
	}
	return err
}

func textHint(t reflect.Type) string {
	switch t.Name() {
	case "Version":
		return "major.minor.patch"
	case "RolesMask":
		return "role names: validator, compute, storage, client"
	case "Quantity":
		return "a decimal integer"
	}
	return "hex"
}

func isMarker(t reflect.Type) bool { return t.Kind() == reflect.Struct && t.NumField() == 0 }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func nodeError(n *yaml.Node, path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path == "" {
		return fmt.Errorf("line %d: %s", n.Line, msg)
	}
	return fmt.Errorf("line %d: %s: %s", n.Line, path, msg)
}
