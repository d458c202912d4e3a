package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/namespace"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// Dispatcher turns decoded host requests into calls of a Runtime and builds the responses. It
// is the SDK's one execution path: Serve puts it behind a protocol connection, and tests and
// benchmarks call it in-process with any syncer.ReadSyncer as the host's storage.
//
// A Dispatcher is safe for concurrent use; requests run concurrently with each other. Abort
// cancels every request in flight and returns once they have all returned.
type Dispatcher struct {
	rt      Runtime
	storage stateSource
	logger  *slog.Logger

	mu        sync.Mutex
	runtimeID *namespace.Namespace // from the handshake, when there was one
	nextID    uint64
	inflight  map[uint64]inflight

	shutdownOnce sync.Once
	shutdown     chan struct{}
}

type inflight struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// NewDispatcher returns a dispatcher running rt, reading state through storage (the host's
// HostStorageSync over a connection, or a local tree in tests). A nil logger discards.
//
// The dispatcher keeps the state nodes it has verified (from the host's proofs) or computed
// (by committing a batch) across requests, up to DefaultVerifiedNodeBytes, and asks storage
// only for nodes it does not hold: a node is named by its hash, so one verified under any root
// is valid under every root that refers to it.
func NewDispatcher(rt Runtime, storage syncer.ReadSyncer, logger *slog.Logger) *Dispatcher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{
		rt:       rt,
		storage:  stateSource{storage: storage, nodes: mkvs.NewVerifiedNodes(DefaultVerifiedNodeBytes)},
		logger:   logger,
		inflight: make(map[uint64]inflight),
		shutdown: make(chan struct{}),
	}
}

// Handler returns the dispatcher as a connection's handler, behind the runtime side of the
// handshake (protocol.ServeHandshake).
func (d *Dispatcher) Handler() protocol.Handler {
	return protocol.ServeHandshake(d.RuntimeInfo, d)
}

// ShutdownRequested returns a channel closed once the host has asked the runtime to shut down.
func (d *Dispatcher) ShutdownRequested() <-chan struct{} { return d.shutdown }

// RuntimeInfo answers the handshake with the runtime's version and remembers the runtime ID,
// against which later requests' blocks are checked.
func (d *Dispatcher) RuntimeInfo(_ context.Context, req *messages.RuntimeInfoRequest) (*messages.RuntimeInfoResponse, error) {
	d.mu.Lock()
	id := req.RuntimeID
	d.runtimeID = &id
	d.mu.Unlock()
	d.logger.Info("handshake", "runtime_id", id, "version", d.rt.Version())
	return &messages.RuntimeInfoResponse{
		ProtocolVersion: messages.ProtocolVersion,
		RuntimeVersion:  d.rt.Version(),
	}, nil
}

// Handle serves one request (every kind but the handshake, which Handler adds in front).
func (d *Dispatcher) Handle(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	switch {
	case body.RuntimeInfoRequest != nil:
		resp, err := d.RuntimeInfo(ctx, body.RuntimeInfoRequest)
		if err != nil {
			return nil, err
		}
		return &messages.Body{RuntimeInfoResponse: resp}, nil
	case body.RuntimePingRequest != nil:
		return &messages.Body{Empty: &messages.Empty{}}, nil
	case body.RuntimeAbortRequest != nil:
		return &messages.Body{Empty: &messages.Empty{}}, d.Abort(ctx)
	case body.RuntimeShutdownRequest != nil:
		d.shutdownOnce.Do(func() { close(d.shutdown) })
		return &messages.Body{Empty: &messages.Empty{}}, nil
	case body.RuntimeCheckTxBatchRequest != nil:
		resp, err := d.CheckTxBatch(ctx, body.RuntimeCheckTxBatchRequest)
		if err != nil {
			return nil, err
		}
		return &messages.Body{RuntimeCheckTxBatchResponse: resp}, nil
	case body.RuntimeExecuteTxBatchRequest != nil:
		resp, err := d.ExecuteTxBatch(ctx, body.RuntimeExecuteTxBatchRequest)
		if err != nil {
			return nil, err
		}
		return &messages.Body{RuntimeExecuteTxBatchResponse: resp}, nil
	case body.RuntimeQueryRequest != nil:
		resp, err := d.Query(ctx, body.RuntimeQueryRequest)
		if err != nil {
			return nil, err
		}
		return &messages.Body{RuntimeQueryResponse: resp}, nil
	default:
		return nil, fmt.Errorf("%w: %s", protocol.ErrMethodNotSupported, body.Kind())
	}
}

// track registers a request so that Abort can cancel it; the returned function deregisters it.
func (d *Dispatcher) track(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.mu.Lock()
	id := d.nextID
	d.nextID++
	d.inflight[id] = inflight{cancel: cancel, done: done}
	d.mu.Unlock()
	return ctx, func() {
		d.mu.Lock()
		delete(d.inflight, id)
		d.mu.Unlock()
		cancel()
		close(done)
	}
}

