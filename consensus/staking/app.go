// Package staking is the staking service's consensus application: accounts with a general
// balance and nonce, escrow in share pools, debonding with a delay in epochs, transfers,
// allowances and withdrawals, stake claims checked by other services, slashing, runtime-owned
// accounts, and the transaction authenticator (nonces and fees) of the consensus layer.
//
// app.go is thin (decode → check → apply); rules.go holds the pure arithmetic; state.go the
// key formats; claims.go and slash.go the API other applications call with their Context.
// The total supply is conserved: the general and escrow balances of all accounts, the common
// pool and the current block's fees always add up to it (CheckSupply).
package staking

import (
	"fmt"
	"sync/atomic"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// App is the staking application. It is safe for concurrent use.
type App struct {
	// params caches the parameters, which never change after genesis.
	params atomic.Pointer[api.ConsensusParameters]
}

var (
	_ consensus.Application     = (*App)(nil)
	_ consensus.TxAuthenticator = (*App)(nil)
)

// New returns the staking application.
func New() *App { return &App{} }

// Name implements consensus.Application.
func (*App) Name() string { return api.ModuleName }

// Methods implements consensus.Application.
func (*App) Methods() []transaction.MethodName { return api.Methods }

// Messages implements consensus.Application: epoch changes (debonding releases) and runtime
// calls.
func (*App) Messages() []string {
	return []string{beacon.MessageKindEpochChanged, api.MessageKindRuntimeCall}
}

func (a *App) loadParams(s consensus.State) (*api.ConsensusParameters, error) {
	if p := a.params.Load(); p != nil {
		return p, nil
	}
	p, err := stateView{s}.params()
	if err != nil {
		return nil, err
	}
	a.params.Store(p)
	return p, nil
}

// InitChain writes the parameters, the supply, the genesis balances and the genesis
// delegations.
func (a *App) InitChain(ctx *consensus.Context, doc *genesis.Document) error {
	g := &doc.Staking
	v := stateView{ctx.State()}
	p := g.Params
	if err := v.put(singletonKeyFmt.Encode(tableParams), &p); err != nil {
		return err
	}
	a.params.Store(&p)
	if err := v.setSupply(&supplyRecord{TotalSupply: g.TotalSupply, CommonPool: g.CommonPool}); err != nil {
		return err
	}
	for _, ga := range g.Accounts {
		acct := &api.Account{General: api.GeneralAccount{Balance: ga.Balance}}
		if err := v.setAccount(ga.Address, acct); err != nil {
			return err
		}
	}
	for i, gd := range g.Delegations {
		accts := newAccountSet(v)
		escrow, err := accts.get(gd.To)
		if err != nil {
			return err
		}
		dlg, err := v.delegation(gd.From, gd.To)
		if err != nil {
			return err
		}
		shares, err := escrow.Escrow.Active.Deposit(&gd.Amount)
		if err != nil {
			return fmt.Errorf("staking: genesis delegation %d: %w", i, err)
		}
		if err := dlg.Shares.Add(shares); err != nil {
			return fmt.Errorf("staking: genesis delegation %d: %w", i, err)
		}
		if err := accts.save(); err != nil {
			return err
		}
		if err := v.setDelegation(gd.From, gd.To, dlg); err != nil {
			return err
		}
	}
	return CheckSupply(ctx.State())
}

// BeginBlock implements consensus.Application.
func (*App) BeginBlock(*consensus.Context) error { return nil }

// EndBlock pays the block's fees to the proposer's entity account (the common pool when the
// proposer is unknown).
func (a *App) EndBlock(ctx *consensus.Context) error {
	v := stateView{ctx.State()}
	sup, err := v.supply()
	if err != nil {
		return err
	}
	if sup.BlockFees.IsZero() && sup.LastBlockFees.IsZero() {
		return nil
	}
	fees := sup.BlockFees.Clone()
	if !fees.IsZero() {
		ev := api.FeesPaidEvent{Amount: *fees}
		if entity := ctx.Block().ProposerEntity; entity != nil {
			ev.To = api.NewAddress(*entity)
			acct, err := v.account(ev.To)
			if err != nil {
				return err
			}
			if err := acct.General.Balance.Add(fees); err != nil {
				return consensus.StateError(err)
			}
			if err := v.setAccount(ev.To, acct); err != nil {
				return err
			}
		} else {
			ev.ToCommonPool = true
			if err := sup.CommonPool.Add(fees); err != nil {
				return consensus.StateError(err)
			}
		}
		ctx.EmitEvent(ev)
	}
	sup.LastBlockFees = *fees
	sup.BlockFees = quantity.Quantity{}
	return v.setSupply(sup)
}

// ExecuteTx decodes the method's body, charges its gas and applies it for the caller.
func (a *App) ExecuteTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	p, err := a.loadParams(ctx.State())
	if err != nil {
		return err
	}
	caller := ctx.Caller().Address
	switch tx.Method {
	case api.MethodTransfer:
		var body api.Transfer
		if err := prepare(ctx, p, api.GasOpTransfer, tx.Body, &body, body.ValidateBasic); err != nil {
			return err
		}
		return doTransfer(ctx, caller, &body)
	case api.MethodAddEscrow:
		var body api.Escrow
		if err := prepare(ctx, p, api.GasOpAddEscrow, tx.Body, &body, body.ValidateBasic); err != nil {
			return err
		}
		return doAddEscrow(ctx, p, caller, &body)
	case api.MethodReclaimEscrow:
		var body api.ReclaimEscrow
		if err := prepare(ctx, p, api.GasOpReclaimEscrow, tx.Body, &body, body.ValidateBasic); err != nil {
			return err
		}
		return doReclaimEscrow(ctx, p, caller, &body)
	case api.MethodAllow:
		var body api.Allow
		if err := prepare(ctx, p, api.GasOpAllow, tx.Body, &body, body.ValidateBasic); err != nil {
			return err
		}
		return doAllow(ctx, p, caller, &body)
	case api.MethodWithdraw:
		var body api.Withdraw
		if err := prepare(ctx, p, api.GasOpWithdraw, tx.Body, &body, body.ValidateBasic); err != nil {
			return err
		}
		return doWithdraw(ctx, caller, &body)
	}
	return fmt.Errorf("%w: %q", transaction.ErrUnknownMethod, tx.Method)
}

