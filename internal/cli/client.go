package cli

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/config"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/node"
)

// nodeFlags name the running node a client command talks to: its gRPC socket, directly or
// through its data directory.
type nodeFlags struct {
	socket  string
	dataDir string
}

func (f *nodeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.socket, "socket", "", "the node's gRPC Unix socket")
	cmd.Flags().StringVar(&f.dataDir, "datadir", "", "the node's data directory (its socket is "+config.DefaultSocketName+" in it)")
}

// socketPath returns the socket the flags name.
func (f *nodeFlags) socketPath() (string, error) {
	// With both, the socket wins and the data directory still names the keys.
	switch {
	case f.socket != "":
		return f.socket, nil
	case f.dataDir != "":
		return filepath.Join(f.dataDir, config.DefaultSocketName), nil
	}
	return "", errors.New("which node? pass --socket PATH or --datadir DIR of a running `atoll node`")
}

// dial connects to the node the flags name.
func (f *nodeFlags) dial() (*grpcapi.Client, error) {
	path, err := f.socketPath()
	if err != nil {
		return nil, err
	}
	return grpcapi.DialUnix(path, grpcapi.ClientConfig{})
}

// signerFlags name the key that signs a transaction: a key file, or the entity key of a data
// directory.
type signerFlags struct {
	keyFile string
}

func (f *signerFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.keyFile, "key", "", "the signing key file (PEM); default: the entity key "+node.EntityKeyFile+" of --datadir")
}

// load opens the signing key; the caller resets it.
func (f *signerFlags) load(dataDir string) (*signature.MemorySigner, error) {
	path := f.keyFile
	if path == "" {
		if dataDir == "" {
			return nil, errors.New("which key signs? pass --key FILE or --datadir DIR (its entity key signs)")
		}
		path = filepath.Join(dataDir, node.EntityKeyFile)
	}
	s, err := signature.LoadSignerFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading the signing key: %w", err)
	}
	return s, nil
}

// printJSON writes v as indented JSON, through jsonView.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonView(v))
}

// jsonView returns v for JSON output with the snake_case names of its fields' CBOR tags (else
// JSON tags): the domain types carry CBOR tags only, and their Go field names would leak into
// scripts. Embedded structs are flattened; values that encode themselves as text (addresses,
// keys, hashes, quantities, times) keep that form; structs and maps are walked; everything else
// is left to encoding/json.
func jsonView(v any) any {
	return viewOf(reflect.ValueOf(v))
}

func viewOf(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		return viewOf(v.Elem())
	}
	if v.Type().Implements(textMarshaler) || reflect.PointerTo(v.Type()).Implements(textMarshaler) {
		return v.Interface()
	}
	switch v.Kind() {
	case reflect.Struct:
		out := make(map[string]any, v.NumField())
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag, ok := f.Tag.Lookup("cbor")
			if !ok {
				tag = f.Tag.Get("json")
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			if f.Anonymous && name == "" {
				if m, ok := viewOf(fv).(map[string]any); ok {
					for k, x := range m {
						out[k] = x
					}
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			out[name] = viewOf(fv)
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			out[fmt.Sprint(it.Key().Interface())] = viewOf(it.Value())
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = viewOf(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

// openTx loads the signing key the flags name and dials the node, for the commands that submit
// a transaction; the caller resets the signer and closes the client.
func openTx(nf *nodeFlags, sf *signerFlags) (*signature.MemorySigner, *grpcapi.Client, error) {
	signer, err := sf.load(nf.dataDir)
	if err != nil {
		return nil, nil, err
	}
	c, err := nf.dial()
	if err != nil {
		signer.Reset()
		return nil, nil, err
	}
	return signer, c, nil
}

// epochAt returns the epoch at height, for the commands that print state with its epoch.
func epochAt(ctx context.Context, c *grpcapi.Client, height int64) (beacon.EpochTime, error) {
	e, err := c.Epoch(ctx, height)
	if err != nil {
		return 0, fmt.Errorf("querying the epoch at height %d: %w", height, err)
	}
	return e.Epoch, nil
}
