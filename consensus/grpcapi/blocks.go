package grpcapi

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
)

// resolveHeight returns the committed height a request names: 0 means the last committed one.
// Blocks past the application's last commit are not served, so that a block and its results
// are always both there.
func (s *Service) resolveHeight(h int64) (int64, error) {
	if err := checkHeight(h); err != nil {
		return 0, err
	}
	committed, _ := s.mux.LastCommitted()
	switch {
	case committed == 0:
		return 0, fmt.Errorf("%w: no block committed yet", ErrNotReady)
	case h == 0:
		return committed, nil
	case h > committed:
		return 0, fmt.Errorf("%w: height %d is past the last committed height %d", ErrNoBlock, h, committed)
	case h < s.doc.InitialHeight:
		return 0, fmt.Errorf("%w: height %d is before the first block (%d)", ErrNoBlock, h, s.doc.InitialHeight)
	}
	return h, nil
}

// blockAt loads the block and its stored FinalizeBlock response.
func (s *Service) blockAt(ctx context.Context, h int64) (*coretypes.ResultBlock, *coretypes.ResultBlockResults, error) {
	b, err := s.node.Block(ctx, &h)
	if err != nil {
		return nil, nil, blockError(h, err)
	}
	if b.Block == nil {
		return nil, nil, fmt.Errorf("%w: height %d", ErrNoBlock, h)
	}
	r, err := s.node.BlockResults(ctx, &h)
	if err != nil {
		return nil, nil, blockError(h, err)
	}
	return b, r, nil
}

// blockError maps CometBFT's "no such height" failures (pruned or not stored) to ErrNoBlock.
func blockError(h int64, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "height") && (strings.Contains(msg, "not available") ||
		strings.Contains(msg, "must be") || strings.Contains(msg, "could not find")) {
		return fmt.Errorf("%w: height %d: %v", ErrNoBlock, h, err)
	}
	return nodeError(err)
}

func (s *Service) block(ctx context.Context, req HeightRequest) (Block, error) {
	h, err := s.resolveHeight(req.Height)
	if err != nil {
		return Block{}, err
	}
	b, r, err := s.blockAt(ctx, h)
	if err != nil {
		return Block{}, err
	}
	hdr := &b.Block.Header
	out := Block{
		Height:    hdr.Height,
		Hash:      toHash(b.BlockID.Hash),
		Time:      hdr.Time.UTC(),
		AppHash:   toHash(hdr.AppHash),
		StateRoot: toHash(r.AppHash),
		Proposer:  strings.ToLower(hex.EncodeToString(hdr.ProposerAddress)),
		TxHashes:  make([]hash.Hash, len(b.Block.Txs)),
	}
	for i, tx := range b.Block.Txs {
		out.TxHashes[i] = hash.Digest(tx)
	}
	return out, nil
}

func (s *Service) events(ctx context.Context, req HeightRequest) (BlockEvents, error) {
	h, err := s.resolveHeight(req.Height)
	if err != nil {
		return BlockEvents{}, err
	}
	b, r, err := s.blockAt(ctx, h)
	if err != nil {
		return BlockEvents{}, err
	}
	out := BlockEvents{Height: h, Txs: make([]TxEvents, len(b.Block.Txs))}
	if out.Block, err = fromABCI(r.FinalizeBlockEvents); err != nil {
		return BlockEvents{}, fmt.Errorf("%w: block %d: %v", ErrInternal, h, err)
	}
	if len(r.TxsResults) != len(b.Block.Txs) {
		return BlockEvents{}, fmt.Errorf("%w: block %d has %d transactions but %d results", ErrInternal, h, len(b.Block.Txs), len(r.TxsResults))
	}
	for i, tx := range b.Block.Txs {
		te := TxEvents{Index: i, Hash: hash.Digest(tx), Error: resultWire(r.TxsResults[i])}
		if te.Events, err = fromABCI(r.TxsResults[i].Events); err != nil {
			return BlockEvents{}, fmt.Errorf("%w: block %d, transaction %d: %v", ErrInternal, h, i, err)
		}
		out.Txs[i] = te
	}
	return out, nil
}

