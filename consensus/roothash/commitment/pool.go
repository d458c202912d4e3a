package commitment

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// errInvalidConfig marks a PoolConfig the caller built wrongly (a broken node).
var errInvalidConfig = errors.New("commitment: invalid pool configuration")

// Params are the runtime's executor parameters that govern a round, from the descriptor
// snapshot of the current epoch.
type Params struct {
	// GroupBackupSize is the configured backup count (executor.group_backup_size); the backup
	// quorum is GroupBackupSize/2 + 1 however many backups were elected.
	GroupBackupSize uint64 `cbor:"group_backup_size"`
	// AllowedStragglers is how many workers other than the scheduler may be missing at the
	// round timeout.
	AllowedStragglers uint64 `cbor:"allowed_stragglers"`
	// RoundTimeout is the round timeout in consensus blocks (≥ 1).
	RoundTimeout int64 `cbor:"round_timeout"`
	// ProposeBatchTimeout is how many blocks after the latest runtime block a worker may send
	// a proposer timeout (≥ 0).
	ProposeBatchTimeout int64 `cbor:"propose_batch_timeout"`
}

// PoolConfig fixes what a pool decides: the round after Latest, executed by Committee.
type PoolConfig struct {
	// Latest is the runtime's latest block; the pool's round is Latest.Round + 1 and the
	// runtime is Latest.Namespace.
	Latest api.Header `cbor:"latest"`
	// LatestHeight is the consensus height at which Latest was made.
	LatestHeight int64     `cbor:"latest_height"`
	Committee    Committee `cbor:"committee"`
	Params       Params    `cbor:"params"`
}

// Round returns the round the pool decides.
func (c *PoolConfig) Round() uint64 { return c.Latest.Round + 1 }

func (c *PoolConfig) validate() error {
	if err := c.Latest.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", errInvalidConfig, err)
	}
	if err := c.Committee.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", errInvalidConfig, err)
	}
	if c.Params.RoundTimeout < 1 || c.Params.ProposeBatchTimeout < 0 {
		return fmt.Errorf("%w: round_timeout %d, propose_batch_timeout %d", errInvalidConfig, c.Params.RoundTimeout, c.Params.ProposeBatchTimeout)
	}
	return nil
}

// Timer is the round's armed timer: armed at height ArmedAt, it fires at Deadline.
type Timer struct {
	ArmedAt  int64 `cbor:"armed_at"`
	Deadline int64 `cbor:"deadline"`
}

// Discrepancy records a declared discrepancy: the height it was declared at and whether the
// round timeout declared it.
type Discrepancy struct {
	DeclaredAt int64 `cbor:"declared_at"`
	Timeout    bool  `cbor:"timeout,omitempty"`
}

// Record is a commitment held by the pool: the verified body with its signature (the signed
// blob is the body's canonical encoding) and the signer's role.
type Record struct {
	Role      Role                `cbor:"role"`
	Body      api.ComputeBody     `cbor:"body"`
	Signature signature.Signature `cbor:"signature"`
}

// Node returns the record's signer.
func (r *Record) Node() signature.PublicKey { return r.Signature.PublicKey }

// Commitment rebuilds the signed envelope.
func (r *Record) Commitment() api.ExecutorCommitment {
	return api.ExecutorCommitment{Blob: cbor.Marshal(&r.Body), Signature: r.Signature}
}

// Pool is the commitment pool of one round. Its exported fields are its CBOR-encoded state;
// change it only through its methods. A new block of any type replaces it (NewPool).
type Pool struct {
	Config PoolConfig `cbor:"config"`
	// Commitments holds at most one commitment per node, in arrival order.
	Commitments []Record     `cbor:"commitments,omitempty"`
	Timer       *Timer       `cbor:"timer,omitempty"`
	Discrepancy *Discrepancy `cbor:"discrepancy,omitempty"`
	// Decided is StatusFinalized or StatusFailed once the round is decided, else zero.
	Decided Status `cbor:"decided,omitempty"`
	// BatchEquivocationReported is set once the scheduler's signatures over two input roots
	// were reported, so that they are reported once.
	BatchEquivocationReported bool `cbor:"batch_equivocation_reported,omitempty"`
}

// NewPool returns the empty pool of the round after cfg.Latest.
func NewPool(cfg PoolConfig) (*Pool, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Pool{Config: cfg}, nil
}

