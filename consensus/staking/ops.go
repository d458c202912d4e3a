package staking

import (
	"fmt"

	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/staking/api"
)

// The operations, for a caller that is a transaction's signer or a runtime (RuntimeCall).

func doTransfer(ctx *consensus.Context, caller api.Address, t *api.Transfer) error {
	accts := newAccountSet(stateView{ctx.State()})
	from, err := accts.get(caller)
	if err != nil {
		return err
	}
	to, err := accts.get(t.To)
	if err != nil {
		return err
	}
	if err := transfer(from, to, &t.Amount); err != nil {
		return err
	}
	if err := accts.save(); err != nil {
		return err
	}
	ctx.EmitEvent(api.TransferEvent{From: caller, To: t.To, Amount: t.Amount})
	return nil
}

func doAddEscrow(ctx *consensus.Context, p *api.ConsensusParameters, caller api.Address, e *api.Escrow) error {
	v := stateView{ctx.State()}
	accts := newAccountSet(v)
	src, err := accts.get(caller)
	if err != nil {
		return err
	}
	escrow, err := accts.get(e.Account)
	if err != nil {
		return err
	}
	dlg, err := v.delegation(caller, e.Account)
	if err != nil {
		return err
	}
	shares, err := addEscrow(src, escrow, dlg, &e.Amount, &p.MinDelegation)
	if err != nil {
		return err
	}
	if err := accts.save(); err != nil {
		return err
	}
	if err := v.setDelegation(caller, e.Account, dlg); err != nil {
		return err
	}
	ctx.EmitEvent(api.AddEscrowEvent{Owner: caller, Escrow: e.Account, Amount: e.Amount, NewShares: *shares})
	return nil
}

func doReclaimEscrow(ctx *consensus.Context, p *api.ConsensusParameters, caller api.Address, r *api.ReclaimEscrow) error {
	v := stateView{ctx.State()}
	escrow, err := v.account(r.Account)
	if err != nil {
		return err
	}
	dlg, err := v.delegation(caller, r.Account)
	if err != nil {
		return err
	}
	res, err := reclaimEscrow(escrow, dlg, &r.Shares, caller == r.Account, p, ctx.Epoch())
	if err != nil {
		return err
	}
	sup, err := v.supply()
	if err != nil {
		return err
	}
	seq := sup.NextDebonding
	sup.NextDebonding++
	if err := v.setSupply(sup); err != nil {
		return err
	}
	if err := v.setAccount(r.Account, escrow); err != nil {
		return err
	}
	if err := v.setDelegation(caller, r.Account, dlg); err != nil {
		return err
	}
	if err := v.addDebonding(caller, r.Account, seq, res.debonding); err != nil {
		return err
	}
	ctx.EmitEvent(api.DebondingStartEvent{
		Owner: caller, Escrow: r.Account, Amount: *res.amount, ActiveShares: r.Shares,
		DebondingShares: *res.debondingShares, DebondEndTime: res.debonding.DebondEndTime,
	})
	return nil
}

func doAllow(ctx *consensus.Context, p *api.ConsensusParameters, caller api.Address, a *api.Allow) error {
	if a.Beneficiary == caller {
		return fmt.Errorf("%w: allowance to oneself", api.ErrInvalidArgument)
	}
	v := stateView{ctx.State()}
	cur, err := v.allowance(caller, a.Beneficiary)
	if err != nil {
		return err
	}
	next, err := changeAllowance(cur, a)
	if err != nil {
		return err
	}
	if cur.IsZero() && !next.IsZero() {
		n, err := v.countAllowances(caller)
		if err != nil {
			return err
		}
		if n >= int(p.MaxAllowances) {
			return fmt.Errorf("%w: %d of %d", api.ErrTooManyAllowances, n, p.MaxAllowances)
		}
	}
	if err := v.setAllowance(caller, a.Beneficiary, next); err != nil {
		return err
	}
	ctx.EmitEvent(api.AllowanceChangeEvent{
		Owner: caller, Beneficiary: a.Beneficiary, Allowance: *next, Negative: a.Negative, AmountChange: a.AmountChange,
	})
	return nil
}

func doWithdraw(ctx *consensus.Context, caller api.Address, w *api.Withdraw) error {
	if w.From == caller {
		return fmt.Errorf("%w: withdrawal from oneself", api.ErrInvalidArgument)
	}
	v := stateView{ctx.State()}
	allowance, err := v.allowance(w.From, caller)
	if err != nil {
		return err
	}
	accts := newAccountSet(v)
	from, err := accts.get(w.From)
	if err != nil {
		return err
	}
	to, err := accts.get(caller)
	if err != nil {
		return err
	}
	left, err := withdraw(from, to, allowance, &w.Amount)
	if err != nil {
		return err
	}
	if err := accts.save(); err != nil {
		return err
	}
	if err := v.setAllowance(w.From, caller, left); err != nil {
		return err
	}
	ctx.EmitEvent(api.TransferEvent{From: w.From, To: caller, Amount: w.Amount})
	ctx.EmitEvent(api.AllowanceChangeEvent{Owner: w.From, Beneficiary: caller, Allowance: *left, Negative: true, AmountChange: w.Amount})
	return nil
}

// releaseDue releases every debonding delegation due at epoch.
func releaseDue(ctx *consensus.Context, epoch beaconEpoch) error {
	v := stateView{ctx.State()}
	due, err := v.dueReleases(epoch)
	if err != nil {
		return err
	}
	for _, r := range due {
		key := debondingKeyFmt.Encode(tableDebonding, r.delegator, r.escrow, r.seq)
		var deb api.DebondingDelegation
		found, err := v.get(key, &deb)
		if err != nil {
			return err
		}
		if !found {
			return consensus.StateErrorf("staking: queued debonding delegation %x missing", key)
		}
		accts := newAccountSet(v)
		escrow, err := accts.get(r.escrow)
		if err != nil {
			return err
		}
		owner, err := accts.get(r.delegator)
		if err != nil {
			return err
		}
		amount, err := releaseDebonding(escrow, owner, &deb)
		if err != nil {
			return consensus.StateError(err)
		}
		if err := accts.save(); err != nil {
			return err
		}
		if err := v.s.Remove(key); err != nil {
			return err
		}
		if err := v.s.Remove(r.queueKey); err != nil {
			return err
		}
		ctx.EmitEvent(api.ReclaimEscrowEvent{Owner: r.delegator, Escrow: r.escrow, Amount: *amount, Shares: deb.Shares})
	}
	return nil
}
