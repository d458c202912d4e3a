package app

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// ModuleName is the module of the kvstore's coded errors.
const ModuleName = "kvstore"

// Coded errors: they reach clients in CheckTx results, transaction outputs and query errors.
var (
	// ErrMalformedTx is for bytes that are not exactly one canonical kvstore transaction.
	ErrMalformedTx = coded.New(ModuleName, 1, "malformed transaction")
	// ErrUnsupportedMethod is for a method this version does not have (insert_many before
	// version 2).
	ErrUnsupportedMethod = coded.New(ModuleName, 2, "method not supported by this version")
	// ErrInvalidArgument is for a transaction or query whose arguments break the limits below.
	ErrInvalidArgument = coded.New(ModuleName, 3, "invalid argument")
	// ErrUnknownQuery is for a query method the kvstore does not have.
	ErrUnknownQuery = coded.New(ModuleName, 4, "unknown query method")
)

// Limits on transactions.
const (
	// MaxTxSize caps an encoded transaction.
	MaxTxSize = 256 << 10
	// MaxKeySize caps a key; keys are at least one byte.
	MaxKeySize = 1 << 10
	// MaxValueSize caps a value.
	MaxValueSize = 64 << 10
	// MaxInsertMany caps the entries of one insert_many.
	MaxInsertMany = 64
)

// Tx is a kvstore transaction: a nonce and exactly one method. Its wire form is the canonical
// CBOR map of this struct, e.g. {"nonce": 7, "insert": {"key": h'6b', "value": h'76'}}. The
// nonce is free for the client to choose; it only makes otherwise identical transactions
// distinct (the IO tree keys transactions by hash).
type Tx struct {
	Nonce uint64 `cbor:"nonce"`

	Insert     *KeyValue   `cbor:"insert,omitempty"`
	Get        *Key        `cbor:"get,omitempty"`
	Remove     *Key        `cbor:"remove,omitempty"`
	InsertMany *InsertMany `cbor:"insert_many,omitempty"` // version 2 and later

	// Consensus messages, sent from the runtime's staking account.
	Transfer      *staking.Transfer      `cbor:"transfer,omitempty"`
	Withdraw      *staking.Withdraw      `cbor:"withdraw,omitempty"`
	AddEscrow     *staking.Escrow        `cbor:"add_escrow,omitempty"`
	ReclaimEscrow *staking.ReclaimEscrow `cbor:"reclaim_escrow,omitempty"`
	UpdateRuntime *UpdateRuntime         `cbor:"update_runtime,omitempty"`
}

// Key names one key.
type Key struct {
	Key []byte `cbor:"key"`
}

// KeyValue sets one key.
type KeyValue struct {
	Key   []byte `cbor:"key"`
	Value []byte `cbor:"value"`
}

// InsertMany sets several keys in order (version 2).
type InsertMany struct {
	Entries []KeyValue `cbor:"entries"`
}

// UpdateRuntime replaces the runtime's descriptor (runtime governance): Descriptor is its
// canonical CBOR, which the registry decodes and checks when the message executes.
type UpdateRuntime struct {
	Descriptor cbor.RawMessage `cbor:"descriptor"`
}

// Method returns the name of the method set in tx ("insert", ...), or "" unless exactly one is.
func (tx *Tx) Method() string {
	name, n := "", 0
	for _, m := range [...]struct {
		name string
		set  bool
	}{
		{"insert", tx.Insert != nil},
		{"get", tx.Get != nil},
		{"remove", tx.Remove != nil},
		{"insert_many", tx.InsertMany != nil},
		{"transfer", tx.Transfer != nil},
		{"withdraw", tx.Withdraw != nil},
		{"add_escrow", tx.AddEscrow != nil},
		{"reclaim_escrow", tx.ReclaimEscrow != nil},
		{"update_runtime", tx.UpdateRuntime != nil},
	} {
		if m.set {
			name = m.name
			n++
		}
	}
	if n != 1 {
		return ""
	}
	return name
}

// Encode returns tx's wire form.
func (tx *Tx) Encode() []byte { return cbor.Marshal(tx) }

// DecodeTx decodes a transaction strictly: at most MaxTxSize bytes of canonical CBOR, no
// unknown or repeated fields, exactly one method. It does not check arguments (ValidateBasic).
func DecodeTx(raw []byte) (*Tx, error) {
	if len(raw) > MaxTxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformedTx, len(raw), MaxTxSize)
	}
	var tx Tx
	if err := cbor.UnmarshalCanonical(raw, &tx); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedTx, err)
	}
	if tx.Method() == "" {
		return nil, fmt.Errorf("%w: want exactly one method", ErrMalformedTx)
	}
	if tx.UpdateRuntime != nil && tx.UpdateRuntime.Descriptor == nil {
		return nil, fmt.Errorf("%w: update_runtime without a descriptor", ErrMalformedTx)
	}
	return &tx, nil
}

// ValidateBasic checks the arguments of tx alone.
func (tx *Tx) ValidateBasic() error {
	switch {
	case tx.Insert != nil:
		return tx.Insert.validate()
	case tx.Get != nil:
		return validateKey(tx.Get.Key)
	case tx.Remove != nil:
		return validateKey(tx.Remove.Key)
	case tx.InsertMany != nil:
		n := len(tx.InsertMany.Entries)
		if n == 0 || n > MaxInsertMany {
			return fmt.Errorf("%w: insert_many of %d entries, want 1 to %d", ErrInvalidArgument, n, MaxInsertMany)
		}
		for i := range tx.InsertMany.Entries {
			if err := tx.InsertMany.Entries[i].validate(); err != nil {
				return fmt.Errorf("entry %d: %w", i, err)
			}
		}
		return nil
	case tx.AddEscrow != nil:
		return wrapInvalid(tx.AddEscrow.ValidateBasic())
	case tx.ReclaimEscrow != nil:
		return wrapInvalid(tx.ReclaimEscrow.ValidateBasic())
	case tx.UpdateRuntime != nil:
		return wrapInvalid(tx.message().ValidateBasic())
	}
	return nil
}

func wrapInvalid(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
}

func (kv *KeyValue) validate() error {
	if err := validateKey(kv.Key); err != nil {
		return err
	}
	if len(kv.Value) > MaxValueSize {
		return fmt.Errorf("%w: value of %d bytes, at most %d", ErrInvalidArgument, len(kv.Value), MaxValueSize)
	}
	return nil
}

func validateKey(key []byte) error {
	if len(key) == 0 || len(key) > MaxKeySize {
		return fmt.Errorf("%w: key of %d bytes, want 1 to %d", ErrInvalidArgument, len(key), MaxKeySize)
	}
	return nil
}

// message returns the consensus message tx emits, or nil for a state method.
func (tx *Tx) message() *roothash.Message {
	switch {
	case tx.Transfer != nil:
		return &roothash.Message{Staking: &roothash.StakingMessage{Transfer: tx.Transfer}}
	case tx.Withdraw != nil:
		return &roothash.Message{Staking: &roothash.StakingMessage{Withdraw: tx.Withdraw}}
	case tx.AddEscrow != nil:
		return &roothash.Message{Staking: &roothash.StakingMessage{AddEscrow: tx.AddEscrow}}
	case tx.ReclaimEscrow != nil:
		return &roothash.Message{Staking: &roothash.StakingMessage{ReclaimEscrow: tx.ReclaimEscrow}}
	case tx.UpdateRuntime != nil:
		return &roothash.Message{Registry: &roothash.RegistryMessage{UpdateRuntime: tx.UpdateRuntime.Descriptor}}
	}
	return nil
}
