package sdk

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/sdk/iotree"
)

// prefetchChunk is how many keys one prefetch request asks for, so that a proof stays far
// below the frame cap.
const prefetchChunk = 256

// decodedTx is one input of a request.
type decodedTx struct {
	raw  []byte
	hash hash.Hash
	tx   Tx
	err  error
}

func decodeAll(rt Runtime, inputs [][]byte) []decodedTx {
	out := make([]decodedTx, len(inputs))
	for i, raw := range inputs {
		tx, err := rt.DecodeTx(raw)
		out[i] = decodedTx{raw: raw, hash: hash.Digest(raw), tx: tx, err: err}
	}
	return out
}

// DefaultVerifiedNodeBytes bounds the memory of the nodes a Dispatcher keeps across requests.
const DefaultVerifiedNodeBytes = 64 << 20

// stateSource opens state trees that read through the storage syncer and share a store of
// verified nodes: nodes are immutable and named by their hash, so what one request verified
// (or committed) serves every later request, whatever its root, without a round trip.
type stateSource struct {
	storage syncer.ReadSyncer
	nodes   *mkvs.VerifiedNodes
}

// stateTree opens the state of block.
func (s stateSource) stateTree(block *roothash.Header) *mkvs.Tree {
	root := node.Root{Namespace: block.Namespace, Version: block.Round, Type: node.RootTypeState, Hash: block.StateRoot}
	return mkvs.NewWithSyncer(root, s.storage, mkvs.WithNodeCache(0), mkvs.WithVerifiedNodes(s.nodes))
}

// prefetch loads the paths to the keys the decoded transactions will touch, when the runtime
// says which. Failures other than an abort are left to the lazy loads that follow.
func prefetch(ctx context.Context, rt Runtime, tree *mkvs.Tree, txs []decodedTx, logger *slog.Logger) error {
	p, ok := rt.(Prefetcher)
	if !ok {
		return nil
	}
	var keys [][]byte
	seen := make(map[string]bool)
	for i := range txs {
		if txs[i].err != nil {
			continue
		}
		for _, k := range p.PrefetchKeys(txs[i].tx) {
			if len(k) <= maxKeySize && !seen[string(k)] {
				seen[string(k)] = true
				keys = append(keys, k)
			}
		}
	}
	for start := 0; start < len(keys); start += prefetchChunk {
		end := min(start+prefetchChunk, len(keys))
		if err := tree.PrefetchPrefixes(ctx, keys[start:end], 1); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %w", ErrAborted, err)
			}
			logger.Debug("prefetch failed, loading lazily", "err", err)
			return nil
		}
	}
	return nil
}

// batchRun is the execution of one ExecuteTxBatch request.
type batchRun struct {
	ctx    context.Context
	rt     Runtime
	env    *blockEnv
	state  *mkvs.Tree
	io     *mkvs.Tree
	budget *budget
	failed error
	// executed counts transactions that got an output.
	executed int
	msgs     []roothash.Message
	resp     messages.RuntimeExecuteTxBatchResponse
}

