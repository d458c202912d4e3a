package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
)

// Evidence shows that a node equivocated. Exactly one field is set.
type Evidence struct {
	Executor      *ExecutorEquivocation      `cbor:"executor,omitempty"`
	ProposedBatch *ProposedBatchEquivocation `cbor:"proposed_batch,omitempty"`
}

// ExecutorEquivocation is two commitments by one signer for the same runtime, round and
// previous hash whose results (or failure values) differ (SameResult is false).
type ExecutorEquivocation struct {
	CommitA ExecutorCommitment `cbor:"commit_a"`
	CommitB ExecutorCommitment `cbor:"commit_b"`
}

// ProposedBatchEquivocation is two signatures by one scheduler over proposed batches for the
// same round with different input roots.
type ProposedBatchEquivocation struct {
	BatchA SignedProposedBatch `cbor:"batch_a"`
	BatchB SignedProposedBatch `cbor:"batch_b"`
}

// DecodeEvidence strictly decodes untrusted evidence and checks that exactly one kind is set.
func DecodeEvidence(data []byte) (*Evidence, error) {
	var ev Evidence
	if err := cbor.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvidence, err)
	}
	if err := ev.ValidateBasic(); err != nil {
		return nil, err
	}
	return &ev, nil
}

// ValidateBasic checks that exactly one kind of evidence is set.
func (ev *Evidence) ValidateBasic() error {
	if (ev.Executor == nil) == (ev.ProposedBatch == nil) {
		return fmt.Errorf("%w: want exactly one of executor, proposed_batch", ErrMalformedEvidence)
	}
	return nil
}

// OffenceKind says what a node equivocated on.
type OffenceKind uint8

const (
	// OffenceExecutor is two differing executor commitments.
	OffenceExecutor OffenceKind = 1
	// OffenceProposedBatch is two scheduler signatures over different batches.
	OffenceProposedBatch OffenceKind = 2
)

// String returns the kind's name.
func (k OffenceKind) String() string {
	switch k {
	case OffenceExecutor:
		return "executor"
	case OffenceProposedBatch:
		return "proposed batch"
	default:
		return fmt.Sprintf("invalid(%d)", uint8(k))
	}
}

// Offence is what verified evidence proves. Offences are keyed by (RuntimeID, Round, Signer)
// and slashed once, whatever their kind.
type Offence struct {
	RuntimeID namespace.Namespace
	Round     uint64
	Signer    signature.PublicKey
	Kind      OffenceKind
}

// EquivocationParams is the chain state evidence is judged against.
type EquivocationParams struct {
	ChainContext hash.Hash
	RuntimeID    namespace.Namespace
	// CurrentRound is the round being executed: the latest block's round + 1.
	CurrentRound uint64
	// MaxEvidenceAge is how many rounds back evidence is accepted: evidence for round r is
	// too old when r + MaxEvidenceAge < CurrentRound.
	MaxEvidenceAge uint64
}

// VerifyEquivocation checks evidence for the runtime and returns the offence it proves. It is
// pure. Errors: ErrMalformedEvidence (not exactly one kind), ErrEvidenceTooOld, and
// ErrInvalidEvidence for everything else (bad signatures, different signers, rounds or
// previous blocks, the same result or input root, a round after CurrentRound).
//
// It does not check that the signer belonged to the round's committee: committing or
// proposing twice is an offence whoever signs. Whether the offence was already slashed is the
// caller's to track.
func VerifyEquivocation(p *EquivocationParams, ev *Evidence) (*Offence, error) {
	if err := ev.ValidateBasic(); err != nil {
		return nil, err
	}
	if p.ChainContext.IsZero() {
		return nil, fmt.Errorf("%w: zero chain context", ErrInvalidEvidence)
	}
	var (
		off *Offence
		err error
	)
	if ev.Executor != nil {
		off, err = verifyExecutorEquivocation(p, ev.Executor)
	} else {
		off, err = verifyProposedBatchEquivocation(p, ev.ProposedBatch)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case off.Round > p.CurrentRound:
		return nil, fmt.Errorf("%w: round %d is after the current round %d", ErrInvalidEvidence, off.Round, p.CurrentRound)
	case off.Round+p.MaxEvidenceAge < p.CurrentRound:
		return nil, fmt.Errorf("%w: round %d, current round %d, max age %d", ErrEvidenceTooOld, off.Round, p.CurrentRound, p.MaxEvidenceAge)
	}
	return off, nil
}

