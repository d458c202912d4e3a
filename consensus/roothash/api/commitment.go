package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
)

// Signing contexts of executor commitments. All are bound to the chain and the runtime
// (Bind), so a signature for one runtime is never valid for another.
var (
	// ProposedBatchContext is the context of the round scheduler's signature over a
	// ProposedBatch (the txn_sched_sig).
	ProposedBatchContext = signature.NewContext("atoll/roothash: proposed batch", signature.WithRuntimeSeparation())
	// ExecutorCommitmentContext is the context of a node's signature over its ComputeBody.
	ExecutorCommitmentContext = signature.NewContext("atoll/roothash: executor commitment", signature.WithRuntimeSeparation())
	// ComputeResultsHeaderContext is the context of the runtime attestation key's signature
	// over cbor(ComputeResultsHeader).
	ComputeResultsHeaderContext = signature.NewContext("atoll/roothash: compute results header", signature.WithRuntimeSeparation())
)

// Bind binds one of this service's contexts to the chain and the runtime. It panics when chain
// is zero (an unset chain context).
func Bind(ctx signature.Context, chain hash.Hash, runtime namespace.Namespace) signature.BoundContext {
	return ctx.ForChain(chain).ForRuntime(runtime)
}

// ProposedBatch is what the round's scheduler signs when it proposes a batch: the root of the
// inputs-only IO tree, the receipts for it, and the latest block header it executes on. The
// round is Header.Round + 1.
type ProposedBatch struct {
	InputRoot        hash.Hash          `cbor:"input_root"`
	InputStorageSigs []StorageSignature `cbor:"input_storage_sigs,omitempty"`
	Header           Header             `cbor:"header"`
}

// Round returns the round the batch is proposed for.
func (b *ProposedBatch) Round() uint64 { return b.Header.Round + 1 }

// SignProposedBatch signs b as the scheduler, giving the txn_sched_sig of the round's
// commitments. The runtime binding is the header's namespace.
func SignProposedBatch(signer signature.Signer, chain hash.Hash, b *ProposedBatch) (signature.Signature, error) {
	sig, err := signature.Sign(signer, Bind(ProposedBatchContext, chain, b.Header.Namespace), cbor.Marshal(b))
	if err != nil {
		return signature.Signature{}, err
	}
	return *sig, nil
}

// SignedProposedBatch is a proposed batch with its scheduler's signature, as kept in evidence.
type SignedProposedBatch struct {
	Batch     ProposedBatch       `cbor:"batch"`
	Signature signature.Signature `cbor:"signature"`
}

// Failure says why an executor could not compute a round's results.
type Failure uint8

const (
	// FailureNone marks a commitment to results.
	FailureNone Failure = 0
	// FailureUnknown marks a failure for an unspecified reason.
	FailureUnknown Failure = 1
	// FailureStateUnavailable marks a failure to obtain the state the round executes on.
	FailureStateUnavailable Failure = 2
)

// String returns the failure's name.
func (f Failure) String() string {
	switch f {
	case FailureNone:
		return "none"
	case FailureUnknown:
		return "unknown"
	case FailureStateUnavailable:
		return "state unavailable"
	default:
		return fmt.Sprintf("invalid(%d)", uint8(f))
	}
}

// Valid reports whether f is a known value.
func (f Failure) Valid() bool { return f <= FailureStateUnavailable }

// ComputeBody is what an executor signs for a round. A success (Failure = FailureNone)
// carries the results header, the receipts for its roots and, from the scheduler only, the
// round's messages; a failure carries only the header's round and previous hash, the
// txn_sched_sig and the input root with its receipts.
type ComputeBody struct {
	Header            ComputeResultsHeader    `cbor:"header"`
	Failure           Failure                 `cbor:"failure,omitempty"`
	TxnSchedSig       signature.Signature     `cbor:"txn_sched_sig"`
	InputRoot         hash.Hash               `cbor:"input_root"`
	InputStorageSigs  []StorageSignature      `cbor:"input_storage_sigs,omitempty"`
	StorageSignatures []StorageSignature      `cbor:"storage_signatures,omitempty"`
	RAKSig            *signature.RawSignature `cbor:"rak_sig,omitempty"`
	Messages          []Message               `cbor:"messages,omitempty"`
}

// IsFailure reports whether the body indicates a failure.
func (b *ComputeBody) IsFailure() bool { return b.Failure != FailureNone }

// SameResult reports whether a and b commit to the same result: the same failure value and
// the same results header. Receipts, signatures, messages and the input root are not
// compared: re-signing one result with fresh receipts is the same result.
func SameResult(a, b *ComputeBody) bool {
	return a.Failure == b.Failure && a.Header == b.Header
}

