// Package beacon is the beacon service's consensus application: it counts epochs
// (height / epoch_interval), derives each epoch's entropy with the insecure dev backend (see
// package api: predictable and biasable), emits api.EpochChangedEvent and publishes
// api.EpochChangedMessage to the other applications in BeginBlock of each epoch's first block.
// It is the mux's consensus.EpochSource.
package beacon

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// App is the beacon application. It is safe for concurrent use.
type App struct {
	// params caches the parameters, which never change after genesis.
	params atomic.Pointer[api.ConsensusParameters]
}

var (
	_ consensus.Application = (*App)(nil)
	_ consensus.EpochSource = (*App)(nil)
)

// New returns the beacon application.
func New() *App { return &App{} }

// Name implements consensus.Application.
func (*App) Name() string { return api.ModuleName }

// Methods implements consensus.Application: the beacon has no transactions.
func (*App) Methods() []transaction.MethodName { return nil }

// Messages implements consensus.Application: the beacon handles none.
func (*App) Messages() []string { return nil }

// InitChain stores the parameters. No epoch is stored: the first block starts the first epoch.
func (a *App) InitChain(ctx *consensus.Context, doc *genesis.Document) error {
	p := doc.Beacon.Params
	if err := setRecord(ctx.State(), tableParams, &p); err != nil {
		return err
	}
	a.params.Store(&p)
	return nil
}

// Params returns the beacon's parameters from s.
func (a *App) Params(s consensus.State) (*api.ConsensusParameters, error) {
	if p := a.params.Load(); p != nil {
		return p, nil
	}
	var p api.ConsensusParameters
	if err := consensus.RequireRecord(s, "beacon", "parameters", singletonKeyFmt.Encode(tableParams), &p); err != nil {
		return nil, err
	}
	a.params.Store(&p)
	return &p, nil
}

// EpochAt implements consensus.EpochSource.
func (a *App) EpochAt(s consensus.State, height int64) (api.EpochTime, error) {
	p, err := a.Params(s)
	if err != nil {
		return 0, err
	}
	return api.EpochAt(height, p.EpochInterval), nil
}

// BeginBlock starts a new epoch when the block's epoch differs from the stored one (or none
// is stored: the chain's first block).
func (a *App) BeginBlock(ctx *consensus.Context) error {
	var cur epochRecord
	found, err := getRecord(ctx.State(), tableEpoch, &cur)
	if err != nil {
		return err
	}
	epoch := ctx.Epoch()
	if found && cur.Epoch == epoch {
		return nil
	}
	previous := api.EpochInvalid
	if found {
		previous = cur.Epoch
	}
	next := epochRecord{Epoch: epoch, Height: ctx.Height(), Entropy: api.InsecureEntropy(ctx.ChainContext(), epoch)}
	if err := setRecord(ctx.State(), tableEpoch, &next); err != nil {
		return err
	}
	ctx.EmitEvent(api.EpochChangedEvent{Epoch: epoch, Height: next.Height, Entropy: next.Entropy})
	ctx.Logger().Info("epoch changed", "epoch", epoch, "height", next.Height)
	_, err = ctx.Publish(api.EpochChangedMessage{Epoch: epoch, Previous: previous, Entropy: next.Entropy})
	if err != nil && !errors.Is(err, consensus.ErrNoHandler) {
		return fmt.Errorf("beacon: epoch change to %d: %w", epoch, err)
	}
	return nil
}

// ExecuteTx implements consensus.Application; the mux never routes a transaction here.
func (*App) ExecuteTx(*consensus.Context, *transaction.Transaction) error {
	return transaction.ErrUnknownMethod
}

// EndBlock implements consensus.Application.
func (*App) EndBlock(*consensus.Context) error { return nil }

// HandleMessage implements consensus.Application.
func (*App) HandleMessage(*consensus.Context, consensus.Message) (any, error) {
	return nil, consensus.ErrNoHandler
}

// Query answers api.QueryEpoch and api.QueryEntropy with api.EpochInfo.
func (a *App) Query(ctx *consensus.Context, method string, _ []byte) (any, error) {
	switch method {
	case api.QueryEpoch, api.QueryEntropy:
	default:
		return nil, fmt.Errorf("%w: %q", consensus.ErrUnknownQuery, method)
	}
	var cur epochRecord
	found, err := getRecord(ctx.State(), tableEpoch, &cur)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, api.ErrNoEpoch
	}
	p, err := a.Params(ctx.State())
	if err != nil {
		return nil, err
	}
	return &api.EpochInfo{Epoch: cur.Epoch, Height: cur.Height, Interval: p.EpochInterval, Entropy: cur.Entropy}, nil
}
