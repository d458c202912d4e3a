package roothash

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
)

// ensureGenesisBlock makes the runtime's genesis block from its registered descriptor when
// roothash has no blocks for it yet, and returns the runtime's record: nil when the registry
// does not know the runtime. A runtime the registry holds suspended starts suspended.
func (a *App) ensureGenesisBlock(ctx *consensus.Context, p *api.ConsensusParameters, id namespace.Namespace) (*api.RuntimeState, error) {
	rs, err := stateView{ctx.State()}.runtime(id)
	if err != nil || rs != nil {
		return rs, err
	}
	rt, err := a.registry.Runtime(ctx.State(), id)
	if err != nil || rt == nil {
		return nil, err
	}
	suspended, err := a.registry.IsSuspended(ctx.State(), id)
	if err != nil {
		return nil, err
	}
	rs = &api.RuntimeState{Runtime: *rt, Epoch: ctx.Epoch(), Suspended: suspended}
	if err := appendBlock(ctx, p, rs, GenesisBlock(rt, blockTime(ctx)), &api.RoundResults{}); err != nil {
		return nil, err
	}
	return rs, nil
}

// onElection handles the scheduler's election of a runtime at an epoch transition, after the
// registry has decided on suspension: a suspended runtime gets a Suspended block, an elected
// one an EpochTransition block with the new committees and the descriptor snapshot for the
// epoch. A runtime without an active deployment is left alone.
func (a *App) onElection(ctx *consensus.Context, p *api.ConsensusParameters, res *schedulerapi.ElectionResult) error {
	rs, err := a.ensureGenesisBlock(ctx, p, res.RuntimeID)
	if err != nil || rs == nil {
		return err
	}
	switch {
	case res.Suspends():
		return suspend(ctx, p, rs)
	case !res.Elected():
		return nil
	}
	suspended, err := a.registry.IsSuspended(ctx.State(), res.RuntimeID)
	if err != nil {
		return err
	}
	if suspended {
		return suspend(ctx, p, rs)
	}
	rt, err := a.registry.Runtime(ctx.State(), res.RuntimeID)
	if err != nil {
		return err
	}
	if rt == nil || res.Executor == nil || res.Storage == nil {
		return consensus.StateErrorf("roothash: election of %s without a descriptor or committees", res.RuntimeID)
	}
	if err := validateCommittees(res); err != nil {
		return consensus.StateError(err)
	}
	rs.Runtime, rs.Epoch, rs.Suspended = *rt, res.Epoch, false
	rs.Executor, rs.Storage = res.Executor, res.Storage
	if err := pruneOldOffences(ctx, p, rs); err != nil {
		return err
	}
	return appendBlock(ctx, p, rs, NextBlock(&rs.Latest, api.HeaderTypeEpochTransition, blockTime(ctx)), nil)
}

func validateCommittees(res *schedulerapi.ElectionResult) error {
	if err := res.Executor.ValidateBasic(); err != nil {
		return err
	}
	if err := res.Storage.ValidateBasic(); err != nil {
		return err
	}
	c := ExecutorCommittee(res.Executor)
	return c.ValidateBasic()
}

// pruneOldOffences forgets the slashed offences of rounds whose evidence is now too old.
func pruneOldOffences(ctx *consensus.Context, p *api.ConsensusParameters, rs *api.RuntimeState) error {
	current := rs.Latest.Round + 1
	if current <= p.MaxEvidenceAge {
		return nil
	}
	return stateView{ctx.State()}.pruneOffences(rs.Runtime.ID, current-p.MaxEvidenceAge)
}

// onNotice handles the registry's runtime notices: a registered runtime gets its genesis
// block; a suspended one a Suspended block.
func (a *App) onNotice(ctx *consensus.Context, p *api.ConsensusParameters, n RuntimeNotice) error {
	rs, err := a.ensureGenesisBlock(ctx, p, n.RuntimeID)
	if err != nil || rs == nil || n.Kind != NoticeSuspended {
		return err
	}
	return suspend(ctx, p, rs)
}

// suspend makes a Suspended block and clears the committees, unless the runtime is already
// suspended.
func suspend(ctx *consensus.Context, p *api.ConsensusParameters, rs *api.RuntimeState) error {
	if rs.Suspended {
		return nil
	}
	rs.Suspended, rs.Executor, rs.Storage = true, nil, nil
	return appendBlock(ctx, p, rs, NextBlock(&rs.Latest, api.HeaderTypeSuspended, blockTime(ctx)), nil)
}