// Agree reports whether two commitments agree in the sense of the pool: the same input root
// and, for successes, equal results headers. A failure agrees with every failure (whatever
// its value) and with nothing else.
func Agree(a, b *ComputeBody) bool {
	if a.InputRoot != b.InputRoot || a.IsFailure() != b.IsFailure() {
		return false
	}
	return a.IsFailure() || a.Header == b.Header
}

// ProposedBatch rebuilds the batch that the body's txn_sched_sig must cover, given the latest
// block header.
func (b *ComputeBody) ProposedBatch(latest *Header) *ProposedBatch {
	return &ProposedBatch{InputRoot: b.InputRoot, InputStorageSigs: b.InputStorageSigs, Header: *latest}
}

// ValidateBasic checks what the body alone can show. It returns ErrMissingTxnSchedSig for a
// missing scheduler signature, ErrFailureWithResults for a failure carrying anything beyond
// round, previous hash, txn_sched_sig, input root and input receipts, and
// ErrMalformedCommitment for the rest. Counts, membership and signatures are checked against
// the chain's state by the commitment package.
func (b *ComputeBody) ValidateBasic() error {
	if !b.Failure.Valid() {
		return fmt.Errorf("%w: failure %s", ErrMalformedCommitment, b.Failure)
	}
	if b.TxnSchedSig.PublicKey == (signature.PublicKey{}) {
		return ErrMissingTxnSchedSig
	}
	if b.InputRoot.IsZero() {
		return fmt.Errorf("%w: zero input root", ErrMalformedCommitment)
	}
	if b.IsFailure() {
		switch {
		case b.Header.HasResults():
			return fmt.Errorf("%w: result roots", ErrFailureWithResults)
		case len(b.StorageSignatures) != 0:
			return fmt.Errorf("%w: storage receipts", ErrFailureWithResults)
		case b.RAKSig != nil:
			return fmt.Errorf("%w: RAK signature", ErrFailureWithResults)
		case len(b.Messages) != 0:
			return fmt.Errorf("%w: messages", ErrFailureWithResults)
		}
		return nil
	}
	if b.Header.IORoot.IsZero() || b.Header.StateRoot.IsZero() || b.Header.MessagesHash.IsZero() {
		return fmt.Errorf("%w: zero root or messages hash in a success", ErrMalformedCommitment)
	}
	for i := range b.Messages {
		if err := b.Messages[i].ValidateBasic(); err != nil {
			return fmt.Errorf("%w: message %d: %w", ErrMalformedCommitment, i, err)
		}
	}
	return nil
}

// ExecutorCommitment is a signed ComputeBody: the signature envelope of DESIGN.md §12 in the
// context ExecutorCommitmentContext. The blob must be the body's canonical encoding.
type ExecutorCommitment struct {
	Blob      []byte              `cbor:"blob"`
	Signature signature.Signature `cbor:"signature"`
}

// SignExecutorCommitment signs body as the executor node signer for the runtime on the chain.
func SignExecutorCommitment(signer signature.Signer, chain hash.Hash, runtime namespace.Namespace, body *ComputeBody) (*ExecutorCommitment, error) {
	s, err := signature.SignBlob(signer, Bind(ExecutorCommitmentContext, chain, runtime), body)
	if err != nil {
		return nil, err
	}
	return &ExecutorCommitment{Blob: s.Blob, Signature: s.Signature}, nil
}

// DecodeExecutorCommitment strictly decodes an untrusted commitment envelope. It checks
// neither the body nor the signature.
func DecodeExecutorCommitment(data []byte) (*ExecutorCommitment, error) {
	var c ExecutorCommitment
	if err := cbor.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedCommitment, err)
	}
	return &c, nil
}

// Node returns the signer's public key (not yet verified).
func (c *ExecutorCommitment) Node() signature.PublicKey { return c.Signature.PublicKey }

// Body decodes the blob canonically without checking the signature: callers that verify in
// batches check it apart. The error wraps ErrMalformedCommitment.
func (c *ExecutorCommitment) Body() (*ComputeBody, error) {
	var b ComputeBody
	if err := cbor.UnmarshalCanonical(c.Blob, &b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedCommitment, err)
	}
	return &b, nil
}

// Open verifies the signature for the runtime on the chain, then decodes the body. It does
// not run ValidateBasic.
func (c *ExecutorCommitment) Open(chain hash.Hash, runtime namespace.Namespace) (*ComputeBody, error) {
	if err := signature.Verify(c.Signature.PublicKey, Bind(ExecutorCommitmentContext, chain, runtime), c.Blob, c.Signature.Signature); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	return c.Body()
}

// SignResultsHeader signs h with a runtime attestation key, giving a body's rak_sig.
func SignResultsHeader(rak signature.Signer, chain hash.Hash, runtime namespace.Namespace, h *ComputeResultsHeader) (signature.RawSignature, error) {
	return rak.Sign(Bind(ComputeResultsHeaderContext, chain, runtime), cbor.Marshal(h))
}
