package sdktest

import (
	"context"
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/sdk/iotree"
)

// ErrBadBatch is returned by Chain.Finalize for a computed batch that does not check out.
var ErrBadBatch = errors.New("sdktest: computed batch does not check out")

// Chain is a runtime's chain of blocks as the host side of a test sees it: the latest block,
// its roots in a Storage, and the parameters of the next ExecuteTxBatch. It is not safe for
// concurrent use.
type Chain struct {
	storage *Storage
	block   roothash.Header
	results roothash.RoundResults

	// Epoch, MaxMessages and Limits go into every request built.
	Epoch       uint64
	MaxMessages uint32
	Limits      messages.BatchLimits
}

// NewChain stores the genesis state (the entries of genesis, applied on an empty tree) and
// returns a chain whose latest block is round 0 with that state.
func NewChain(ctx context.Context, ns namespace.Namespace, storage *Storage, genesis writelog.WriteLog) (*Chain, error) {
	state, err := storage.Apply(ctx, EmptyRoot(ns, 0, node.RootTypeState), 0, genesis)
	if err != nil {
		return nil, err
	}
	return &Chain{
		storage: storage,
		block: roothash.Header{
			Namespace:    ns,
			Timestamp:    1_700_000_000,
			HeaderType:   roothash.HeaderTypeNormal,
			IORoot:       hash.Empty,
			StateRoot:    state.Hash,
			MessagesHash: hash.Empty,
		},
		MaxMessages: 16,
		Limits:      messages.BatchLimits{MaxApplyWriteLogEntries: 100_000, MaxBatchBytes: 8 << 20},
	}, nil
}

// Block returns the latest block's header.
func (c *Chain) Block() roothash.Header { return c.block }

// StateRoot returns the latest state root.
func (c *Chain) StateRoot() node.Root {
	return node.Root{Namespace: c.block.Namespace, Version: c.block.Round, Type: node.RootTypeState, Hash: c.block.StateRoot}
}

// IORoot returns the latest IO root.
func (c *Chain) IORoot() node.Root {
	return node.Root{Namespace: c.block.Namespace, Version: c.block.Round, Type: node.RootTypeIO, Hash: c.block.IORoot}
}

// SetRoundResults sets the message results that go with the next requests, as roothash would
// after executing the latest block's messages.
func (c *Chain) SetRoundResults(r roothash.RoundResults) { c.results = r }

// ExecuteRequest stores the inputs-only IO tree of a batch of inputs, as the scheduler does,
// and returns the ExecuteTxBatch request for it on top of the latest block.
func (c *Chain) ExecuteRequest(ctx context.Context, inputs [][]byte) (*messages.RuntimeExecuteTxBatchRequest, error) {
	round := c.block.Round + 1
	wl, _ := iotree.InputWriteLog(inputs)
	root, err := c.storage.Apply(ctx, EmptyRoot(c.block.Namespace, round, node.RootTypeIO), round, wl)
	if err != nil {
		return nil, err
	}
	return &messages.RuntimeExecuteTxBatchRequest{
		IORoot:       root.Hash,
		Inputs:       inputs,
		RoundResults: c.results,
		Block:        c.block,
		Epoch:        c.Epoch,
		MaxMessages:  c.MaxMessages,
		Limits:       c.Limits,
	}, nil
}

// CheckRequest returns a CheckTxBatch request for inputs against the latest block.
func (c *Chain) CheckRequest(inputs [][]byte) *messages.RuntimeCheckTxBatchRequest {
	return &messages.RuntimeCheckTxBatchRequest{Inputs: inputs, Block: c.block, Epoch: c.Epoch}
}

// QueryRequest returns a Query request against the latest block.
func (c *Chain) QueryRequest(method string, args any) *messages.RuntimeQueryRequest {
	var raw cbor.RawMessage
	if args != nil {
		raw = cbor.Marshal(args)
	}
	return &messages.RuntimeQueryRequest{Method: method, Args: raw, Block: c.block}
}

