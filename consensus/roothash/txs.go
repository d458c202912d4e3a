package roothash

import (
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/consensus/roothash/commitment"
)

// openRound returns the runtime's record and the pool of its current round, or the coded
// error saying why the runtime takes no commitments now.
func openRound(s consensus.State, id namespace.Namespace) (*api.RuntimeState, *commitment.Pool, error) {
	v := stateView{s}
	rs, err := v.mustRuntime(id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case rs.Suspended:
		return nil, nil, fmt.Errorf("%w: %s", api.ErrRuntimeSuspended, rs.Runtime.ID)
	case rs.Executor == nil:
		return nil, nil, fmt.Errorf("%w: %s", api.ErrNoCommittee, rs.Runtime.ID)
	}
	pool, err := v.pool(rs.Runtime.ID)
	if err != nil {
		return nil, nil, err
	}
	if pool == nil {
		return nil, nil, consensus.StateErrorf("roothash: runtime %s has a committee but no pool", rs.Runtime.ID)
	}
	return rs, pool, nil
}

// executorCommit verifies every commitment of the transaction against the chain (any failure
// rejects the whole transaction), then adds them to the pool in order. Commitments left over
// once the round is decided in this transaction are not counted.
func (a *App) executorCommit(ctx *consensus.Context, p *api.ConsensusParameters, body *api.ExecutorCommit) error {
	rs, pool, err := openRound(ctx.State(), body.ID)
	if err != nil {
		return err
	}
	vp, err := VerifyParams(ctx.ChainContext(), rs, func(id signature.PublicKey) (*node.Node, error) {
		return a.registry.Node(ctx.State(), id)
	})
	if err != nil {
		return err
	}
	verified, errs := commitment.VerifyCommitments(vp, body.Commits)
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("commitment %d: %w", i, err)
		}
	}
	for i, vc := range verified {
		out, err := pool.AddCommitment(ctx.Height(), vc)
		if err != nil {
			return fmt.Errorf("commitment %d: %w", i, err)
		}
		decided, err := a.applyOutcome(ctx, p, rs, pool, out)
		if err != nil {
			return err
		}
		if decided {
			return nil
		}
	}
	return nil
}

// proposerTimeout arms the round timer at a worker's request (the transaction's signer).
func (a *App) proposerTimeout(ctx *consensus.Context, p *api.ConsensusParameters, body *api.ProposerTimeout) error {
	signer := ctx.Caller().Signer
	if signer == nil {
		return fmt.Errorf("%w: proposer timeout without a signer", api.ErrNotInCommittee)
	}
	rs, pool, err := openRound(ctx.State(), body.ID)
	if err != nil {
		return err
	}
	if want := pool.Config.Round(); body.Round != want {
		return fmt.Errorf("%w: round %d, want %d", api.ErrWrongRound, body.Round, want)
	}
	out, err := pool.ProposerTimeout(ctx.Height(), *signer)
	if err != nil {
		return err
	}
	_, err = a.applyOutcome(ctx, p, rs, pool, out)
	return err
}

// submitEvidence verifies equivocation evidence and slashes the offence once.
func (a *App) submitEvidence(ctx *consensus.Context, p *api.ConsensusParameters, body *api.SubmitEvidence) error {
	rs, err := stateView{ctx.State()}.mustRuntime(body.ID)
	if err != nil {
		return err
	}
	off, err := a.verifyEvidence(ctx, p, rs, &body.Evidence)
	if err != nil {
		return err
	}
	slashed, err := stateView{ctx.State()}.offenceSlashed(off)
	if err != nil {
		return err
	}
	if slashed {
		return fmt.Errorf("%w: round %d, signer %s", api.ErrAlreadySlashed, off.Round, off.Signer)
	}
	return a.punishOffence(ctx, rs, off)
}

func (a *App) verifyEvidence(ctx *consensus.Context, p *api.ConsensusParameters, rs *api.RuntimeState, ev *api.Evidence) (*api.Offence, error) {
	return api.VerifyEquivocation(&api.EquivocationParams{
		ChainContext:   ctx.ChainContext(),
		RuntimeID:      rs.Runtime.ID,
		CurrentRound:   rs.Latest.Round + 1,
		MaxEvidenceAge: p.MaxEvidenceAge,
	}, ev)
}