// resultWire returns a transaction result's coded error, nil for success.
func resultWire(r *abci.ExecTxResult) *cerrors.Wire {
	if r == nil || r.Code == abci.CodeTypeOK {
		return nil
	}
	return &cerrors.Wire{Module: r.Codespace, Code: r.Code, Message: r.Log}
}

func checkTx(tx []byte) error {
	if len(tx) == 0 {
		return fmt.Errorf("%w: empty transaction", ErrInvalidArgument)
	}
	return nil
}

// submitTx submits a transaction and waits for its block. A CheckTx rejection is the call's
// error; a failure in the block is the result's Error.
func (s *Service) submitTx(ctx context.Context, req SubmitTxRequest) (TxResult, error) {
	if err := checkTx(req.Tx); err != nil {
		return TxResult{}, err
	}
	res, err := s.node.SubmitTx(ctx, req.Tx)
	if res.Height == 0 {
		if err == nil {
			err = fmt.Errorf("%w: transaction neither included nor rejected", ErrInternal)
		}
		return TxResult{}, nodeError(err)
	}
	out := TxResult{
		Hash: hash.Digest(req.Tx), Height: res.Height, Index: res.Index,
		GasWanted: res.Result.GasWanted, GasUsed: res.Result.GasUsed, Error: resultWire(&res.Result),
	}
	if out.Events, err = fromABCI(res.Result.Events); err != nil {
		return TxResult{}, fmt.Errorf("%w: %v", ErrInternal, err)
	}
	return out, nil
}

// submitTxs checks each transaction into the mempool, in order, without waiting for blocks.
func (s *Service) submitTxs(ctx context.Context, req SubmitTxsRequest) (SubmitTxsResponse, error) {
	if n := len(req.Txs); n == 0 || n > MaxBatchTxs {
		return SubmitTxsResponse{}, fmt.Errorf("%w: %d transactions, want 1..%d", ErrInvalidArgument, n, MaxBatchTxs)
	}
	out := SubmitTxsResponse{Rejections: make([]*cerrors.Wire, len(req.Txs))}
	// Signatures are verified here, in batches on every core, rather than one at a time on
	// CometBFT's serialised CheckTx path, which then finds the verdicts in the mux's cache.
	s.mux.PreverifyTxs(req.Txs)
	for i, tx := range req.Txs {
		if err := ctx.Err(); err != nil {
			return SubmitTxsResponse{}, err
		}
		err := checkTx(tx)
		if err == nil {
			err = nodeError(s.node.CheckTx(ctx, tx))
		}
		if err != nil {
			w := cerrors.ToWire(err)
			out.Rejections[i] = &w
		}
	}
	return out, nil
}

// watchBlocks streams every committed block from the requested height on, until the client
// goes away. It polls the mux's last committed height.
func (s *Service) watchBlocks(ctx context.Context, req WatchBlocksRequest, send func(BlockOutcomes) error) error {
	if err := checkHeight(req.FromHeight); err != nil {
		return err
	}
	next := req.FromHeight
	if next == 0 {
		committed, _ := s.mux.LastCommitted()
		next = max(committed+1, s.doc.InitialHeight)
	}
	if next < s.doc.InitialHeight {
		return fmt.Errorf("%w: height %d is before the first block (%d)", ErrNoBlock, next, s.doc.InitialHeight)
	}
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		committed, _ := s.mux.LastCommitted()
		for ; next <= committed; next++ {
			b, r, err := s.blockAt(ctx, next)
			if err != nil {
				return err
			}
			out := BlockOutcomes{Height: next, Time: b.Block.Header.Time.UTC(), Txs: make([]TxOutcome, len(b.Block.Txs))}
			for i, tx := range b.Block.Txs {
				out.Txs[i] = TxOutcome{Hash: hash.Digest(tx)}
				if i < len(r.TxsResults) && r.TxsResults[i].Code != abci.CodeTypeOK {
					out.Txs[i].Module, out.Txs[i].Code = r.TxsResults[i].Codespace, r.TxsResults[i].Code
				}
			}
			if err := send(out); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
