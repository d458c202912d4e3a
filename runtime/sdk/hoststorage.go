package sdk

import (
	"context"
	"fmt"

	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// Caller sends a request to the peer and returns its response; *protocol.Connection is one.
type Caller interface {
	Call(ctx context.Context, body *messages.Body) (*messages.Body, error)
}

// NewHostStorage returns a syncer.ReadSyncer that forwards read-sync requests to the host as
// HostStorageSync requests (runtime endpoint). The host is not trusted: the MKVS verifies every
// proof it returns against the root the tree was opened at.
func NewHostStorage(c Caller) syncer.ReadSyncer { return &hostStorage{c: c} }

type hostStorage struct{ c Caller }

func (h *hostStorage) call(ctx context.Context, req *messages.HostStorageSyncRequest) (*syncer.ProofResponse, error) {
	resp, err := h.c.Call(ctx, &messages.Body{HostStorageSyncRequest: req})
	if err != nil {
		return nil, fmt.Errorf("sdk: host storage sync: %w", err)
	}
	if resp.HostStorageSyncResponse == nil {
		return nil, fmt.Errorf("sdk: host storage sync: %w: %s", protocol.ErrUnexpectedBody, resp.Kind())
	}
	return &resp.HostStorageSyncResponse.ProofResponse, nil
}

func (h *hostStorage) SyncGet(ctx context.Context, req *syncer.GetRequest) (*syncer.ProofResponse, error) {
	return h.call(ctx, &messages.HostStorageSyncRequest{SyncGet: req})
}

func (h *hostStorage) SyncGetPrefixes(ctx context.Context, req *syncer.GetPrefixesRequest) (*syncer.ProofResponse, error) {
	return h.call(ctx, &messages.HostStorageSyncRequest{SyncGetPrefixes: req})
}

func (h *hostStorage) SyncIterate(ctx context.Context, req *syncer.IterateRequest) (*syncer.ProofResponse, error) {
	return h.call(ctx, &messages.HostStorageSyncRequest{SyncIterate: req})
}

// lateCaller is a Caller whose connection is set after it is handed out: Serve builds the
// dispatcher (which needs storage) before the connection (which needs the dispatcher).
type lateCaller struct {
	ready chan struct{}
	conn  *protocol.Connection
}

func newLateCaller() *lateCaller { return &lateCaller{ready: make(chan struct{})} }

func (l *lateCaller) set(c *protocol.Connection) {
	l.conn = c
	close(l.ready)
}

func (l *lateCaller) Call(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	select {
	case <-l.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return l.conn.Call(ctx, body)
}
