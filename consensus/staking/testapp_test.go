package staking_test

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/staking"
	"github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// caller is a stand-in for the services that call staking's API (registry, roothash): it
// takes the "roothash" slot and exposes the calls as transactions.
type caller struct{}

const (
	methodSlash    transaction.MethodName = "roothash.Slash"
	methodClaim    transaction.MethodName = "roothash.Claim"
	methodRuntime  transaction.MethodName = "roothash.RuntimeCalls"
	runtimeIDIndex                        = 7
)

type slashBody struct {
	Offender api.Address     `cbor:"offender"`
	Reason   api.SlashReason `cbor:"reason"`
	To       *api.Address    `cbor:"to,omitempty"`
}

type claimBody struct {
	Account api.Address         `cbor:"account"`
	Claim   string              `cbor:"claim"`
	Kinds   []api.ThresholdKind `cbor:"kinds"`
	Remove  bool                `cbor:"remove,omitempty"`
}

type runtimeBody struct {
	Calls []api.RuntimeCall `cbor:"calls"`
}

// runtimeResult is the event the caller emits per runtime call.
type runtimeResult struct {
	Index int    `cbor:"index"`
	Error string `cbor:"error,omitempty"`
}

func (runtimeResult) EventKind() string { return "roothash.RuntimeCallResult" }

func (caller) Name() string { return "roothash" }
func (caller) Methods() []transaction.MethodName {
	return []transaction.MethodName{methodSlash, methodClaim, methodRuntime}
}
func (caller) Messages() []string                                    { return nil }
func (caller) InitChain(*consensus.Context, *genesis.Document) error { return nil }
func (caller) BeginBlock(*consensus.Context) error                   { return nil }
func (caller) EndBlock(*consensus.Context) error                     { return nil }
func (caller) HandleMessage(*consensus.Context, consensus.Message) (any, error) {
	return nil, consensus.ErrNoHandler
}
func (caller) Query(*consensus.Context, string, []byte) (any, error) {
	return nil, consensus.ErrUnknownQuery
}

func (caller) ExecuteTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	switch tx.Method {
	case methodSlash:
		var b slashBody
		if err := cbor.Unmarshal(tx.Body, &b); err != nil {
			return err
		}
		_, err := staking.Slash(ctx, staking.SlashRequest{Offender: b.Offender, Reason: b.Reason, To: b.To})
		return err
	case methodClaim:
		var b claimBody
		if err := cbor.Unmarshal(tx.Body, &b); err != nil {
			return err
		}
		if b.Remove {
			return staking.RemoveStakeClaim(ctx, b.Account, b.Claim)
		}
		return staking.AddStakeClaim(ctx, b.Account, b.Claim, b.Kinds)
	case methodRuntime:
		var b runtimeBody
		if err := cbor.Unmarshal(tx.Body, &b); err != nil {
			return err
		}
		// Each call runs alone: a failing one is reverted and recorded, the rest stand.
		for i := range b.Calls {
			child := ctx.NewChild()
			_, err := child.Publish(&b.Calls[i])
			res := runtimeResult{Index: i}
			if err != nil {
				if consensus.IsStateError(err) {
					return err
				}
				res.Error = err.Error()
			} else if err := child.CommitTo(ctx); err != nil {
				return err
			}
			ctx.EmitEvent(res)
		}
		return nil
	}
	return fmt.Errorf("%w: %s", transaction.ErrUnknownMethod, tx.Method)
}