// Encode returns the pool's canonical CBOR encoding, for consensus state.
func (p *Pool) Encode() []byte { return cbor.Marshal(p) }

// DecodePool decodes a pool that Encode wrote to consensus state.
func DecodePool(data []byte) (*Pool, error) {
	var p Pool
	if err := cbor.UnmarshalTrusted(data, &p); err != nil {
		return nil, fmt.Errorf("commitment: decoding pool: %w", err)
	}
	if err := p.Config.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Status returns the pool's status.
func (p *Pool) Status() Status {
	switch {
	case p.Decided != 0:
		return p.Decided
	case p.Discrepancy != nil:
		return StatusDiscrepancy
	default:
		return StatusWaiting
	}
}

// IsEmpty reports whether the pool holds no commitment and its timer is not armed.
func (p *Pool) IsEmpty() bool { return len(p.Commitments) == 0 && p.Timer == nil }

// NextTimeout returns the height at which CheckTimeout has work to do, if any: the round
// timeout, or the backups' deadline during a discrepancy.
func (p *Pool) NextTimeout() (int64, bool) {
	if p.Decided != 0 || p.Timer == nil {
		return 0, false
	}
	return p.Timer.Deadline, true
}

// AddCommitment adds a verified commitment at consensus height height and decides what it
// can. Errors (the commitment is rejected and the pool unchanged): ErrRoundDecided;
// ErrWrongRound, ErrWrongPreviousHash, ErrNotInCommittee or ErrNotScheduler when v was
// verified against another round or committee; ErrBackupOutsideDiscrepancy for a backup before
// a discrepancy.
//
// A node's second commitment is never counted: with the same result (SameResult) it is
// ignored, otherwise it is reported in Outcome.Equivocations. A commitment over an input root
// other than the scheduler's is kept but neither votes nor is slashed; the first time two input
// roots meet, the scheduler's two signatures are reported in Outcome.Equivocations.
func (p *Pool) AddCommitment(height int64, v *Verified) (*Outcome, error) {
	if p.Decided != 0 {
		return nil, fmt.Errorf("%w: round %d", api.ErrRoundDecided, p.Config.Round())
	}
	if err := p.checkVerified(v); err != nil {
		return nil, err
	}
	body, node := v.Body(), v.Node()
	role := p.Config.Committee.Role(node)
	if role == RoleBackup && p.Discrepancy == nil {
		return nil, fmt.Errorf("%w: %s", api.ErrBackupOutsideDiscrepancy, node)
	}
	out := &Outcome{}
	if prev := p.record(node); prev != nil {
		if !api.SameResult(&prev.Body, body) {
			out.Equivocations = append(out.Equivocations, api.Evidence{Executor: &api.ExecutorEquivocation{
				CommitA: prev.Commitment(),
				CommitB: *v.Commitment(),
			}})
		}
		out.Status = p.Status()
		return out, nil
	}
	p.Commitments = append(p.Commitments, Record{Role: role, Body: *body, Signature: v.commitment.Signature})
	if p.Timer == nil {
		p.Timer = &Timer{ArmedAt: height, Deadline: height + p.Config.Params.RoundTimeout}
	}
	p.emit(out, api.Event{ExecutorCommitted: &api.ExecutorCommittedEvent{Commitment: *v.Commitment()}})
	p.reportBatchEquivocation(out, &p.Commitments[len(p.Commitments)-1])
	p.evaluate(height, out)
	out.Status = p.Status()
	return out, nil
}

func (p *Pool) checkVerified(v *Verified) error {
	body, round := v.Body(), p.Config.Round()
	switch {
	case body.Header.Round != round:
		return fmt.Errorf("%w: round %d, want %d", api.ErrWrongRound, body.Header.Round, round)
	case body.Header.PreviousHash != p.Config.Latest.Hash():
		return fmt.Errorf("%w: %s", api.ErrWrongPreviousHash, body.Header.PreviousHash)
	case p.Config.Committee.Role(v.Node()) == RoleNone:
		return fmt.Errorf("%w: %s", api.ErrNotInCommittee, v.Node())
	case body.TxnSchedSig.PublicKey != p.Config.Committee.Scheduler(round):
		return fmt.Errorf("%w: signed by %s", api.ErrNotScheduler, body.TxnSchedSig.PublicKey)
	}
	return nil
}

// ProposerTimeout accepts a proposer-timeout transaction from sender at height: it arms the
// round timer and nothing else, so the scheduler still has round_timeout blocks to commit.
// Errors: ErrRoundDecided; ErrNotInCommittee when sender is not a worker; ErrPoolNotEmpty
// when the pool holds commitments or its timer is armed; ErrProposerTimeoutTooEarly before
// LatestHeight + propose_batch_timeout.
func (p *Pool) ProposerTimeout(height int64, sender signature.PublicKey) (*Outcome, error) {
	switch {
	case p.Decided != 0:
		return nil, fmt.Errorf("%w: round %d", api.ErrRoundDecided, p.Config.Round())
	case p.Config.Committee.Role(sender) != RoleWorker:
		return nil, fmt.Errorf("%w: %s is not a worker", api.ErrNotInCommittee, sender)
	case !p.IsEmpty():
		return nil, fmt.Errorf("%w: %d commitments, timer armed: %t", api.ErrPoolNotEmpty, len(p.Commitments), p.Timer != nil)
	}
	if earliest := p.Config.LatestHeight + p.Config.Params.ProposeBatchTimeout; height < earliest {
		return nil, fmt.Errorf("%w: height %d, allowed from %d", api.ErrProposerTimeoutTooEarly, height, earliest)
	}
	p.Timer = &Timer{ArmedAt: height, Deadline: height + p.Config.Params.RoundTimeout}
	return &Outcome{Status: p.Status()}, nil
}

// CheckTimeout fires the timer if height has reached its deadline; call it once per block
// (NextTimeout says when it matters). At the round timeout a missing scheduler fails the round,
// up to allowed_stragglers other missing workers are tolerated (the round finalizes), and more
// declare a discrepancy with the backups' deadline round_timeout*3/2 blocks later. At the
// backups' deadline the round fails. Otherwise it does nothing.
func (p *Pool) CheckTimeout(height int64) *Outcome {
	out := &Outcome{}
	if p.Decided != 0 || p.Timer == nil || height < p.Timer.Deadline {
		out.Status = p.Status()
		return out
	}
	switch sched := p.schedulerRecord(); {
	case p.Discrepancy != nil:
		p.fail(out, api.FailedBackupTimeout)
	case sched == nil:
		p.fail(out, api.FailedSchedulerMissing)
	case p.missingWorkers(sched) <= p.Config.Params.AllowedStragglers:
		p.finalize(out, sched)
	default:
		p.declareDiscrepancy(out, height, true)
	}
	out.Status = p.Status()
	return out
}

func (p *Pool) emit(out *Outcome, ev api.Event) {
	ev.RuntimeID = p.Config.Latest.Namespace
	out.Events = append(out.Events, ev)
}

// record returns node's commitment, if any.
func (p *Pool) record(node signature.PublicKey) *Record {
	for i := range p.Commitments {
		if p.Commitments[i].Node() == node {
			return &p.Commitments[i]
		}
	}
	return nil
}

func (p *Pool) schedulerRecord() *Record {
	return p.record(p.Config.Committee.Scheduler(p.Config.Round()))
}

// reportBatchEquivocation reports the scheduler's signatures over rec's input root and
// another one, the first time two input roots meet in the pool. The other side is the
// scheduler's own commitment when it differs, else the earliest that differs.
func (p *Pool) reportBatchEquivocation(out *Outcome, rec *Record) {
	if p.BatchEquivocationReported {
		return
	}
	other := p.schedulerRecord()
	if other == nil || other.Body.InputRoot == rec.Body.InputRoot {
		other = nil
		for i := range p.Commitments {
			if p.Commitments[i].Body.InputRoot != rec.Body.InputRoot {
				other = &p.Commitments[i]
				break
			}
		}
	}
	if other == nil {
		return
	}
	p.BatchEquivocationReported = true
	out.Equivocations = append(out.Equivocations, api.Evidence{ProposedBatch: &api.ProposedBatchEquivocation{
		BatchA: p.signedBatch(other),
		BatchB: p.signedBatch(rec),
	}})
}

func (p *Pool) signedBatch(r *Record) api.SignedProposedBatch {
	return api.SignedProposedBatch{Batch: *r.Body.ProposedBatch(&p.Config.Latest), Signature: r.Body.TxnSchedSig}
}