// prepare charges the method's gas, then decodes the body canonically and checks it.
func prepare(ctx *consensus.Context, p *api.ConsensusParameters, op string, raw []byte, dst any, validate func() error) error {
	if err := ctx.Gas().UseGas(p.GasCosts[op]); err != nil {
		return err
	}
	if t, ok := dst.(*api.Transfer); ok {
		if decodeTransferFast(raw, t) {
			return validate()
		}
		*t = api.Transfer{}
	}
	if err := cbor.UnmarshalCanonical(raw, dst); err != nil {
		return fmt.Errorf("%w: %v", transaction.ErrMalformedBody, err)
	}
	return validate()
}

// HandleMessage handles beacon.EpochChangedMessage (releasing due debonding delegations) and
// api.RuntimeCall (a runtime moving its account's funds).
func (a *App) HandleMessage(ctx *consensus.Context, msg consensus.Message) (any, error) {
	switch m := msg.(type) {
	case beacon.EpochChangedMessage:
		return nil, releaseDue(ctx, m.Epoch)
	case *api.RuntimeCall:
		return nil, a.runtimeCall(ctx, m)
	case api.RuntimeCall:
		return nil, a.runtimeCall(ctx, &m)
	}
	return nil, fmt.Errorf("%w: %s", consensus.ErrNoHandler, msg.MessageKind())
}

func (a *App) runtimeCall(ctx *consensus.Context, m *api.RuntimeCall) error {
	p, err := a.loadParams(ctx.State())
	if err != nil {
		return err
	}
	n := 0
	var run func() error
	if m.Transfer != nil {
		n++
		run = func() error { return doTransfer(ctx, m.Caller, m.Transfer) }
	}
	if m.Withdraw != nil {
		n++
		run = func() error { return doWithdraw(ctx, m.Caller, m.Withdraw) }
	}
	if m.AddEscrow != nil {
		n++
		run = func() error {
			if err := m.AddEscrow.ValidateBasic(); err != nil {
				return err
			}
			return doAddEscrow(ctx, p, m.Caller, m.AddEscrow)
		}
	}
	if m.ReclaimEscrow != nil {
		n++
		run = func() error {
			if err := m.ReclaimEscrow.ValidateBasic(); err != nil {
				return err
			}
			return doReclaimEscrow(ctx, p, m.Caller, m.ReclaimEscrow)
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: runtime call with %d operations", api.ErrInvalidArgument, n)
	}
	return run()
}
