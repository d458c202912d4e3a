package staking

import (
	"fmt"

	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/staking/api"
)

// SlashRequest asks Slash to punish an offender's escrow.
type SlashRequest struct {
	// Offender is the escrow account slashed (an entity's account).
	Offender api.Address
	Reason   api.SlashReason
	// To receives the slashed stake (the runtime's account, for roothash); nil sends it to the
	// common pool.
	To *api.Address
	// Params, when set, replace the global penalty of Reason: Params.Amount is taken and
	// Params.FreezeInterval returned (a runtime's own slashing parameters, for roothash). The
	// reason must still be a known one.
	Params *api.SlashParams
}

// SlashResult is what Slash did.
type SlashResult struct {
	// Amount is the stake taken (at most the penalty's amount, at most what there was).
	Amount quantity.Quantity
	// FreezeInterval is how long the caller must freeze the offending node, in epochs.
	FreezeInterval beacon.EpochTime
}

// Slash takes the penalty (req.Params, else the global one of req.Reason) from the offender's
// active and debonding escrow in proportion to their balances (share counts unchanged, so
// every delegator loses alike) and moves it to To. It emits api.TakeEscrowEvent. Freezing the
// node is the caller's business.
func Slash(ctx *consensus.Context, req SlashRequest) (*SlashResult, error) {
	v := stateView{ctx.State()}
	p, err := v.params()
	if err != nil {
		return nil, err
	}
	sp, ok := p.Slashing.Of(req.Reason)
	if !ok {
		return nil, fmt.Errorf("%w: unknown slash reason 0x%02x", api.ErrInvalidArgument, uint8(req.Reason))
	}
	if req.Params != nil {
		sp = req.Params
	}
	accts := newAccountSet(v)
	offender, err := accts.get(req.Offender)
	if err != nil {
		return nil, err
	}
	activeCut, debondingCut, err := slashEscrow(offender, &sp.Amount)
	if err != nil {
		return nil, err
	}
	taken, err := add(activeCut, debondingCut)
	if err != nil {
		return nil, err
	}
	ev := api.TakeEscrowEvent{Owner: req.Offender, Amount: *taken, DebondingAmount: *debondingCut, Reason: req.Reason}
	if req.To != nil {
		to, err := accts.get(*req.To)
		if err != nil {
			return nil, err
		}
		if err := to.General.Balance.Add(taken); err != nil {
			return nil, consensus.StateError(err)
		}
		ev.To = *req.To
	} else {
		sup, err := v.supply()
		if err != nil {
			return nil, err
		}
		if err := sup.CommonPool.Add(taken); err != nil {
			return nil, consensus.StateError(err)
		}
		if err := v.setSupply(sup); err != nil {
			return nil, err
		}
		ev.ToCommonPool = true
	}
	if err := accts.save(); err != nil {
		return nil, err
	}
	ctx.EmitEvent(ev)
	return &SlashResult{Amount: *taken, FreezeInterval: sp.FreezeInterval}, nil
}
