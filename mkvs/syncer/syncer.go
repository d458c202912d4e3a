// Package syncer defines the MKVS read-sync protocol: requests for parts of a tree, answered
// with proofs that the requester verifies against a root it trusts.
//
// A proof is a pre-order list of entries over the part of the tree a request touched: an entry
// is 0x01 || node serialization (a node included in full), 0x02 || hash (a subtree left out), or
// nil (an absent child). VerifyProof checks a proof against a root hash and is pure.
package syncer

import (
	"context"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// TreeID names the tree a request reads and the node to start from: Position is the hash of a
// node already held by the requester (the root hash to start at the root).
type TreeID struct {
	Root     node.Root `cbor:"root"`
	Position hash.Hash `cbor:"position"`
}

// GetRequest asks for the path to Key; with IncludeSiblings the siblings along the path are
// included in full rather than as hashes.
type GetRequest struct {
	Tree            TreeID `cbor:"tree"`
	Key             []byte `cbor:"key"`
	IncludeSiblings bool   `cbor:"include_siblings,omitempty"`
}

// GetPrefixesRequest asks for up to Limit keys (0: no limit) under each of Prefixes, in key
// order.
type GetPrefixesRequest struct {
	Tree     TreeID   `cbor:"tree"`
	Prefixes [][]byte `cbor:"prefixes"`
	Limit    uint16   `cbor:"limit"`
}

// IterateRequest asks for the first key at or after Key and up to Prefetch keys following it.
type IterateRequest struct {
	Tree     TreeID `cbor:"tree"`
	Key      []byte `cbor:"key"`
	Prefetch uint16 `cbor:"prefetch"`
}

// Proof is a pre-order list of entries proving part of the tree under UntrustedRoot.
type Proof struct {
	UntrustedRoot hash.Hash `cbor:"untrusted_root"`
	Entries       [][]byte  `cbor:"entries"`
}

// ProofResponse answers every read-sync request.
type ProofResponse struct {
	Proof Proof `cbor:"proof"`
}

// ReadSyncer serves read-sync requests. The local node DB (through a tree opened on it) and
// remote peers implement it; implementations are safe for concurrent use.
type ReadSyncer interface {
	SyncGet(ctx context.Context, req *GetRequest) (*ProofResponse, error)
	SyncGetPrefixes(ctx context.Context, req *GetPrefixesRequest) (*ProofResponse, error)
	SyncIterate(ctx context.Context, req *IterateRequest) (*ProofResponse, error)
}
