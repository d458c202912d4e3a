package host

import (
	"context"
	"fmt"

	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// RequestRouter is the usual Config.Handler: it serves the runtime's requests to the host.
// Storage sync requests go to the ReadSyncer of their endpoint (the runtime's own trees, or
// the consensus state), which answers with proofs the runtime verifies; local storage
// requests go to LocalStorage. A nil field refuses its requests with
// protocol.ErrMethodNotSupported. The fields must not change once the router is in use.
type RequestRouter struct {
	RuntimeStorage   syncer.ReadSyncer
	ConsensusStorage syncer.ReadSyncer
	LocalStorage     *LocalStorage
}

var _ protocol.Handler = (*RequestRouter)(nil)

// Handle serves one request of the runtime.
func (r *RequestRouter) Handle(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	switch {
	case body.HostStorageSyncRequest != nil:
		return r.storageSync(ctx, body.HostStorageSyncRequest)
	case body.HostLocalStorageGetRequest != nil && r.LocalStorage != nil:
		v := r.LocalStorage.Get(body.HostLocalStorageGetRequest.Key)
		return &messages.Body{HostLocalStorageGetResponse: &messages.HostLocalStorageGetResponse{Value: v}}, nil
	case body.HostLocalStorageSetRequest != nil && r.LocalStorage != nil:
		req := body.HostLocalStorageSetRequest
		return nil, r.LocalStorage.Set(req.Key, req.Value)
	}
	return nil, fmt.Errorf("%w: %s", protocol.ErrMethodNotSupported, body.Kind())
}

func (r *RequestRouter) storageSync(ctx context.Context, req *messages.HostStorageSyncRequest) (*messages.Body, error) {
	rs := r.RuntimeStorage
	if req.Endpoint == messages.StorageEndpointConsensus {
		rs = r.ConsensusStorage
	}
	if rs == nil {
		return nil, fmt.Errorf("%w: storage sync for endpoint %d", protocol.ErrMethodNotSupported, req.Endpoint)
	}
	var (
		resp *syncer.ProofResponse
		err  error
	)
	switch {
	case req.SyncGet != nil:
		resp, err = rs.SyncGet(ctx, req.SyncGet)
	case req.SyncGetPrefixes != nil:
		resp, err = rs.SyncGetPrefixes(ctx, req.SyncGetPrefixes)
	case req.SyncIterate != nil:
		resp, err = rs.SyncIterate(ctx, req.SyncIterate)
	default:
		return nil, fmt.Errorf("%w: empty storage sync request", messages.ErrMalformedMessage)
	}
	if err != nil {
		return nil, fmt.Errorf("host: storage sync: %w", err)
	}
	return &messages.Body{HostStorageSyncResponse: &messages.HostStorageSyncResponse{ProofResponse: *resp}}, nil
}
