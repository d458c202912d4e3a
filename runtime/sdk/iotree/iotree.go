// Package iotree is the layout of a round's IO tree (DESIGN.md §5), shared by whoever builds
// one: the transaction scheduler (the inputs-only tree whose root is the round's input_root),
// the runtime SDK (outputs and tags) and clients looking for a transaction's output.
//
// Keys and values:
//
//	'T' || H(tx) || 0x01   → cbor([tx, batch_order])   an input
//	'T' || H(tx) || 0x02   → cbor([output])            its output (Output below)
//	'E' || tag key || H(tx) → tag value                an event tag emitted by the transaction
//
// H is SHA-512/256 over the transaction's raw bytes. A batch may repeat an input; the tree
// holds it once, at its first position, and the SDK executes it once (InputWriteLog is the
// one place that decides this, so the scheduler and the SDK agree).
//
// The package is pure: no clock, randomness or I/O.
package iotree

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// Key prefixes and kinds of the IO tree.
const (
	// PrefixTx starts the keys of inputs and outputs.
	PrefixTx byte = 'T'
	// PrefixTag starts the keys of event tags.
	PrefixTag byte = 'E'
	// KindInput ends an input's key.
	KindInput byte = 0x01
	// KindOutput ends an output's key.
	KindOutput byte = 0x02
)

// InputKey returns the key of the input whose hash is txHash.
func InputKey(txHash hash.Hash) []byte { return txKey(txHash, KindInput) }

// OutputKey returns the key of the output of the input whose hash is txHash.
func OutputKey(txHash hash.Hash) []byte { return txKey(txHash, KindOutput) }

func txKey(txHash hash.Hash, kind byte) []byte {
	k := make([]byte, 0, 2+hash.Size)
	k = append(k, PrefixTx)
	k = append(k, txHash[:]...)
	return append(k, kind)
}

// TagKey returns the key of the tag tagKey emitted by the transaction whose hash is txHash.
func TagKey(tagKey []byte, txHash hash.Hash) []byte {
	k := make([]byte, 0, 1+len(tagKey)+hash.Size)
	k = append(k, PrefixTag)
	k = append(k, tagKey...)
	return append(k, txHash[:]...)
}

// Input is the value stored under an input's key: the raw transaction and its position in the
// batch. Its CBOR form is the array [tx, batch_order].
type Input struct {
	_          struct{} `cbor:",toarray"`
	Tx         []byte
	BatchOrder uint32
}

// Output is a transaction's outcome: Ok holds the runtime's CBOR-encoded result when it
// succeeded (CBOR null for no result), Error the coded error it failed with otherwise. Exactly
// one is set. Error messages are part of the IO root, so runtimes must build them
// deterministically.
type Output struct {
	Ok    cbor.RawMessage `cbor:"ok,omitempty"`
	Error *coded.Wire     `cbor:"error,omitempty"`
}

// outputEntry is the value stored under an output's key: the array [output].
type outputEntry struct {
	_      struct{} `cbor:",toarray"`
	Output Output
}

// EncodeOutput returns the stored form of out, cbor([out]).
func EncodeOutput(out *Output) []byte { return cbor.Marshal(&outputEntry{Output: *out}) }

// DecodeOutput decodes the stored form of an output strictly.
func DecodeOutput(data []byte) (*Output, error) {
	var e outputEntry
	if err := cbor.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("iotree: output: %w", err)
	}
	if (e.Output.Ok == nil) == (e.Output.Error == nil) {
		return nil, fmt.Errorf("iotree: output with %s, want exactly one of ok and error", describe(e.Output))
	}
	return &e.Output, nil
}

func describe(o Output) string {
	if o.Ok == nil && o.Error == nil {
		return "neither ok nor error"
	}
	return "both ok and error"
}

// InputWriteLog returns the entries of the inputs-only IO tree of a batch, sorted by key: one
// per distinct input, at its first position. The second result lists, for each input, whether
// it is the first occurrence of its bytes (false marks a repeat, which is not executed).
func InputWriteLog(inputs [][]byte) (writelog.WriteLog, []bool) {
	first := make([]bool, len(inputs))
	seen := make(map[hash.Hash]bool, len(inputs))
	wl := make(writelog.WriteLog, 0, len(inputs))
	for i, tx := range inputs {
		h := hash.Digest(tx)
		if seen[h] {
			continue
		}
		seen[h] = true
		first[i] = true
		wl = append(wl, writelog.LogEntry{
			Key:   InputKey(h),
			Value: cbor.Marshal(&Input{Tx: tx, BatchOrder: uint32(i)}),
		})
	}
	slices.SortFunc(wl, func(a, b writelog.LogEntry) int { return bytes.Compare(a.Key, b.Key) })
	return wl, first
}

// Inputs is a batch's inputs-only IO tree.
type Inputs struct {
	// Tree holds the inputs, committed at Root; its owner may go on to add outputs and tags,
	// and must Close it.
	Tree *mkvs.Tree
	// Root is the input root.
	Root node.Root
	// First says, per input, whether it is the first occurrence of its bytes in the batch.
	First []bool
}

// BuildInputs returns a new IO tree holding the inputs of a batch, committed as root version
// round of namespace ns.
func BuildInputs(ctx context.Context, ns namespace.Namespace, round uint64, inputs [][]byte) (*Inputs, error) {
	wl, first := InputWriteLog(inputs)
	t := mkvs.New(mkvs.WithRootType(node.RootTypeIO), mkvs.WithNodeCache(0))
	if err := t.ApplyWriteLog(ctx, wl); err != nil {
		t.Close()
		return nil, fmt.Errorf("iotree: inputs: %w", err)
	}
	_, root, _, err := t.Commit(ctx, ns, round)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("iotree: inputs: %w", err)
	}
	return &Inputs{Tree: t, Root: root, First: first}, nil
}