func verifyExecutorEquivocation(p *EquivocationParams, ev *ExecutorEquivocation) (*Offence, error) {
	a, b := &ev.CommitA, &ev.CommitB
	if a.Node() != b.Node() {
		return nil, fmt.Errorf("%w: commitments by %s and %s", ErrInvalidEvidence, a.Node(), b.Node())
	}
	bctx := Bind(ExecutorCommitmentContext, p.ChainContext, p.RuntimeID)
	bodies := make([]*ComputeBody, 2)
	for i, c := range []*ExecutorCommitment{a, b} {
		body, err := c.Body()
		if err != nil {
			return nil, fmt.Errorf("%w: commitment %d: %w", ErrInvalidEvidence, i, err)
		}
		if err := body.ValidateBasic(); err != nil {
			return nil, fmt.Errorf("%w: commitment %d: %w", ErrInvalidEvidence, i, err)
		}
		bodies[i] = body
	}
	ha, hb := &bodies[0].Header, &bodies[1].Header
	switch {
	case ha.Round != hb.Round:
		return nil, fmt.Errorf("%w: rounds %d and %d", ErrInvalidEvidence, ha.Round, hb.Round)
	case ha.PreviousHash != hb.PreviousHash:
		return nil, fmt.Errorf("%w: different previous blocks", ErrInvalidEvidence)
	case SameResult(bodies[0], bodies[1]):
		return nil, fmt.Errorf("%w: both commitments have the same result", ErrInvalidEvidence)
	}
	bv := signature.NewBatchVerifier(2)
	bv.AddSignature(bctx, a.Blob, &a.Signature)
	bv.AddSignature(bctx, b.Blob, &b.Signature)
	if ok, _ := bv.Verify(nil); !ok {
		return nil, fmt.Errorf("%w: a commitment signature does not verify", ErrInvalidEvidence)
	}
	return &Offence{RuntimeID: p.RuntimeID, Round: ha.Round, Signer: a.Node(), Kind: OffenceExecutor}, nil
}

func verifyProposedBatchEquivocation(p *EquivocationParams, ev *ProposedBatchEquivocation) (*Offence, error) {
	a, b := &ev.BatchA, &ev.BatchB
	switch {
	case a.Signature.PublicKey != b.Signature.PublicKey:
		return nil, fmt.Errorf("%w: batches signed by %s and %s", ErrInvalidEvidence, a.Signature.PublicKey, b.Signature.PublicKey)
	case a.Batch.Header.Namespace != p.RuntimeID || b.Batch.Header.Namespace != p.RuntimeID:
		return nil, fmt.Errorf("%w: batch for another runtime", ErrInvalidEvidence)
	case a.Batch.Round() != b.Batch.Round():
		return nil, fmt.Errorf("%w: rounds %d and %d", ErrInvalidEvidence, a.Batch.Round(), b.Batch.Round())
	case a.Batch.InputRoot == b.Batch.InputRoot:
		return nil, fmt.Errorf("%w: both batches have the same input root", ErrInvalidEvidence)
	}
	bctx := Bind(ProposedBatchContext, p.ChainContext, p.RuntimeID)
	bv := signature.NewBatchVerifier(2)
	bv.AddSignature(bctx, cbor.Marshal(&a.Batch), &a.Signature)
	bv.AddSignature(bctx, cbor.Marshal(&b.Batch), &b.Signature)
	if ok, _ := bv.Verify(nil); !ok {
		return nil, fmt.Errorf("%w: a batch signature does not verify", ErrInvalidEvidence)
	}
	return &Offence{RuntimeID: p.RuntimeID, Round: a.Batch.Round(), Signer: a.Signature.PublicKey, Kind: OffenceProposedBatch}, nil
}