// executeBatch runs req against storage. It is the SDK's one execution path, whether the
// request came over a socket or from a test in-process.
func executeBatch(ctx context.Context, rt Runtime, storage stateSource, req *messages.RuntimeExecuteTxBatchRequest, logger *slog.Logger) (*messages.RuntimeExecuteTxBatchResponse, error) {
	block := &req.Block
	ns, round := block.Namespace, block.Round+1
	inputs, err := iotree.BuildInputs(ctx, ns, round, req.Inputs)
	if err != nil {
		return nil, fmt.Errorf("sdk: execute: %w", err)
	}
	defer inputs.Tree.Close()
	if inputs.Root.Hash != req.IORoot {
		return nil, fmt.Errorf("%w: inputs give %s, request says %s", ErrInputRootMismatch, inputs.Root.Hash, req.IORoot)
	}
	state := storage.stateTree(block)
	defer state.Close()

	b := &batchRun{
		ctx:    ctx,
		rt:     rt,
		env:    newBlockEnv(block, req.Epoch, &req.RoundResults, req.MaxMessages),
		state:  state,
		io:     inputs.Tree,
		budget: newBudget(req.Limits),
		resp:   messages.RuntimeExecuteTxBatchResponse{TxHashes: []hash.Hash{}},
	}
	txs := decodeAll(rt, req.Inputs)
	if err := prefetch(ctx, rt, state, txs, logger); err != nil {
		return nil, fmt.Errorf("sdk: execute: %w", err)
	}
	if err := b.beginBatch(); err != nil {
		return nil, fmt.Errorf("sdk: execute: %w", err)
	}
	for i := range txs {
		if !inputs.First[i] {
			continue // a repeat of an earlier input: executed once, there
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("sdk: execute: %w: %w", ErrAborted, err)
		}
		if b.resp.Unexecuted != nil {
			b.resp.Unexecuted = append(b.resp.Unexecuted, txs[i].hash)
			continue
		}
		if err := b.runTx(&txs[i]); err != nil {
			return nil, fmt.Errorf("sdk: execute: tx %d (%s): %w", i, txs[i].hash, err)
		}
	}
	return b.finish()
}

func (b *batchRun) newTxContext(state *State) *TxContext {
	return &TxContext{BlockInfo: BlockInfo{b.env}, ctx: b.ctx, state: state, batchMessages: len(b.msgs)}
}

// beginBatch runs the runtime's BatchStarter, if any.
func (b *batchRun) beginBatch() error {
	s, ok := b.rt.(BatchStarter)
	if !ok {
		return nil
	}
	st := newState(b.ctx, b.state, &b.failed, false)
	tc := b.newTxContext(st)
	err := s.BeginBatch(tc)
	if b.failed != nil {
		return b.failed
	}
	if err := b.ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrAborted, err)
	}
	if err != nil || checkMessages(tc) != nil {
		return nil // dropped, as documented
	}
	return b.commitTx(tc, nil, cost{})
}

// runTx checks and executes one transaction and records its outcome. It returns an error only
// when the whole batch must fail.
func (b *batchRun) runTx(d *decodedTx) error {
	if d.err != nil {
		b.resp.TxRejectHashes = append(b.resp.TxRejectHashes, d.hash)
		return nil
	}
	st := newState(b.ctx, b.state, &b.failed, true)
	tc := b.newTxContext(st)
	tc.txHash, tc.hasTx, tc.checkOn = d.hash, true, true
	txErr := b.rt.CheckTx(tc, d.tx)
	var out any
	if txErr == nil {
		st.readOnly, tc.checkOn = false, false
		out, txErr = b.rt.ExecuteTx(tc, d.tx)
	}
	if b.failed != nil {
		return b.failed
	}
	if err := b.ctx.Err(); err != nil {
		// The outcome may reflect the cancellation rather than the transaction.
		return fmt.Errorf("%w: %w", ErrAborted, err)
	}
	if txErr == nil {
		txErr = checkMessages(tc)
	}
	var output iotree.Output
	if txErr == nil {
		output.Ok = cbor.Marshal(out)
		txErr = checkOutputSize(output.Ok)
	}
	if txErr != nil {
		return b.fail(d, txErr)
	}
	outKey := iotree.OutputKey(d.hash)
	enc := iotree.EncodeOutput(&output)
	io := ioCost([2]int{len(outKey), len(enc)})
	for _, t := range tc.tags {
		io = io.plus(ioCost([2]int{1 + len(t.key) + hash.Size, len(t.value)}))
	}
	alone, added := b.budget.stateCost(st.overlay)
	switch {
	case !alone.plus(io).within(b.budget.limits):
		return b.fail(d, fmt.Errorf("%w: %d entries and %d bytes", ErrTxTooLarge, alone.plus(io).entries, alone.plus(io).bytes))
	case !b.budget.fits(added.plus(io)):
		b.stopAt(d)
		return nil
	}
	if err := b.commitTx(tc, enc, io); err != nil {
		return err
	}
	b.resp.TxHashes = append(b.resp.TxHashes, d.hash)
	b.executed++
	return nil
}

