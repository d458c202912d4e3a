package commitment

import (
	"slices"

	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// Status is where a pool's round stands.
type Status uint8

const (
	// StatusWaiting: no decision and no discrepancy yet.
	StatusWaiting Status = 1
	// StatusDiscrepancy: a discrepancy is declared; the backups are executing.
	StatusDiscrepancy Status = 2
	// StatusFinalized: the round is decided and finalizes with the scheduler's results.
	StatusFinalized Status = 3
	// StatusFailed: the round is decided and fails (a RoundFailed block).
	StatusFailed Status = 4
)

// String returns the status's name.
func (s Status) String() string {
	switch s {
	case StatusWaiting:
		return "waiting"
	case StatusDiscrepancy:
		return "discrepancy"
	case StatusFinalized:
		return "finalized"
	case StatusFailed:
		return "failed"
	default:
		return "invalid"
	}
}

// FinalizedRound is what the Normal block of a finalized round takes from the scheduler's
// commitment. Its slices are the caller's.
type FinalizedRound struct {
	Header            api.ComputeResultsHeader
	StorageSignatures []api.StorageSignature
	Messages          []api.Message
}

// Outcome is what one step of the pool produced. Lists are in committee order.
type Outcome struct {
	// Status is the pool's status after the step.
	Status Status
	// Finalized is set when the step finalized the round.
	Finalized *FinalizedRound
	// FailureReason is set when the step failed the round.
	FailureReason api.RoundFailureReason
	// IncorrectResults are the nodes to slash for incorrect results: when the backups settle
	// on a result some worker also committed, every commitment with another non-failure
	// result over the scheduler's input root, whether the round finalizes or fails.
	IncorrectResults []signature.PublicKey
	// LivenessFaults are the nodes that committed a failure over the scheduler's input root in
	// a round whose backups settled on a result.
	LivenessFaults []signature.PublicKey
	// Equivocations is evidence the step found: a node's second, differing commitment, or the
	// scheduler's signatures over two input roots. It verifies with api.VerifyEquivocation.
	Equivocations []api.Evidence
	// Events are the roothash events to emit, in order.
	Events []api.Event
}

// evaluate decides what the commitments allow without a timeout. Detection waits for the
// scheduler: a failure or a disagreement declares a discrepancy; all workers agreeing with it
// finalizes.
func (p *Pool) evaluate(height int64, out *Outcome) {
	if p.Discrepancy != nil {
		p.resolve(out)
		return
	}
	sched := p.schedulerRecord()
	if sched == nil {
		return
	}
	if sched.Body.IsFailure() {
		p.declareDiscrepancy(out, height, false)
		return
	}
	all := true
	for _, w := range p.Config.Committee.Workers {
		r := p.record(w)
		if r == nil || r.Body.InputRoot != sched.Body.InputRoot {
			all = false
			continue
		}
		if !api.Agree(&r.Body, &sched.Body) {
			p.declareDiscrepancy(out, height, false)
			return
		}
	}
	if all {
		p.finalize(out, sched)
	}
}

// missingWorkers counts the workers without a commitment over the scheduler's input root.
func (p *Pool) missingWorkers(sched *Record) uint64 {
	var n uint64
	for _, w := range p.Config.Committee.Workers {
		if r := p.record(w); r == nil || r.Body.InputRoot != sched.Body.InputRoot {
			n++
		}
	}
	return n
}

func (p *Pool) declareDiscrepancy(out *Outcome, height int64, timeout bool) {
	p.Discrepancy = &Discrepancy{DeclaredAt: height, Timeout: timeout}
	p.Timer.Deadline = height + p.Config.Params.RoundTimeout*3/2
	p.emit(out, api.Event{ExecutionDiscrepancyDetected: &api.ExecutionDiscrepancyDetectedEvent{
		Round:   p.Config.Round(),
		Timeout: timeout,
	}})
	p.resolve(out)
}

// tally is the backup votes for one result.
type tally struct {
	result *api.ComputeBody
	votes  uint64
}

// resolve settles a discrepancy once group_backup_size/2 + 1 backups agree on a result over
// the scheduler's input root, and fails the round once no result can reach that quorum.
func (p *Pool) resolve(out *Outcome) {
	sched := p.schedulerRecord()
	quorum := p.Config.Params.GroupBackupSize/2 + 1
	var (
		tallies []tally
		voted   uint64
	)
	for _, b := range p.Config.Committee.Backups {
		r := p.record(b)
		if r == nil {
			continue
		}
		voted++
		if r.Body.InputRoot != sched.Body.InputRoot {
			continue
		}
		i := slices.IndexFunc(tallies, func(t tally) bool { return api.Agree(t.result, &r.Body) })
		if i < 0 {
			tallies = append(tallies, tally{result: &r.Body})
			i = len(tallies) - 1
		}
		tallies[i].votes++
	}
	var best uint64
	for _, t := range tallies {
		if t.votes >= quorum {
			p.settle(out, sched, t.result)
			return
		}
		best = max(best, t.votes)
	}
	if remaining := uint64(len(p.Config.Committee.Backups)) - voted; best+remaining < quorum {
		p.fail(out, api.FailedQuorumUnreachable)
	}
}

// settle decides the round on the backups' winning result.
func (p *Pool) settle(out *Outcome, sched *Record, winner *api.ComputeBody) {
	if winner.IsFailure() {
		p.fail(out, api.FailedBackupsVotedFailure)
		return
	}
	input := sched.Body.InputRoot
	supported := false
	for _, w := range p.Config.Committee.Workers {
		if r := p.record(w); r != nil && r.Body.InputRoot == input && api.Agree(&r.Body, winner) {
			supported = true
			break
		}
	}
	for _, pk := range p.committeeOrder() {
		r := p.record(pk)
		switch {
		case r == nil || r.Body.InputRoot != input:
		case r.Body.IsFailure():
			out.LivenessFaults = append(out.LivenessFaults, pk)
		case supported && !api.Agree(&r.Body, winner):
			out.IncorrectResults = append(out.IncorrectResults, pk)
		}
	}
	if api.Agree(&sched.Body, winner) {
		p.finalize(out, sched)
	} else {
		p.fail(out, api.FailedDisagreesWithScheduler)
	}
}

func (p *Pool) committeeOrder() []signature.PublicKey {
	return append(slices.Clone(p.Config.Committee.Workers), p.Config.Committee.Backups...)
}

func (p *Pool) finalize(out *Outcome, sched *Record) {
	p.Decided = StatusFinalized
	out.Finalized = &FinalizedRound{
		Header:            sched.Body.Header,
		StorageSignatures: slices.Clone(sched.Body.StorageSignatures),
		Messages:          slices.Clone(sched.Body.Messages),
	}
	p.emit(out, api.Event{Finalized: &api.FinalizedEvent{Round: p.Config.Round()}})
}

func (p *Pool) fail(out *Outcome, reason api.RoundFailureReason) {
	p.Decided = StatusFailed
	out.FailureReason = reason
	p.emit(out, api.Event{RoundFailed: &api.RoundFailedEvent{Round: p.Config.Round(), Reason: reason}})
}
