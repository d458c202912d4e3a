package messages

import (
	"fmt"

	"github.com/atoll-project/atoll/mkvs/syncer"
)

// This file holds the runtime → host requests and their responses.

// StorageEndpoint names the tree family a storage sync request reads.
type StorageEndpoint uint8

const (
	// StorageEndpointRuntime reads the runtime's own state and IO trees.
	StorageEndpointRuntime StorageEndpoint = 0
	// StorageEndpointConsensus reads the consensus layer's state tree.
	StorageEndpointConsensus StorageEndpoint = 1
)

// HostStorageSyncRequest is a read-only MKVS read-sync request. Exactly one of SyncGet,
// SyncGetPrefixes and SyncIterate is set. The host answers with a proof that the runtime
// verifies against the root it was given; the host is not trusted.
type HostStorageSyncRequest struct {
	Endpoint        StorageEndpoint            `cbor:"endpoint,omitempty"`
	SyncGet         *syncer.GetRequest         `cbor:"sync_get,omitempty"`
	SyncGetPrefixes *syncer.GetPrefixesRequest `cbor:"sync_get_prefixes,omitempty"`
	SyncIterate     *syncer.IterateRequest     `cbor:"sync_iterate,omitempty"`
}

// ValidateBasic checks that the endpoint is known and exactly one request is set.
func (r *HostStorageSyncRequest) ValidateBasic() error {
	if r.Endpoint > StorageEndpointConsensus {
		return fmt.Errorf("%w: storage sync endpoint %d", ErrMalformedMessage, r.Endpoint)
	}
	n := 0
	for _, set := range []bool{r.SyncGet != nil, r.SyncGetPrefixes != nil, r.SyncIterate != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: storage sync request with %d requests set, want 1", ErrMalformedMessage, n)
	}
	return nil
}

// HostStorageSyncResponse carries the proof answering a storage sync request; its CBOR form is
// that of syncer.ProofResponse, {"proof": ...}.
type HostStorageSyncResponse struct {
	syncer.ProofResponse
}

// HostLocalStorageGetRequest reads the runtime's untrusted node-local key-value store.
type HostLocalStorageGetRequest struct {
	Key []byte `cbor:"key"`
}

// HostLocalStorageGetResponse carries the value: nil (CBOR null) when the key is not set,
// which is told apart from an empty value.
type HostLocalStorageGetResponse struct {
	Value []byte `cbor:"value"`
}

// HostLocalStorageSetRequest writes the runtime's untrusted node-local key-value store; the
// host answers Empty.
type HostLocalStorageSetRequest struct {
	Key   []byte `cbor:"key"`
	Value []byte `cbor:"value"`
}
