// Package roothash is the roothash service's consensus application (DESIGN.md §3, Roothash):
// a chain of blocks per runtime, the executor commitments that finalize its rounds, the
// discrepancy and timeout handling of the commitment pool, the execution of the runtime's
// messages at finalization, slashing for incorrect results and equivocation, and the epoch
// and suspension blocks driven by the scheduler's and the registry's messages.
//
// app.go is thin (decode → check → apply); txs.go holds the transactions, outcome.go what a
// pool step leads to (finalization, failed rounds, penalties), messages.go the runtime
// messages, slashing.go the penalties, notices.go the scheduler's and registry's messages,
// rules.go the pure rules, state.go the key formats, query.go the queries. The pure round
// logic is consensus/roothash/commitment.
//
// The application keeps no per-block state outside the consensus state; it reads the registry
// and hears the scheduler through the Registry and Scheduler it is given.
package roothash

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// Config configures New.
type Config struct {
	Registry  Registry
	Scheduler Scheduler
}

// App is the roothash application. It is safe for concurrent use.
type App struct {
	registry  Registry
	scheduler Scheduler
	// params caches the parameters, which never change after genesis.
	params atomic.Pointer[api.ConsensusParameters]
}

var _ consensus.Application = (*App)(nil)

// New returns the roothash application.
func New(cfg Config) (*App, error) {
	if cfg.Registry == nil || cfg.Scheduler == nil {
		return nil, errors.New("roothash: the application needs a registry and a scheduler")
	}
	return &App{registry: cfg.Registry, scheduler: cfg.Scheduler}, nil
}

// Name implements consensus.Application.
func (*App) Name() string { return api.ModuleName }

// Methods implements consensus.Application.
func (*App) Methods() []transaction.MethodName { return api.Methods }

// Messages implements consensus.Application: the scheduler's elections and the registry's
// runtime notices.
func (a *App) Messages() []string {
	return append(append([]string{}, a.scheduler.ElectionKinds()...), a.registry.NoticeKinds()...)
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

// InitChain writes the parameters (the defaults when the document has no roothash section)
// and the genesis block of every runtime in the registry's genesis state.
func (a *App) InitChain(ctx *consensus.Context, doc *genesis.Document) error {
	p := api.DefaultConsensusParameters()
	if doc.Roothash != nil {
		p = doc.Roothash.Params
	}
	if err := p.SanityCheck(); err != nil {
		return err
	}
	if err := (stateView{ctx.State()}).setParams(&p); err != nil {
		return err
	}
	a.params.Store(&p)
	runtimes, err := a.registry.Runtimes(ctx.State())
	if err != nil {
		return err
	}
	for _, rt := range runtimes {
		if _, err := a.ensureGenesisBlock(ctx, &p, rt.ID); err != nil {
			return err
		}
	}
	return nil
}

// BeginBlock implements consensus.Application; epoch transitions arrive as messages.
func (*App) BeginBlock(*consensus.Context) error { return nil }

// EndBlock fires the pool timers due at this height.
func (a *App) EndBlock(ctx *consensus.Context) error {
	p, err := a.loadParams(ctx.State())
	if err != nil {
		return err
	}
	due, err := stateView{ctx.State()}.dueTimers(ctx.Height())
	if err != nil {
		return err
	}
	for _, id := range due {
		if err := a.checkTimeout(ctx, p, id); err != nil {
			return err
		}
	}
	return nil
}

// ExecuteTx charges the method's gas, decodes its body and applies it.
func (a *App) ExecuteTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	p, err := a.loadParams(ctx.State())
	if err != nil {
		return err
	}
	switch tx.Method {
	case api.MethodExecutorCommit:
		// One commitment's gas before decoding, the others' after.
		perCommit := p.GasCosts[api.GasOpComputeCommit]
		if err := ctx.Gas().UseGas(perCommit); err != nil {
			return err
		}
		body, err := api.DecodeExecutorCommit(tx.Body)
		if err != nil {
			return err
		}
		if err := ctx.Gas().UseGas(perCommit * transaction.Gas(len(body.Commits)-1)); err != nil {
			return err
		}
		return a.executorCommit(ctx, p, body)
	case api.MethodProposerTimeout:
		if err := ctx.Gas().UseGas(p.GasCosts[api.GasOpProposerTimeout]); err != nil {
			return err
		}
		body, err := api.DecodeProposerTimeout(tx.Body)
		if err != nil {
			return err
		}
		return a.proposerTimeout(ctx, p, body)
	case api.MethodSubmitEvidence:
		if err := ctx.Gas().UseGas(p.GasCosts[api.GasOpEvidence]); err != nil {
			return err
		}
		body, err := api.DecodeSubmitEvidence(tx.Body)
		if err != nil {
			return err
		}
		return a.submitEvidence(ctx, p, body)
	}
	return fmt.Errorf("%w: %q", transaction.ErrUnknownMethod, tx.Method)
}

// HandleMessage handles the scheduler's elections (EpochTransition or Suspended blocks) and
// the registry's runtime notices (genesis blocks, Suspended blocks).
func (a *App) HandleMessage(ctx *consensus.Context, msg consensus.Message) (any, error) {
	p, err := a.loadParams(ctx.State())
	if err != nil {
		return nil, err
	}
	if res, ok := a.scheduler.Election(msg); ok {
		return nil, a.onElection(ctx, p, res)
	}
	if n, ok := a.registry.Notice(msg); ok {
		return nil, a.onNotice(ctx, p, n)
	}
	return nil, fmt.Errorf("%w: %s", consensus.ErrNoHandler, msg.MessageKind())
}