// checkMessages fails a transaction whose messages are malformed or too many for the batch.
func checkMessages(tc *TxContext) error {
	for i := range tc.messages {
		if err := tc.messages[i].ValidateBasic(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
	}
	if n := tc.batchMessages + len(tc.messages); n > int(tc.env.maxMessages) {
		return fmt.Errorf("%w: %d, at most %d", ErrTooManyMessages, n, tc.env.maxMessages)
	}
	return nil
}

// checkOutputSize fails a transaction whose output does not fit in an MKVS value.
func checkOutputSize(ok []byte) error {
	if len(ok) > maxValueSize-16 {
		return fmt.Errorf("%w: output of %d bytes", ErrTxTooLarge, len(ok))
	}
	return nil
}

// fail records d as executed and failed with txErr, or defers it when even its error output
// does not fit in a batch that already holds something.
func (b *batchRun) fail(d *decodedTx, txErr error) error {
	w := coded.ToWire(txErr)
	enc := iotree.EncodeOutput(&iotree.Output{Error: &w})
	io := ioCost([2]int{2 + hash.Size, len(enc)})
	if !b.budget.fits(io) && b.executed > 0 {
		b.stopAt(d)
		return nil
	}
	if err := b.io.Insert(b.ctx, iotree.OutputKey(d.hash), enc); err != nil {
		return fmt.Errorf("sdk: io tree: %w", err)
	}
	b.budget.add(nil, io)
	b.resp.TxHashes = append(b.resp.TxHashes, d.hash)
	b.executed++
	return nil
}

// stopAt stops the batch at d: it and every later input stay in the pool.
func (b *batchRun) stopAt(d *decodedTx) {
	b.resp.Unexecuted = append(make([]hash.Hash, 0, 1), d.hash)
}

// commitTx makes a successful transaction's effects part of the batch: its state writes, its
// messages, its output (enc, nil for BeginBatch) and tags.
func (b *batchRun) commitTx(tc *TxContext, enc []byte, io cost) error {
	if err := tc.state.apply(); err != nil {
		return err
	}
	b.budget.add(tc.state.overlay, io)
	b.msgs = append(b.msgs, tc.messages...)
	if enc == nil {
		return nil
	}
	if err := b.io.Insert(b.ctx, iotree.OutputKey(tc.txHash), enc); err != nil {
		return fmt.Errorf("sdk: io tree: %w", err)
	}
	for _, t := range tc.tags {
		if err := b.io.Insert(b.ctx, iotree.TagKey(t.key, tc.txHash), t.value); err != nil {
			return fmt.Errorf("sdk: io tree: %w", err)
		}
	}
	return nil
}

// finish commits both trees and builds the response.
func (b *batchRun) finish() (*messages.RuntimeExecuteTxBatchResponse, error) {
	ns, round := b.env.block.Namespace, b.env.block.Round+1
	stateLog, stateRoot, _, err := b.state.Commit(b.ctx, ns, round)
	if err != nil {
		return nil, fmt.Errorf("sdk: execute: committing state: %w", storageError(b.ctx, err))
	}
	ioLog, ioRoot, _, err := b.io.Commit(b.ctx, ns, round)
	if err != nil {
		return nil, fmt.Errorf("sdk: execute: committing io: %w", err)
	}
	b.resp.Batch = messages.ComputedBatch{
		Header: roothash.ComputeResultsHeader{
			Round:        round,
			PreviousHash: b.env.blockHash,
			IORoot:       ioRoot.Hash,
			StateRoot:    stateRoot.Hash,
			MessagesHash: roothash.MessagesHash(b.msgs),
		},
		IOWriteLog:    ioLog,
		StateWriteLog: stateLog,
		Messages:      b.msgs,
	}
	return &b.resp, nil
}
