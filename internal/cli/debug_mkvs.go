package cli

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
)

func newDebugMKVSCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mkvs",
		Short: "Inspect the Merklized key-value store",
	}
	cmd.AddCommand(newDebugMKVSRootCommand(s))
	return cmd
}

func newDebugMKVSRootCommand(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "root",
		Short: "Print the root hash of the tree holding the key-value pairs read from stdin",
		Long: `Reads JSON lines {"key":"<hex>","value":"<hex>"} from standard input, inserts them
in order into an empty tree (a later line overrides an earlier one with the same key), commits
and prints the root hash in lowercase hex. Blank lines are skipped; no input gives the empty
root.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := mkvsRootFromJSONLines(cmd, s.In)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(s.Out, root)
			return err
		},
	}
}

// mkvsEntry is one input line of `atoll debug mkvs root`.
type mkvsEntry struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

func mkvsRootFromJSONLines(cmd *cobra.Command, in io.Reader) (string, error) {
	ctx := cmd.Context()
	tree := mkvs.New()
	defer tree.Close()
	sc := bufio.NewScanner(in)
	// A line holds at most a largest key and value in hex, plus the JSON around them.
	sc.Buffer(make([]byte, 0, 64<<10), 2*(node.MaxKeySize+node.MaxValueSize)+1024)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		key, value, err := parseMKVSEntry(text)
		if err != nil {
			return "", fmt.Errorf("line %d: %w", line, err)
		}
		if err := tree.Insert(ctx, key, value); err != nil {
			return "", fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading input: %w", err)
	}
	_, root, _, err := tree.Commit(ctx, namespace.Namespace{}, 0)
	if err != nil {
		return "", err
	}
	return root.Hash.String(), nil
}

func parseMKVSEntry(text []byte) (key, value []byte, err error) {
	var e mkvsEntry
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, nil, fmt.Errorf("bad JSON: %w", err)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("bad JSON: more than one object")
	}
	if e.Key == nil || e.Value == nil {
		return nil, nil, fmt.Errorf(`want {"key":"<hex>","value":"<hex>"}`)
	}
	if key, err = hex.DecodeString(*e.Key); err != nil {
		return nil, nil, fmt.Errorf("key: %w", err)
	}
	if value, err = hex.DecodeString(*e.Value); err != nil {
		return nil, nil, fmt.Errorf("value: %w", err)
	}
	return key, value, nil
}
