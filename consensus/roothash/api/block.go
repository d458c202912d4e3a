// Package api defines the roothash service's types: runtime block headers, the results header
// that executor commitments agree on, the messages a runtime emits for the consensus layer,
// and the results of executing them; executor commitments (ComputeBody, ExecutorCommitment),
// the scheduler's ProposedBatch, storage receipts (ReceiptBody and its context, shared with
// the storage nodes that sign them), equivocation evidence with VerifyEquivocation, the
// service's events and its coded errors (module "roothash").
//
// The package is pure: it reads no clock, draws no randomness and does no I/O (no network,
// processes or disk). Everything that depends on time, height or epoch takes it as an argument.
// It imports no consensus engine or storage.
package api

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
)

// HeaderVersion is the version of the Header format carried in every block header.
const HeaderVersion uint16 = 0

var (
	// ErrMalformedHeader is returned when a header fails its basic checks.
	ErrMalformedHeader = errors.New("roothash: malformed block header")
	// ErrMalformedSignature is returned when decoding a storage signature whose key or
	// signature has the wrong length.
	ErrMalformedSignature = errors.New("roothash: malformed storage signature")
)

// HeaderType says why a block was made.
type HeaderType uint8

const (
	// HeaderTypeInvalid is the zero value and never valid.
	HeaderTypeInvalid HeaderType = 0
	// HeaderTypeNormal is a block finalized from executor commitments.
	HeaderTypeNormal HeaderType = 1
	// HeaderTypeRoundFailed is a block made when a round failed; it carries the previous
	// roots forward.
	HeaderTypeRoundFailed HeaderType = 2
	// HeaderTypeEpochTransition is a block made at an epoch transition; it carries the
	// previous roots forward.
	HeaderTypeEpochTransition HeaderType = 3
	// HeaderTypeSuspended is a block made when the runtime is suspended; it carries the
	// previous roots forward.
	HeaderTypeSuspended HeaderType = 4
)

// String returns the type's name.
func (t HeaderType) String() string {
	switch t {
	case HeaderTypeNormal:
		return "normal"
	case HeaderTypeRoundFailed:
		return "round failed"
	case HeaderTypeEpochTransition:
		return "epoch transition"
	case HeaderTypeSuspended:
		return "suspended"
	default:
		return fmt.Sprintf("invalid(%d)", uint8(t))
	}
}

// Valid reports whether t is a known header type.
func (t HeaderType) Valid() bool { return t >= HeaderTypeNormal && t <= HeaderTypeSuspended }

const (
	publicKeySize = 32
	signatureSize = 64
)

// StorageSignature is a storage-committee member's receipt signature: its node public key and
// an Ed25519 signature. Decoding rejects a key or signature of the wrong length.
//
// It stands in for the signature package's {public_key, signature} pair and has the same CBOR
// form, so switching to that type is not a wire change.
type StorageSignature struct {
	PublicKey [publicKeySize]byte `cbor:"public_key"`
	Signature [signatureSize]byte `cbor:"signature"`
}

// storageSignatureWire is StorageSignature's CBOR form with lengths left open, so that
// UnmarshalCBOR can reject wrong lengths (the CBOR library silently pads or truncates byte
// strings decoded into arrays).
type storageSignatureWire struct {
	PublicKey []byte `cbor:"public_key"`
	Signature []byte `cbor:"signature"`
}

// UnmarshalCBOR decodes a storage signature strictly.
func (s *StorageSignature) UnmarshalCBOR(data []byte) error {
	var w storageSignatureWire
	if err := cbor.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedSignature, err)
	}
	if len(w.PublicKey) != publicKeySize || len(w.Signature) != signatureSize {
		return fmt.Errorf("%w: key of %d bytes and signature of %d bytes, want %d and %d",
			ErrMalformedSignature, len(w.PublicKey), len(w.Signature), publicKeySize, signatureSize)
	}
	copy(s.PublicKey[:], w.PublicKey)
	copy(s.Signature[:], w.Signature)
	return nil
}

