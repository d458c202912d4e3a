// Package sdktest is the host side of the Runtime Host Protocol for tests and benchmarks of
// runtimes: an in-memory storage that serves read-sync proofs (Storage), a host connection over
// any stream that serves HostStorageSync from it (Host), and a runtime block chain that builds
// ExecuteTxBatch requests, checks the computed batches and applies their write logs (Chain).
//
// It works the same whether the runtime is in-process (sdk.Dispatcher), behind a socketpair or
// in a sandboxed process: Host takes any io.ReadWriteCloser.
package sdktest

import (
	"context"
	"fmt"
	"sync"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/mkvstest"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// Storage is an in-memory node DB holding any number of roots, which serves read-sync
// requests about every root it holds, as a storage node does. It is safe for concurrent use.
type Storage struct {
	store *mkvstest.MemStore

	mu    sync.Mutex
	trees map[node.Root]*mkvs.Tree
}

// NewStorage returns an empty storage.
func NewStorage() *Storage {
	return &Storage{store: mkvstest.NewMemStore(), trees: make(map[node.Root]*mkvs.Tree)}
}

var _ syncer.ReadSyncer = (*Storage)(nil)

// Apply applies wl on the tree at src (an empty src.Hash means an empty tree of src's type),
// commits the result as version and persists it. It returns the new root.
func (s *Storage) Apply(ctx context.Context, src node.Root, version uint64, wl writelog.WriteLog) (node.Root, error) {
	t := mkvs.NewWithRoot(src, s.store, mkvs.WithNodeCache(0))
	defer t.Close()
	if err := t.ApplyWriteLog(ctx, wl); err != nil {
		return node.Root{}, fmt.Errorf("sdktest: applying on %s: %w", src, err)
	}
	_, root, batch, err := t.Commit(ctx, src.Namespace, version)
	if err != nil {
		return node.Root{}, fmt.Errorf("sdktest: committing on %s: %w", src, err)
	}
	if err := s.store.Apply(ctx, batch); err != nil {
		return node.Root{}, fmt.Errorf("sdktest: persisting %s: %w", root, err)
	}
	return root, nil
}

// EmptyRoot returns the root of an empty tree of the given namespace, version and type.
func EmptyRoot(ns namespace.Namespace, version uint64, typ node.RootType) node.Root {
	return node.Root{Namespace: ns, Version: version, Type: typ, Hash: hash.Empty}
}

// tree returns a tree serving root.
func (s *Storage) tree(root node.Root) *mkvs.Tree {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trees[root]
	if !ok {
		t = mkvs.NewWithRoot(root, s.store)
		s.trees[root] = t
	}
	return t
}

// SyncGet serves a read-sync request about any root the storage holds.
func (s *Storage) SyncGet(ctx context.Context, req *syncer.GetRequest) (*syncer.ProofResponse, error) {
	return s.tree(req.Tree.Root).SyncGet(ctx, req)
}

// SyncGetPrefixes serves a read-sync request about any root the storage holds.
func (s *Storage) SyncGetPrefixes(ctx context.Context, req *syncer.GetPrefixesRequest) (*syncer.ProofResponse, error) {
	return s.tree(req.Tree.Root).SyncGetPrefixes(ctx, req)
}

// SyncIterate serves a read-sync request about any root the storage holds.
func (s *Storage) SyncIterate(ctx context.Context, req *syncer.IterateRequest) (*syncer.ProofResponse, error) {
	return s.tree(req.Tree.Root).SyncIterate(ctx, req)
}

// Get reads key from the tree at root.
func (s *Storage) Get(ctx context.Context, root node.Root, key []byte) ([]byte, error) {
	if root.Hash.IsEmpty() {
		return nil, nil
	}
	return s.tree(root).Get(ctx, key)
}
