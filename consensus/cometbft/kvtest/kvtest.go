// Package kvtest is a small ABCI application for tests of the CometBFT embedding: CometBFT's
// example kvstore (transactions "key=value", persisted in goleveldb), made safe for the
// concurrent calls of per-connection ABCI clients. It is a test application, not Atoll's
// consensus application.
package kvtest

import (
	"context"
	"sync"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"go.uber.org/goleak"
)

// App is the kvstore with its state guarded: the kvstore reads its height in Info and Query
// while FinalizeBlock and Commit write it. Close it after the node using it has stopped.
type App struct {
	*kvstore.Application
	mu sync.Mutex
}

// Open opens (or creates) the kvstore persisted in dir.
func Open(dir string) *App {
	return &App{Application: kvstore.NewPersistentApplication(dir)}
}

var _ abcitypes.Application = (*App)(nil)

// Info returns the last committed height and app hash.
func (a *App) Info(ctx context.Context, req *abcitypes.RequestInfo) (*abcitypes.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Application.Info(ctx, req)
}

// Query reads a key.
func (a *App) Query(ctx context.Context, req *abcitypes.RequestQuery) (*abcitypes.ResponseQuery, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Application.Query(ctx, req)
}

// FinalizeBlock executes a block.
func (a *App) FinalizeBlock(ctx context.Context, req *abcitypes.RequestFinalizeBlock) (*abcitypes.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Application.FinalizeBlock(ctx, req)
}

// Commit persists the block.
func (a *App) Commit(ctx context.Context, req *abcitypes.RequestCommit) (*abcitypes.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Application.Commit(ctx, req)
}

// IgnoredGoroutines are the goroutines that goleak must ignore after an embedded CometBFT
// node has stopped: they are started once per process or left behind by CometBFT itself.
func IgnoredGoroutines() []goleak.Option {
	return []goleak.Option{
		// goleveldb's and glog's background routines, started once per process.
		goleak.IgnoreTopFunction("github.com/syndtr/goleveldb/leveldb.(*DB).mpoolDrain"),
		goleak.IgnoreAnyFunction("github.com/golang/glog.(*fileSink).flushDaemon"),
		// CometBFT's consensus WAL closes its head file on stop but never its AutoFile, whose
		// SIGHUP listener and close ticker stay behind: two idle goroutines per run.
		goleak.IgnoreAnyFunction("github.com/cometbft/cometbft/libs/autofile.OpenAutoFile.func1"),
		goleak.IgnoreAnyFunction("github.com/cometbft/cometbft/libs/autofile.(*AutoFile).closeFileRoutine"),
	}
}
