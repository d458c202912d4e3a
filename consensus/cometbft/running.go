package cometbft

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtnode "github.com/cometbft/cometbft/node"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/rpc/client/local"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	aerrors "github.com/atoll-project/atoll/common/errors"
)

// inclusionSubscriber is the event bus subscriber name of the inclusion dispatcher.
const inclusionSubscriber = "atoll-inclusion"

// running is the state of a started node.
type running struct {
	node       *cmtnode.Node
	local      *local.Local
	dispatched chan struct{} // closed when the dispatcher has exited
}

// start starts cn and the dispatcher that feeds included with every new block.
func start(cn *cmtnode.Node, included *inclusion) (*running, error) {
	// Subscribed before the start so that no block is missed. The subscription is unbuffered:
	// the dispatcher is quick, and a buffered one would be dropped when full.
	sub, err := cn.EventBus().SubscribeUnbuffered(context.Background(), inclusionSubscriber, types.EventQueryNewBlock)
	if err != nil {
		return nil, fmt.Errorf("cometbft: subscribing to blocks: %w", err)
	}
	if err := cn.Start(); err != nil {
		return nil, fmt.Errorf("cometbft: starting node: %w", err)
	}
	r := &running{node: cn, local: local.New(cn), dispatched: make(chan struct{})}
	go func() {
		defer close(r.dispatched)
		// Runs until the event bus stops and cancels the subscription: an unbuffered
		// subscription that nobody reads would block the event bus.
		for {
			select {
			case msg := <-sub.Out():
				if ev, ok := msg.Data().(types.EventDataNewBlock); ok {
					included.deliver(ev)
				}
			case <-sub.Canceled():
				return
			}
		}
	}()
	return r, nil
}

// stop stops the node, then the ABCI connections (which CometBFT's own stop leaves running).
func (r *running) stop() error {
	var errs []error
	if err := r.node.Stop(); err != nil {
		errs = append(errs, fmt.Errorf("cometbft: stopping node: %w", err))
	}
	r.node.Wait()
	<-r.dispatched
	if err := r.node.ProxyApp().Stop(); err != nil {
		errs = append(errs, fmt.Errorf("cometbft: stopping ABCI connections: %w", err))
	}
	return errors.Join(errs...)
}

// withRunning calls f with the running node, holding off a stop until f returns.
func (n *Node) withRunning(f func(r *running) error) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.running == nil {
		return ErrNotRunning
	}
	return f(n.running)
}

// Status returns CometBFT's status: node info, latest block and sync state.
func (n *Node) Status(ctx context.Context) (*coretypes.ResultStatus, error) {
	var out *coretypes.ResultStatus
	err := n.withRunning(func(r *running) (err error) {
		out, err = r.local.Status(ctx)
		return err
	})
	return out, wrap("status", err)
}

// Block returns the block at height, or the latest block for a nil height.
func (n *Node) Block(ctx context.Context, height *int64) (*coretypes.ResultBlock, error) {
	var out *coretypes.ResultBlock
	err := n.withRunning(func(r *running) (err error) {
		out, err = r.local.Block(ctx, height)
		return err
	})
	return out, wrap("block", err)
}

// BlockResults returns the stored FinalizeBlock response of the block at height (nil: latest).
func (n *Node) BlockResults(ctx context.Context, height *int64) (*coretypes.ResultBlockResults, error) {
	var out *coretypes.ResultBlockResults
	err := n.withRunning(func(r *running) (err error) {
		out, err = r.local.BlockResults(ctx, height)
		return err
	})
	return out, wrap("block results", err)
}

// Validators returns the validator set at height (nil: latest), all pages of it.
func (n *Node) Validators(ctx context.Context, height *int64) ([]*types.Validator, error) {
	var out []*types.Validator
	err := n.withRunning(func(r *running) error {
		perPage := 100
		for page := 1; ; page++ {
			res, err := r.local.Validators(ctx, height, &page, &perPage)
			if err != nil {
				return err
			}
			out = append(out, res.Validators...)
			if len(out) >= res.Total || len(res.Validators) == 0 {
				return nil
			}
		}
	})
	return out, wrap("validators", err)
}

// Query runs an ABCI query on the application at height (0: latest).
func (n *Node) Query(ctx context.Context, path string, data []byte, height int64) (*abcitypes.ResponseQuery, error) {
	var out *abcitypes.ResponseQuery
	err := n.withRunning(func(r *running) error {
		res, err := r.local.ABCIQueryWithOptions(ctx, path, data, rpcclient.ABCIQueryOptions{Height: height})
		if err != nil {
			return err
		}
		out = &res.Response
		return nil
	})
	return out, wrap("query", err)
}

// CheckTx submits tx to the mempool and returns CheckTx's verdict without waiting for the
// block. A rejection by the application is returned as its coded error (codespace = module).
func (n *Node) CheckTx(ctx context.Context, tx []byte) error {
	err := n.withRunning(func(r *running) error {
		res, err := r.local.BroadcastTxSync(ctx, tx)
		if err != nil {
			return err
		}
		return resultError(res.Codespace, res.Code, res.Log)
	})
	return wrap("check tx", err)
}

// TxResult is the outcome of an included transaction.
type TxResult struct {
	// Hash is CometBFT's hash of the transaction, SHA-256 of its bytes.
	Hash [32]byte
	// Height and Index locate it in the chain.
	Height int64
	Index  int
	// Result is FinalizeBlock's result for it.
	Result abcitypes.ExecTxResult
}

// Err returns the application's coded error for a failed transaction, or nil.
func (t *TxResult) Err() error {
	return resultError(t.Result.Codespace, t.Result.Code, t.Result.Log)
}

// SubmitTx submits tx and waits until a block includes it or ctx is done. A transaction that
// CheckTx rejects returns its coded error and a zero TxResult. An included transaction returns
// its TxResult (Height > 0) and, when it failed, its coded error as well. A transaction that
// leaves the mempool without being included (it fails a recheck after a block) is waited for
// until ctx is done: CometBFT reports no such event.
func (n *Node) SubmitTx(ctx context.Context, tx []byte) (TxResult, error) {
	hash := sha256.Sum256(tx)
	w, err := n.included.add(hash)
	if err != nil {
		return TxResult{}, wrap("submit tx", err)
	}
	defer n.included.remove(hash, w)
	if err := n.CheckTx(ctx, tx); err != nil {
		return TxResult{}, err
	}
	select {
	case res, ok := <-w:
		if !ok {
			return TxResult{}, wrap("submit tx", ErrNotRunning)
		}
		return res, res.Err()
	case <-ctx.Done():
		return TxResult{}, fmt.Errorf("cometbft: waiting for tx %X: %w", hash, ctx.Err())
	}
}

// resultError turns an ABCI result code into the application's coded error.
func resultError(codespace string, code uint32, log string) error {
	if code == 0 {
		return nil
	}
	return aerrors.FromWire(aerrors.Wire{Module: codespace, Code: code, Message: log})
}

func wrap(what string, err error) error {
	if err == nil || errors.Is(err, ErrNotRunning) {
		return err
	}
	var ce *aerrors.Error
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("cometbft: %s: %w", what, err)
}
