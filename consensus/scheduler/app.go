// Package scheduler is the scheduler service's consensus application (DESIGN.md §3
// Scheduler): at each epoch transition it elects the executor and storage committees of every
// active runtime and of every suspended one that may resume (registry.MayResumeAt) with the pure consensus/scheduler/election, stores them, emits the
// results as events and publishes each as a message (api.ElectionResult) to the registry,
// which decides suspension, and to roothash.
//
// Timing: the beacon's EpochChanged (delivered in the beacon's BeginBlock, to the registry
// first) marks the elections due; they run in this application's BeginBlock, before
// roothash's BeginBlock. Every active registered runtime, and every suspended one that may
// resume, gets exactly one ElectionResult per transition, in runtime ID order, with Outcome
// OutcomeNotDeployed when its first deployment is still ahead (it is then neither elected nor
// suspended). The registry decides suspension on each result: the committees are stored only
// for a runtime that is active afterwards. Any other suspended runtime is not elected (no
// result, no event) and its committees are cleared.
//
// Elections use the registry's descriptor snapshot of the epoch (registry.GetEpochRuntime) and
// its node records; a candidate's StakeOK is registry.NodeStakeOK, Frozen and
// LivenessExcluded come from its node status.
package scheduler

import (
	"fmt"
	"sync/atomic"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/registry"
	"github.com/atoll-project/atoll/consensus/scheduler/api"
	"github.com/atoll-project/atoll/consensus/scheduler/election"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// App is the scheduler application. It is safe for concurrent use.
type App struct {
	params atomic.Pointer[api.ConsensusParameters]
}

var _ consensus.Application = (*App)(nil)

// New returns the scheduler application.
func New() *App { return &App{} }

// Name implements consensus.Application.
func (*App) Name() string { return api.ModuleName }

// Methods implements consensus.Application: the scheduler has no transactions.
func (*App) Methods() []transaction.MethodName { return nil }

// Messages implements consensus.Application: epoch changes.
func (*App) Messages() []string { return []string{beacon.MessageKindEpochChanged} }

// InitChain stores the parameters.
func (a *App) InitChain(ctx *consensus.Context, doc *genesis.Document) error {
	var p api.ConsensusParameters
	if doc.Scheduler != nil {
		p = doc.Scheduler.Params
	}
	if err := (stateView{ctx.State()}).put(singletonKeyFmt.Encode(tableParams), &p); err != nil {
		return err
	}
	a.params.Store(&p)
	return nil
}

func (a *App) loadParams(s consensus.State) (*api.ConsensusParameters, error) {
	if p := a.params.Load(); p != nil {
		return p, nil
	}
	var p api.ConsensusParameters
	if err := consensus.RequireRecord(s, "scheduler", "parameters", singletonKeyFmt.Encode(tableParams), &p); err != nil {
		return nil, err
	}
	a.params.Store(&p)
	return &p, nil
}

// HandleMessage marks the elections of a new epoch due.
func (a *App) HandleMessage(ctx *consensus.Context, msg consensus.Message) (any, error) {
	switch m := msg.(type) {
	case beacon.EpochChangedMessage:
		return nil, stateView{ctx.State()}.setPending(&pendingElection{Epoch: m.Epoch, Entropy: m.Entropy})
	case *beacon.EpochChangedMessage:
		return nil, stateView{ctx.State()}.setPending(&pendingElection{Epoch: m.Epoch, Entropy: m.Entropy})
	}
	return nil, fmt.Errorf("%w: %s", consensus.ErrNoHandler, msg.MessageKind())
}

// BeginBlock runs the elections due.
func (a *App) BeginBlock(ctx *consensus.Context) error {
	v := stateView{ctx.State()}
	p, err := v.pending()
	if err != nil || p == nil {
		return err
	}
	if err := electAll(ctx, p.Epoch, p.Entropy); err != nil {
		return err
	}
	return v.setPending(nil)
}

// EndBlock implements consensus.Application.
func (*App) EndBlock(*consensus.Context) error { return nil }

// ExecuteTx implements consensus.Application; the mux never routes a transaction here.
func (*App) ExecuteTx(*consensus.Context, *transaction.Transaction) error {
	return transaction.ErrUnknownMethod
}

// electAll elects every registered runtime that is active or may resume, in ID order.
func electAll(ctx *consensus.Context, epoch beacon.EpochTime, entropy hash.Hash) error {
	s := ctx.State()
	runtimes, err := registry.Runtimes(s)
	if err != nil {
		return err
	}
	pool, err := gatherCandidates(s, epoch)
	if err != nil {
		return err
	}
	for _, latest := range runtimes {
		if err := electRuntime(ctx, latest.ID, epoch, entropy, pool); err != nil {
			return fmt.Errorf("scheduler: runtime %s: %w", latest.ID, err)
		}
	}
	return nil
}

func electRuntime(ctx *consensus.Context, id namespace.Namespace, epoch beacon.EpochTime, entropy hash.Hash, pool *candidatePool) error {
	s := ctx.State()
	v := stateView{s}
	suspended, err := registry.IsSuspended(s, id)
	if err != nil {
		return err
	}
	rt, err := registry.GetEpochRuntime(s, id)
	if err != nil {
		return err
	}
	if rt == nil {
		return v.setCommittees(id, nil, nil)
	}
	if suspended {
		may, err := registry.MayResumeAt(s, id, epoch)
		if err != nil {
			return err
		}
		if !may {
			return v.setCommittees(id, nil, nil)
		}
	}
	res, err := election.Elect(&election.Input{Entropy: entropy, Epoch: epoch, Runtime: rt, Candidates: pool.forRuntime(id, epoch)})
	if err != nil {
		return consensus.StateError(err)
	}
	if err := v.put(electionKeyFmt.Encode(tableElection, id), res); err != nil {
		return err
	}
	ctx.EmitEvent(*res)
	if _, err := ctx.Publish(*res); err != nil {
		return err
	}
	if suspended, err = registry.IsSuspended(s, id); err != nil {
		return err
	}
	if suspended {
		return v.setCommittees(id, nil, nil)
	}
	return v.setCommittees(id, res.Executor, res.Storage)
}

// GetCommittee returns the runtime's current committee of kind, or nil when it has none (not
// elected this epoch, suspended, or unknown).
func GetCommittee(s consensus.State, runtimeID namespace.Namespace, kind api.CommitteeKind) (*api.Committee, error) {
	return stateView{s}.committee(runtimeID, kind)
}

// GetElection returns the runtime's latest election result, or nil before its first.
func GetElection(s consensus.State, runtimeID namespace.Namespace) (*api.ElectionResult, error) {
	return stateView{s}.election(runtimeID)
}

// Query answers api.QueryCommittees, api.QueryElection and api.QueryParams.
func (a *App) Query(ctx *consensus.Context, method string, args []byte) (any, error) {
	v := stateView{ctx.State()}
	switch method {
	case api.QueryCommittees:
		var q api.RuntimeQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		out := []api.Committee{}
		for _, kind := range []api.CommitteeKind{api.KindExecutor, api.KindStorage} {
			c, err := v.committee(q.RuntimeID, kind)
			if err != nil {
				return nil, err
			}
			if c != nil {
				out = append(out, *c)
			}
		}
		return out, nil
	case api.QueryElection:
		var q api.RuntimeQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		res, err := v.election(q.RuntimeID)
		if err == nil && res == nil {
			err = fmt.Errorf("%w: runtime %s", api.ErrNoElection, q.RuntimeID)
		}
		return res, err
	case api.QueryParams:
		return a.loadParams(ctx.State())
	}
	return nil, fmt.Errorf("%w: %q", consensus.ErrUnknownQuery, method)
}
