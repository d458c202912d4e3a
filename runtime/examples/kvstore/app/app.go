// Package app is the logic of the example runtime kvstore (DESIGN.md §7): a key-value store
// whose transactions also move the runtime account's funds and govern its descriptor through
// consensus messages. It is a plain sdk.Runtime; the programs in ../cmd serve it over the host
// socket, and tests run it in-process through sdk.Dispatcher, the same path.
//
// Two versions are built from this source: version 1 (1.0.0) and version 2 (2.0.0), which adds
// the insert_many method that version 1 refuses with ErrUnsupportedMethod, so the upgrade path
// has something to show.
//
// State layout (one table):
//
//	'K' || key → value                     a user's key and value
//	'M'        → cbor(RoundResults)        the latest non-empty results of the runtime's
//	                                       consensus messages, recorded at the start of a batch
//
// Transactions (Tx) and their outputs:
//
//	insert{key, value}      → previous value or null; tag "kv.insert" = key
//	get{key}                → value or null
//	remove{key}             → previous value or null; tag "kv.remove" = key
//	insert_many{entries}    → number of entries (version 2)
//	transfer, withdraw, add_escrow, reclaim_escrow, update_runtime
//	                        → MessageOutput{index}: the message's index in the batch, under
//	                          which its result appears in the next round's results
//
// Queries: "get" {key} → value or null; "message_results" → the recorded RoundResults or null.
package app

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/version"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/runtime/sdk"
)

// State key prefixes.
const (
	prefixKey            byte = 'K'
	keyMessageResults         = "M"
	tagInsert                 = "kv.insert"
	tagRemove                 = "kv.remove"
	firstInsertManyMajor      = 2
)

// App is the kvstore runtime. It holds no state of its own and is safe for concurrent use.
type App struct {
	version version.Version
}

var (
	_ sdk.Runtime      = (*App)(nil)
	_ sdk.Prefetcher   = (*App)(nil)
	_ sdk.BatchStarter = (*App)(nil)
)

// New returns the kvstore at the given major version, 1 or 2.
func New(major uint16) (*App, error) {
	if major != 1 && major != 2 {
		return nil, fmt.Errorf("kvstore: no version %d, only 1 and 2", major)
	}
	return &App{version: version.Version{Major: major}}, nil
}

// MessageOutput is the output of a transaction that emits a consensus message.
type MessageOutput struct {
	Index uint32 `cbor:"index"`
}

// StateKey returns the state key of a user's key.
func StateKey(key []byte) []byte { return append([]byte{prefixKey}, key...) }

// Version returns 1.0.0 or 2.0.0.
func (a *App) Version() version.Version { return a.version }

// DecodeTx decodes strictly and refuses methods this version does not have.
func (a *App) DecodeTx(raw []byte) (sdk.Tx, error) {
	tx, err := DecodeTx(raw)
	if err != nil {
		return nil, err
	}
	if tx.InsertMany != nil && a.version.Major < firstInsertManyMajor {
		return nil, fmt.Errorf("%w: insert_many needs version %d, this is %s", ErrUnsupportedMethod, firstInsertManyMajor, a.version)
	}
	return tx, nil
}

// PrefetchKeys returns the state keys tx touches.
func (a *App) PrefetchKeys(t sdk.Tx) [][]byte {
	tx := t.(*Tx)
	switch {
	case tx.Insert != nil:
		return [][]byte{StateKey(tx.Insert.Key)}
	case tx.Get != nil:
		return [][]byte{StateKey(tx.Get.Key)}
	case tx.Remove != nil:
		return [][]byte{StateKey(tx.Remove.Key)}
	case tx.InsertMany != nil:
		keys := make([][]byte, len(tx.InsertMany.Entries))
		for i, e := range tx.InsertMany.Entries {
			keys[i] = StateKey(e.Key)
		}
		return keys
	}
	return nil
}

// CheckTx checks the arguments; the kvstore needs no state for that.
func (a *App) CheckTx(_ *sdk.TxContext, t sdk.Tx) error {
	return t.(*Tx).ValidateBasic()
}

// ExecuteTx executes one transaction.
func (a *App) ExecuteTx(ctx *sdk.TxContext, t sdk.Tx) (any, error) {
	tx := t.(*Tx)
	st := ctx.State()
	switch {
	case tx.Insert != nil:
		return a.insert(ctx, tx.Insert)
	case tx.Get != nil:
		return st.Get(StateKey(tx.Get.Key))
	case tx.Remove != nil:
		k := StateKey(tx.Remove.Key)
		old, err := st.Get(k)
		if err != nil {
			return nil, err
		}
		if err := st.Remove(k); err != nil {
			return nil, err
		}
		return old, ctx.EmitTag([]byte(tagRemove), tx.Remove.Key)
	case tx.InsertMany != nil:
		for i := range tx.InsertMany.Entries {
			e := &tx.InsertMany.Entries[i]
			if err := st.Insert(StateKey(e.Key), e.Value); err != nil {
				return nil, err
			}
		}
		return len(tx.InsertMany.Entries), nil
	}
	idx, err := ctx.EmitMessage(*tx.message())
	if err != nil {
		return nil, err
	}
	return &MessageOutput{Index: idx}, nil
}

func (a *App) insert(ctx *sdk.TxContext, kv *KeyValue) (any, error) {
	k := StateKey(kv.Key)
	old, err := ctx.State().Get(k)
	if err != nil {
		return nil, err
	}
	if err := ctx.State().Insert(k, kv.Value); err != nil {
		return nil, err
	}
	return old, ctx.EmitTag([]byte(tagInsert), kv.Key)
}

// BeginBatch records the latest non-empty results of the runtime's consensus messages.
func (a *App) BeginBatch(ctx *sdk.TxContext) error {
	results := ctx.RoundResults()
	if len(results.Messages) == 0 {
		return nil
	}
	return ctx.State().Insert([]byte(keyMessageResults), cbor.Marshal(&results))
}

// Query answers "get" and "message_results".
func (a *App) Query(ctx *sdk.QueryContext, method string, args []byte) (any, error) {
	switch method {
	case "get":
		var k Key
		if err := cbor.Unmarshal(args, &k); err != nil {
			return nil, fmt.Errorf("%w: get arguments: %w", ErrInvalidArgument, err)
		}
		if err := validateKey(k.Key); err != nil {
			return nil, err
		}
		return ctx.State().Get(StateKey(k.Key))
	case "message_results":
		raw, err := ctx.State().Get([]byte(keyMessageResults))
		if err != nil || raw == nil {
			return nil, err
		}
		var r roothash.RoundResults
		if err := cbor.UnmarshalTrusted(raw, &r); err != nil {
			return nil, fmt.Errorf("kvstore: stored message results: %w", err)
		}
		return &r, nil
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownQuery, method)
	}
}