// Header is a runtime block header. Blocks of every type advance the round by one; non-Normal
// blocks carry the previous IO and state roots forward and have no storage signatures.
//
// Timestamp is the consensus block time in Unix seconds, given by the caller that makes the
// block.
type Header struct {
	Version           uint16              `cbor:"version"`
	Namespace         namespace.Namespace `cbor:"namespace"`
	Round             uint64              `cbor:"round"`
	Timestamp         uint64              `cbor:"timestamp"`
	HeaderType        HeaderType          `cbor:"header_type"`
	PreviousHash      hash.Hash           `cbor:"previous_hash"`
	IORoot            hash.Hash           `cbor:"io_root"`
	StateRoot         hash.Hash           `cbor:"state_root"`
	MessagesHash      hash.Hash           `cbor:"messages_hash"`
	StorageSignatures []StorageSignature  `cbor:"storage_signatures,omitempty"`
}

// Hash returns the block hash, H(cbor(header)).
func (h *Header) Hash() hash.Hash { return hash.DigestCBOR(h) }

// ValidateBasic checks what a header alone can show: a known version and type, and no storage
// signatures on a non-Normal block.
func (h *Header) ValidateBasic() error {
	if h.Version != HeaderVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrMalformedHeader, h.Version, HeaderVersion)
	}
	if !h.HeaderType.Valid() {
		return fmt.Errorf("%w: header type %s", ErrMalformedHeader, h.HeaderType)
	}
	if h.HeaderType != HeaderTypeNormal && len(h.StorageSignatures) != 0 {
		return fmt.Errorf("%w: %s block with storage signatures", ErrMalformedHeader, h.HeaderType)
	}
	return nil
}

// IsParentOf reports whether h is the block that the round with results child executes on:
// child's round is h's round + 1 and its previous hash is h's hash.
func (h *Header) IsParentOf(child *ComputeResultsHeader) bool {
	return child.Round == h.Round+1 && child.PreviousHash == h.Hash()
}

// ComputeResultsHeader is what the executors of a round compute and agree on: the round, the
// hash of the block it executes on, and the resulting roots and messages hash.
//
// A failure commitment (DESIGN.md §3) carries only Round and PreviousHash; its roots and
// messages hash are left zero (IsZero), which no real root is.
type ComputeResultsHeader struct {
	Round        uint64    `cbor:"round"`
	PreviousHash hash.Hash `cbor:"previous_hash"`
	IORoot       hash.Hash `cbor:"io_root"`
	StateRoot    hash.Hash `cbor:"state_root"`
	MessagesHash hash.Hash `cbor:"messages_hash"`
}

// EncodedHash returns H(cbor(header)).
func (h *ComputeResultsHeader) EncodedHash() hash.Hash { return hash.DigestCBOR(h) }

// HasResults reports whether any of the result roots or the messages hash is set, which a
// failure commitment's header must not have.
func (h *ComputeResultsHeader) HasResults() bool {
	return !h.IORoot.IsZero() || !h.StateRoot.IsZero() || !h.MessagesHash.IsZero()
}

// MessageEvent is the result of executing one runtime message at finalization: Index is the
// message's position in the round's list; Module and Code are those of the coded error it
// failed with (empty and zero on success); Result is the method's CBOR result, if any.
type MessageEvent struct {
	Module string          `cbor:"module,omitempty"`
	Code   uint32          `cbor:"code,omitempty"`
	Index  uint32          `cbor:"index"`
	Result cbor.RawMessage `cbor:"result,omitempty"`
}

// IsSuccess reports whether the message executed without error.
func (e *MessageEvent) IsSuccess() bool { return e.Code == 0 }

// RoundResults are the results of the last Normal round's runtime messages, handed to the
// runtime with every ExecuteTxBatch until the next Normal block.
type RoundResults struct {
	Messages []MessageEvent `cbor:"messages,omitempty"`
}
