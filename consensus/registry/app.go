// Package registry is the registry service's consensus application (DESIGN.md §3 Registry,
// Suspension, Prepaid maintenance, Validators; §4): entities, nodes and runtime descriptors
// with their ADR 0013 deployments, the suspended set, node status, the per-epoch descriptor
// snapshots and the registry-managed part of CometBFT's validator set.
//
// The rules are the pure functions of consensus/registry/api (VerifyNodeRegistration,
// VerifyRuntimeRegistration/Update, MaintenanceFee, DecideSuspension, ...); rules.go holds this
// package's own pure rules (the validator set); app.go is thin (decode → check → apply);
// entities.go, nodes.go, runtimes.go and epoch.go read state, call the rules and write the
// outcome; state.go documents the key formats; lookup.go is the API other applications call
// with their State or Context.
//
// An epoch transition runs in four steps of the transition's first block:
//  1. the beacon's EpochChanged (delivered in the beacon's BeginBlock, before the scheduler
//     and roothash see it): expired nodes release their stake claims, nodes expired for the
//     debonding interval are removed, and every runtime's descriptor is snapshotted for the
//     new epoch (GetEpochRuntime);
//  2. the scheduler's ElectionResult for each runtime it elects (in the scheduler's
//     BeginBlock): every active runtime, and every suspended one that MayResumeAt admits
//     (owner stake back, unexpired nodes registered); DecideSuspension, then RuntimeSuspended
//     or RuntimeResumed before roothash sees the result;
//  3. the registry's EndBlock: the validator set is recomputed (consensus UpdateValidator).
package registry

import (
	"fmt"
	"sync/atomic"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// UpdateRuntimeMessage is the message roothash sends to deliver a runtime's update_runtime
// message (see api.UpdateRuntimeMessage).
type UpdateRuntimeMessage = api.UpdateRuntimeMessage

// App is the registry application. It is safe for concurrent use.
type App struct {
	// params caches the parameters, which never change after genesis.
	params atomic.Pointer[api.ConsensusParameters]
}

var _ consensus.Application = (*App)(nil)

// New returns the registry application.
func New() *App { return &App{} }

// Name implements consensus.Application.
func (*App) Name() string { return api.ModuleName }

// Methods implements consensus.Application.
func (*App) Methods() []transaction.MethodName { return api.Methods }

// Messages implements consensus.Application: epoch changes, the scheduler's election results
// and runtimes' update_runtime messages.
func (*App) Messages() []string {
	return []string{beacon.MessageKindEpochChanged, scheduler.MessageKindElectionResult, api.MessageKindUpdateRuntime}
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

// InitChain writes the parameters and the genesis entities, runtimes and nodes with their
// stake claims, and remembers the genesis validators.
func (a *App) InitChain(ctx *consensus.Context, doc *genesis.Document) error {
	g := doc.Registry
	if g == nil {
		g = &api.Genesis{Params: api.DefaultConsensusParameters()}
	}
	st, err := g.Open(doc.FirstEpoch())
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	p := g.Params
	if err := (stateView{ctx.State()}).put(singletonKeyFmt.Encode(tableParams), &p); err != nil {
		return err
	}
	a.params.Store(&p)
	return initGenesis(ctx, doc, st)
}

// BeginBlock implements consensus.Application; an epoch transition's work is done in
// onEpochChanged, onElection and EndBlock.
func (a *App) BeginBlock(*consensus.Context) error { return nil }

// EndBlock updates the validator set at an epoch transition.
func (a *App) EndBlock(ctx *consensus.Context) error {
	v := stateView{ctx.State()}
	t, err := v.transition()
	if err != nil || t == nil {
		return err
	}
	if err := updateValidators(ctx, t.Epoch); err != nil {
		return err
	}
	return v.setTransition(nil)
}

// ExecuteTx charges the method's gas, decodes its body and applies it.
func (a *App) ExecuteTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	p, err := a.loadParams(ctx.State())
	if err != nil {
		return err
	}
	switch tx.Method {
	case api.MethodRegisterEntity:
		var body signature.Signed
		if err := prepare(ctx, p, api.GasOpRegisterEntity, tx.Body, &body); err != nil {
			return err
		}
		return registerEntity(ctx, &body)
	case api.MethodDeregisterEntity:
		var body api.DeregisterEntity
		if err := prepare(ctx, p, api.GasOpDeregisterEntity, tx.Body, &body); err != nil {
			return err
		}
		return deregisterEntity(ctx)
	case api.MethodRegisterNode:
		var body signature.Signed
		if err := prepare(ctx, p, api.GasOpRegisterNode, tx.Body, &body); err != nil {
			return err
		}
		return registerNode(ctx, p, &body)
	case api.MethodRegisterRuntime:
		if err := ctx.Gas().UseGas(p.GasCosts[api.GasOpRegisterRuntime]); err != nil {
			return err
		}
		rt, err := api.DecodeRuntime(tx.Body)
		if err != nil {
			return err
		}
		return registerRuntimeTx(ctx, p, rt)
	}
	return fmt.Errorf("%w: %q", transaction.ErrUnknownMethod, tx.Method)
}

// prepare charges the method's gas, then decodes the body strictly and canonically.
func prepare(ctx *consensus.Context, p *api.ConsensusParameters, op string, raw []byte, dst any) error {
	if err := ctx.Gas().UseGas(p.GasCosts[op]); err != nil {
		return err
	}
	if err := cbor.UnmarshalCanonical(raw, dst); err != nil {
		return fmt.Errorf("%w: %v", transaction.ErrMalformedBody, err)
	}
	return nil
}

// HandleMessage handles the beacon's EpochChanged, the scheduler's ElectionResult and
// UpdateRuntimeMessage.
func (a *App) HandleMessage(ctx *consensus.Context, msg consensus.Message) (any, error) {
	p, err := a.loadParams(ctx.State())
	if err != nil {
		return nil, err
	}
	switch m := msg.(type) {
	case beacon.EpochChangedMessage:
		return nil, onEpochChanged(ctx, m.Epoch)
	case *beacon.EpochChangedMessage:
		return nil, onEpochChanged(ctx, m.Epoch)
	case scheduler.ElectionResult:
		return nil, onElection(ctx, &m)
	case *scheduler.ElectionResult:
		return nil, onElection(ctx, m)
	case api.UpdateRuntimeMessage:
		return nil, updateRuntimeByMessage(ctx, p, &m)
	case *api.UpdateRuntimeMessage:
		return nil, updateRuntimeByMessage(ctx, p, m)
	}
	return nil, fmt.Errorf("%w: %s", consensus.ErrNoHandler, msg.MessageKind())
}
