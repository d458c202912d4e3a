package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atoll-project/atoll/common/namespace"
)

// RuntimeStreamWindow is how long one WatchRuntimeBlocks call lasts before the Client reopens
// it from the next round: every call has a deadline, yet a follower runs until its context
// ends.
const RuntimeStreamWindow = 5 * time.Minute

// LatestRuntimeBlock returns the runtime's latest block.
func (c *Client) LatestRuntimeBlock(ctx context.Context, id namespace.Namespace) (*RuntimeBlock, error) {
	b, err := unary(c, ctx, MethodRuntimeBlock, c.queryTimeout, RuntimeBlockRequest{RuntimeID: id})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// RuntimeBlock returns the runtime's block of round; a round no longer stored fails with
// ErrRoundPruned.
func (c *Client) RuntimeBlock(ctx context.Context, id namespace.Namespace, round uint64) (*RuntimeBlock, error) {
	b, err := unary(c, ctx, MethodRuntimeBlock, c.queryTimeout, RuntimeBlockRequest{RuntimeID: id, Round: &round})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// RuntimeState returns roothash's state of the runtime at height (0: the last committed one).
func (c *Client) RuntimeState(ctx context.Context, id namespace.Namespace, height int64) (*RuntimeStatus, error) {
	s, err := unary(c, ctx, MethodRuntimeState, c.queryTimeout, RuntimeStateRequest{RuntimeID: id, Height: height})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// WatchRuntimeBlocks calls fn with each of the runtime's blocks from req.FromRound on (nil:
// from the latest), in round order with none skipped or repeated, until ctx is cancelled
// (nil), its deadline passes (context.DeadlineExceeded), fn fails (its error) or the stream
// fails (a coded error: ErrRoundPruned when the client fell more than max_past_roots_stored
// rounds behind). The stream is reopened from the next round every RuntimeStreamWindow, so it
// runs as long as ctx allows.
func (c *Client) WatchRuntimeBlocks(ctx context.Context, req WatchRuntimeBlocksRequest, fn func(RuntimeBlock) error) error {
	for {
		var fnErr error
		wctx, cancel := context.WithTimeout(ctx, RuntimeStreamWindow)
		err := MethodWatchRuntimeBlocks.Call(wctx, c.conn, req, func(b RuntimeBlock) error {
			if fnErr = fn(b); fnErr != nil {
				return fnErr
			}
			next := b.Round + 1
			req.FromRound = &next
			return nil
		})
		windowOver := wctx.Err() != nil
		cancel()
		switch {
		case fnErr != nil:
			return fnErr
		case errors.Is(ctx.Err(), context.Canceled):
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("grpcapi: watching runtime blocks: %w", ctx.Err())
		case windowOver && (err == nil || errors.Is(err, context.DeadlineExceeded)):
			continue
		case err == nil:
			return fmt.Errorf("%w at %s: the node ended the block stream", ErrNoNode, c.addr)
		}
		return c.wrap(err)
	}
}
