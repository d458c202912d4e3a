package roothash

import (
	"fmt"

	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// messageGasLimit bounds what one runtime message may spend; the handlers charge none today,
// the bound keeps a future charge finite.
const messageGasLimit transaction.Gas = 1 << 32

// executeMessages runs the round's messages one by one, each in its own child context with
// the runtime's account as the caller: a failing message is reverted alone and its coded
// error recorded. Only a state failure stops it.
func (a *App) executeMessages(ctx *consensus.Context, rs *api.RuntimeState, msgs []api.Message) (*api.RoundResults, error) {
	results := &api.RoundResults{}
	caller := &consensus.Caller{Address: stakingapi.NewRuntimeAddress(rs.Runtime.ID)}
	for i := range msgs {
		child := ctx.WithCaller(caller, consensus.NewGasAccountant(messageGasLimit))
		ev := api.MessageEvent{Index: uint32(i)}
		err := a.executeMessage(child, rs, &msgs[i])
		switch {
		case consensus.IsStateError(err):
			return nil, err
		case err != nil:
			w := cerrors.ToWire(err)
			ev.Module, ev.Code = w.Module, w.Code
			ctx.Logger().Debug("runtime message failed", "module", api.ModuleName, "runtime_id", rs.Runtime.ID,
				"round", rs.Latest.Round+1, "index", i, "err", err)
		default:
			if err := child.CommitTo(ctx); err != nil {
				return nil, err
			}
		}
		results.Messages = append(results.Messages, ev)
	}
	return results, nil
}

// executeMessage publishes one message to the service that runs it.
func (a *App) executeMessage(ctx *consensus.Context, rs *api.RuntimeState, m *api.Message) error {
	if err := m.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", api.ErrInvalidArgument, err)
	}
	var msg consensus.Message
	switch {
	case m.Staking != nil:
		s := m.Staking
		msg = &stakingapi.RuntimeCall{
			Caller:        ctx.Caller().Address,
			Transfer:      s.Transfer,
			Withdraw:      s.Withdraw,
			AddEscrow:     s.AddEscrow,
			ReclaimEscrow: s.ReclaimEscrow,
		}
	default:
		msg = a.registry.UpdateRuntimeMessage(rs.Runtime.ID, m.Registry.UpdateRuntime)
	}
	_, err := ctx.Publish(msg)
	return err
}
