package sdktest

import (
	"context"
	"fmt"
	"io"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// Runtime is a runtime as a host drives it. *sdk.Dispatcher (in-process) and *Host (over a
// stream) both implement it, so one test or benchmark can run against either.
type Runtime interface {
	CheckTxBatch(ctx context.Context, req *messages.RuntimeCheckTxBatchRequest) (*messages.RuntimeCheckTxBatchResponse, error)
	ExecuteTxBatch(ctx context.Context, req *messages.RuntimeExecuteTxBatchRequest) (*messages.RuntimeExecuteTxBatchResponse, error)
	Query(ctx context.Context, req *messages.RuntimeQueryRequest) (*messages.RuntimeQueryResponse, error)
}

// Host is the host's end of a runtime connection: it sends requests and answers the runtime's
// HostStorageSync requests (runtime endpoint) from storage; it refuses every other request.
// It is safe for concurrent use.
type Host struct {
	conn *protocol.Connection
}

var _ Runtime = (*Host)(nil)

// NewHost starts a host connection over rwc, which it owns.
func NewHost(rwc io.ReadWriteCloser, storage syncer.ReadSyncer, cfg protocol.Config) *Host {
	return &Host{conn: protocol.NewConnection(rwc, storageHandler{storage}, cfg)}
}

type storageHandler struct{ rs syncer.ReadSyncer }

func (h storageHandler) Handle(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	req := body.HostStorageSyncRequest
	if req == nil || req.Endpoint != messages.StorageEndpointRuntime {
		return nil, fmt.Errorf("%w: %s", protocol.ErrMethodNotSupported, body.Kind())
	}
	var (
		resp *syncer.ProofResponse
		err  error
	)
	switch {
	case req.SyncGet != nil:
		resp, err = h.rs.SyncGet(ctx, req.SyncGet)
	case req.SyncGetPrefixes != nil:
		resp, err = h.rs.SyncGetPrefixes(ctx, req.SyncGetPrefixes)
	default:
		resp, err = h.rs.SyncIterate(ctx, req.SyncIterate)
	}
	if err != nil {
		return nil, err
	}
	return &messages.Body{HostStorageSyncResponse: &messages.HostStorageSyncResponse{ProofResponse: *resp}}, nil
}

// Conn returns the underlying connection.
func (h *Host) Conn() *protocol.Connection { return h.conn }

// Close closes the connection and waits for its goroutines.
func (h *Host) Close() error { return h.conn.Close() }

// Handshake performs the host's side of the handshake for runtime id.
func (h *Host) Handshake(ctx context.Context, id namespace.Namespace) (*messages.RuntimeInfoResponse, error) {
	return protocol.InitHost(ctx, h.conn, messages.RuntimeInfoRequest{
		RuntimeID:             id,
		ConsensusChainContext: hash.Digest([]byte("sdktest chain")),
	})
}

// Ping asks the runtime whether it is alive.
func (h *Host) Ping(ctx context.Context) error {
	_, err := h.conn.Call(ctx, &messages.Body{RuntimePingRequest: &messages.RuntimePingRequest{}})
	return err
}

// Abort asks the runtime to abandon its requests in flight.
func (h *Host) Abort(ctx context.Context) error {
	_, err := h.conn.Call(ctx, &messages.Body{RuntimeAbortRequest: &messages.RuntimeAbortRequest{}})
	return err
}

// Shutdown asks the runtime to exit.
func (h *Host) Shutdown(ctx context.Context) error {
	_, err := h.conn.Call(ctx, &messages.Body{RuntimeShutdownRequest: &messages.RuntimeShutdownRequest{}})
	return err
}

// CheckTxBatch sends a CheckTxBatch request.
func (h *Host) CheckTxBatch(ctx context.Context, req *messages.RuntimeCheckTxBatchRequest) (*messages.RuntimeCheckTxBatchResponse, error) {
	resp, err := h.conn.Call(ctx, &messages.Body{RuntimeCheckTxBatchRequest: req})
	if err != nil {
		return nil, err
	}
	if resp.RuntimeCheckTxBatchResponse == nil {
		return nil, fmt.Errorf("%w: %s", protocol.ErrUnexpectedBody, resp.Kind())
	}
	return resp.RuntimeCheckTxBatchResponse, nil
}

// ExecuteTxBatch sends an ExecuteTxBatch request.
func (h *Host) ExecuteTxBatch(ctx context.Context, req *messages.RuntimeExecuteTxBatchRequest) (*messages.RuntimeExecuteTxBatchResponse, error) {
	resp, err := h.conn.Call(ctx, &messages.Body{RuntimeExecuteTxBatchRequest: req})
	if err != nil {
		return nil, err
	}
	if resp.RuntimeExecuteTxBatchResponse == nil {
		return nil, fmt.Errorf("%w: %s", protocol.ErrUnexpectedBody, resp.Kind())
	}
	return resp.RuntimeExecuteTxBatchResponse, nil
}

// Query sends a Query request.
func (h *Host) Query(ctx context.Context, req *messages.RuntimeQueryRequest) (*messages.RuntimeQueryResponse, error) {
	resp, err := h.conn.Call(ctx, &messages.Body{RuntimeQueryRequest: req})
	if err != nil {
		return nil, err
	}
	if resp.RuntimeQueryResponse == nil {
		return nil, fmt.Errorf("%w: %s", protocol.ErrUnexpectedBody, resp.Kind())
	}
	return resp.RuntimeQueryResponse, nil
}
