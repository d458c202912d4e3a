package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// Transaction methods of the roothash service.
const (
	// MethodExecutorCommit takes ExecutorCommit: one or more signed commitments for a round of
	// one runtime. Anyone may submit it; the commitments authenticate themselves.
	MethodExecutorCommit transaction.MethodName = "roothash.ExecutorCommit"
	// MethodProposerTimeout takes ProposerTimeout; the transaction signer is a worker's node
	// key.
	MethodProposerTimeout transaction.MethodName = "roothash.ProposerTimeout"
	// MethodSubmitEvidence takes SubmitEvidence; anyone may submit it.
	MethodSubmitEvidence transaction.MethodName = "roothash.SubmitEvidence"
)

// Methods lists every transaction method of the service.
var Methods = []transaction.MethodName{MethodExecutorCommit, MethodProposerTimeout, MethodSubmitEvidence}

// MaxCommitsPerTx bounds the commitments of one ExecutorCommit: a committee's workers and
// backups fit many times over.
const MaxCommitsPerTx = 256

// ExecutorCommit is the body of MethodExecutorCommit.
type ExecutorCommit struct {
	ID      namespace.Namespace  `cbor:"id"`
	Commits []ExecutorCommitment `cbor:"commits"`
}

// ValidateBasic checks that there are 1..MaxCommitsPerTx commitments.
func (c *ExecutorCommit) ValidateBasic() error {
	if n := len(c.Commits); n == 0 || n > MaxCommitsPerTx {
		return fmt.Errorf("%w: %d commitments, want 1..%d", ErrInvalidArgument, n, MaxCommitsPerTx)
	}
	return nil
}

// ProposerTimeout is the body of MethodProposerTimeout: a worker asks to arm the round timer
// of Round (latest round + 1) because the scheduler has not proposed.
type ProposerTimeout struct {
	ID    namespace.Namespace `cbor:"id"`
	Round uint64              `cbor:"round"`
}

// ValidateBasic checks nothing beyond the encoding; the round is checked against the state.
func (p *ProposerTimeout) ValidateBasic() error { return nil }

// SubmitEvidence is the body of MethodSubmitEvidence.
type SubmitEvidence struct {
	ID       namespace.Namespace `cbor:"id"`
	Evidence Evidence            `cbor:"evidence"`
}

// ValidateBasic checks that exactly one kind of evidence is set.
func (s *SubmitEvidence) ValidateBasic() error { return s.Evidence.ValidateBasic() }

// DecodeExecutorCommit strictly and canonically decodes an untrusted ExecutorCommit body and
// runs ValidateBasic. Decoding errors wrap transaction.ErrMalformedBody.
func DecodeExecutorCommit(raw []byte) (*ExecutorCommit, error) {
	var c ExecutorCommit
	if err := decodeBody(raw, &c); err != nil {
		return nil, err
	}
	return &c, c.ValidateBasic()
}

// DecodeProposerTimeout strictly and canonically decodes an untrusted ProposerTimeout body.
func DecodeProposerTimeout(raw []byte) (*ProposerTimeout, error) {
	var p ProposerTimeout
	if err := decodeBody(raw, &p); err != nil {
		return nil, err
	}
	return &p, p.ValidateBasic()
}

// DecodeSubmitEvidence strictly and canonically decodes an untrusted SubmitEvidence body and
// runs ValidateBasic.
func DecodeSubmitEvidence(raw []byte) (*SubmitEvidence, error) {
	var s SubmitEvidence
	if err := decodeBody(raw, &s); err != nil {
		return nil, err
	}
	return &s, s.ValidateBasic()
}

func decodeBody(raw []byte, dst any) error {
	if err := cbor.UnmarshalCanonical(raw, dst); err != nil {
		return fmt.Errorf("%w: %w", transaction.ErrMalformedBody, err)
	}
	return nil
}

// Query methods. Arguments and answers are CBOR.
const (
	// QueryLatestBlock takes RuntimeQuery and answers the runtime's latest block Header.
	QueryLatestBlock = "roothash.LatestBlock"
	// QueryBlock takes BlockQuery and answers the Header of that round, while it is among
	// the max_past_roots_stored latest.
	QueryBlock = "roothash.Block"
	// QueryRoundResults takes RuntimeQuery and answers the RoundResults of the latest Normal
	// block (what the next ExecuteTxBatch carries).
	QueryRoundResults = "roothash.RoundResults"
	// QueryRuntimeState takes RuntimeQuery and answers RuntimeState.
	QueryRuntimeState = "roothash.RuntimeState"
	// QueryParams takes nothing and answers ConsensusParameters.
	QueryParams = "roothash.Params"
)

// RuntimeQuery names a runtime.
type RuntimeQuery struct {
	ID namespace.Namespace `cbor:"id"`
}

// BlockQuery names a runtime block by round.
type BlockQuery struct {
	ID    namespace.Namespace `cbor:"id"`
	Round uint64              `cbor:"round"`
}