// Finalize checks a computed batch against its request as an executor and roothash would: the
// header's round and previous hash, the messages and their hash, canonical write logs, an IO
// write log of outputs and tags only; it applies both write logs in storage and checks that
// they give the header's roots. On success the batch's block becomes the latest (a Normal
// block one second later) and the round results are cleared.
func (c *Chain) Finalize(ctx context.Context, req *messages.RuntimeExecuteTxBatchRequest, resp *messages.RuntimeExecuteTxBatchResponse) error {
	b := &resp.Batch
	h := &b.Header
	round := c.block.Round + 1
	switch {
	case !c.block.IsParentOf(h):
		return fmt.Errorf("%w: header round %d previous %s, want %d and %s", ErrBadBatch, h.Round, h.PreviousHash, round, c.block.Hash())
	case h.MessagesHash != roothash.MessagesHash(b.Messages):
		return fmt.Errorf("%w: messages hash %s does not match the messages", ErrBadBatch, h.MessagesHash)
	case len(b.Messages) > int(req.MaxMessages):
		return fmt.Errorf("%w: %d messages, at most %d", ErrBadBatch, len(b.Messages), req.MaxMessages)
	case !b.IOWriteLog.IsCanonical() || !b.StateWriteLog.IsCanonical():
		return fmt.Errorf("%w: write log not sorted or with repeated keys", ErrBadBatch)
	}
	for _, e := range b.IOWriteLog {
		if len(e.Key) > 0 && e.Key[0] == iotree.PrefixTx && e.Key[len(e.Key)-1] == iotree.KindInput && len(e.Key) == 2+hash.Size {
			return fmt.Errorf("%w: io write log touches input %x", ErrBadBatch, e.Key)
		}
	}
	ns := c.block.Namespace
	io, err := c.storage.Apply(ctx, node.Root{Namespace: ns, Version: round, Type: node.RootTypeIO, Hash: req.IORoot}, round, b.IOWriteLog)
	if err != nil {
		return err
	}
	if io.Hash != h.IORoot {
		return fmt.Errorf("%w: io write log gives %s, header says %s", ErrBadBatch, io.Hash, h.IORoot)
	}
	state, err := c.storage.Apply(ctx, c.StateRoot(), round, b.StateWriteLog)
	if err != nil {
		return err
	}
	if state.Hash != h.StateRoot {
		return fmt.Errorf("%w: state write log gives %s, header says %s", ErrBadBatch, state.Hash, h.StateRoot)
	}
	c.block = roothash.Header{
		Namespace:    ns,
		Round:        round,
		Timestamp:    c.block.Timestamp + 1,
		HeaderType:   roothash.HeaderTypeNormal,
		PreviousHash: h.PreviousHash,
		IORoot:       h.IORoot,
		StateRoot:    h.StateRoot,
		MessagesHash: h.MessagesHash,
	}
	c.results = roothash.RoundResults{}
	return nil
}

// Output returns the output of the transaction raw in the latest block's IO tree, or nil when
// it has none.
func (c *Chain) Output(ctx context.Context, raw []byte) (*iotree.Output, error) {
	v, err := c.storage.Get(ctx, c.IORoot(), iotree.OutputKey(hash.Digest(raw)))
	if err != nil || v == nil {
		return nil, err
	}
	return iotree.DecodeOutput(v)
}

// Tag returns the value of tag key emitted by transaction raw in the latest block, or nil.
func (c *Chain) Tag(ctx context.Context, key, raw []byte) ([]byte, error) {
	return c.storage.Get(ctx, c.IORoot(), iotree.TagKey(key, hash.Digest(raw)))
}

// StateGet reads key from the latest state.
func (c *Chain) StateGet(ctx context.Context, key []byte) ([]byte, error) {
	return c.storage.Get(ctx, c.StateRoot(), key)
}