// Abort cancels every request in flight and waits until they have returned (or ctx ends).
func (d *Dispatcher) Abort(ctx context.Context) error {
	d.mu.Lock()
	waits := make([]chan struct{}, 0, len(d.inflight))
	for _, f := range d.inflight {
		f.cancel()
		waits = append(waits, f.done)
	}
	d.mu.Unlock()
	for _, done := range waits {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("sdk: abort: %w", ctx.Err())
		}
	}
	d.logger.Info("aborted requests in flight", "count", len(waits))
	return nil
}

// checkBlock refuses a malformed block or one of another runtime than the handshake named.
func (d *Dispatcher) checkBlock(block *roothash.Header) error {
	if err := block.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	d.mu.Lock()
	id := d.runtimeID
	d.mu.Unlock()
	if id != nil && *id != block.Namespace {
		return fmt.Errorf("%w: block of %s, runtime is %s", ErrWrongRuntime, block.Namespace, *id)
	}
	return nil
}

// ExecuteTxBatch executes a batch (DESIGN.md §5, §6). The inputs are checked against io_root
// by rebuilding the input tree locally, which needs no round trip; the state is read through
// the storage syncer at the block's state root. Errors fail the whole batch: ErrInputRootMismatch,
// ErrStateUnavailable, ErrAborted, ErrInvalidBlock, ErrWrongRuntime.
func (d *Dispatcher) ExecuteTxBatch(ctx context.Context, req *messages.RuntimeExecuteTxBatchRequest) (*messages.RuntimeExecuteTxBatchResponse, error) {
	ctx, done := d.track(ctx)
	defer done()
	if err := d.checkBlock(&req.Block); err != nil {
		return nil, err
	}
	resp, err := executeBatch(ctx, d.rt, d.storage, req, d.logger)
	if err != nil {
		return nil, err
	}
	d.logger.Debug("executed batch", "round", resp.Batch.Header.Round, "executed", len(resp.TxHashes),
		"rejected", len(resp.TxRejectHashes), "unexecuted", len(resp.Unexecuted))
	return resp, nil
}

// CheckTxBatch checks each input against the block's state, independently of the others, and
// returns one result per input: success, or the coded error of DecodeTx or CheckTx. Only a
// storage failure or an abort fails the request.
func (d *Dispatcher) CheckTxBatch(ctx context.Context, req *messages.RuntimeCheckTxBatchRequest) (*messages.RuntimeCheckTxBatchResponse, error) {
	ctx, done := d.track(ctx)
	defer done()
	if err := d.checkBlock(&req.Block); err != nil {
		return nil, err
	}
	env := newBlockEnv(&req.Block, req.Epoch, nil, 0)
	tree := d.storage.stateTree(&req.Block)
	defer tree.Close()
	txs := decodeAll(d.rt, req.Inputs)
	var failed error
	resp := &messages.RuntimeCheckTxBatchResponse{Results: make([]messages.CheckTxResult, len(txs))}
	for i := range txs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("sdk: check: %w: %w", ErrAborted, err)
		}
		err := txs[i].err
		if err == nil {
			tc := &TxContext{BlockInfo: BlockInfo{env}, ctx: ctx, state: newState(ctx, tree, &failed, true),
				txHash: txs[i].hash, hasTx: true, checkOn: true}
			err = d.rt.CheckTx(tc, txs[i].tx)
		}
		if failed != nil {
			return nil, fmt.Errorf("sdk: check: tx %d: %w", i, failed)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("sdk: check: %w: %w", ErrAborted, err)
		}
		if err != nil {
			resp.Results[i].Error = *messages.NewError(err)
		}
	}
	return resp, nil
}

// Query answers a query against the block's state. The runtime's errors are returned as they
// are (coded errors travel to the client); a storage failure gives ErrStateUnavailable.
func (d *Dispatcher) Query(ctx context.Context, req *messages.RuntimeQueryRequest) (*messages.RuntimeQueryResponse, error) {
	ctx, done := d.track(ctx)
	defer done()
	if err := d.checkBlock(&req.Block); err != nil {
		return nil, err
	}
	tree := d.storage.stateTree(&req.Block)
	defer tree.Close()
	var failed error
	qc := &QueryContext{
		BlockInfo: BlockInfo{newBlockEnv(&req.Block, 0, nil, 0)},
		ctx:       ctx,
		state:     newState(ctx, tree, &failed, true),
	}
	out, err := d.rt.Query(qc, req.Method, req.Args)
	if failed != nil {
		return nil, fmt.Errorf("sdk: query %q: %w", req.Method, failed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sdk: query %q: %w: %w", req.Method, ErrAborted, err)
	}
	if err != nil {
		return nil, err
	}
	return &messages.RuntimeQueryResponse{Data: cbor.Marshal(out)}, nil
}
