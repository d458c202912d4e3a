// Package mkvs is the Merklized key-value store: a binary Patricia trie over byte keys whose
// nodes are hashed into a root that commits to the whole contents.
//
// The trie is canonical (DESIGN.md §8, §12): the same contents give the same root whatever
// the history. A node's label is the run of key bits it covers, starting with the bit its
// parent branched on; an internal node branches on the bit after its label (left is 0); a key
// that ends exactly at an internal node lives in its leaf slot; an internal node exists only
// where at least two of {leaf slot, left, right} are filled, so a one-key tree's root is that
// leaf.
//
// A Tree starts empty (New), from a root persisted in a node DB (NewWithRoot) or from a root
// served by a remote peer (NewWithSyncer). Nodes are loaded lazily as operations reach them;
// nodes from a remote peer are accepted only with a proof that verifies against the hash the
// tree expects. Commit hashes what changed and hands back the new nodes and the write log for
// the caller to persist; the package itself does no I/O beyond its node.Reader or
// syncer.ReadSyncer. A Tree also serves read-sync requests over its own nodes (it implements
// syncer.ReadSyncer), which is how a storage node answers peers.
//
// Keys are 0 to node.MaxKeySize bytes (the empty key is a key), values 0 to node.MaxValueSize
// bytes (a nil value is stored as empty).
package mkvs

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

var (
	// ErrKeyTooLarge is returned for a key over node.MaxKeySize bytes.
	ErrKeyTooLarge = node.ErrKeyTooLarge
	// ErrValueTooLarge is returned for a value over node.MaxValueSize bytes.
	ErrValueTooLarge = node.ErrValueTooLarge
	// ErrClosed is returned by every operation on a closed tree.
	ErrClosed = errors.New("mkvs: tree is closed")
	// ErrNamespaceMismatch is returned by Commit when the namespace differs from the one of the
	// root the tree was opened at.
	ErrNamespaceMismatch = errors.New("mkvs: commit namespace differs from the tree's")
	// ErrVersionRegression is returned by Commit for a version below the current root's.
	ErrVersionRegression = errors.New("mkvs: commit version below the current root's")
	// ErrCorruptNode is returned when a node DB hands back a node whose hash differs from the
	// one its parent refers to.
	ErrCorruptNode = errors.New("mkvs: node store returned a node with the wrong hash")
)

const (
	// DefaultNodeCacheBytes is the default budget of the node cache.
	DefaultNodeCacheBytes = 128 << 20
	// DefaultSyncPrefetch is the default number of keys an iterator over a remote tree asks for
	// beyond the one it needs.
	DefaultSyncPrefetch = 16
)

// Option configures a Tree.
type Option func(*options)

type options struct {
	rootType   node.RootType
	cacheBytes int
	prefetch   uint16
	verified   *VerifiedNodes
}

// WithRootType sets the type of the roots a tree built by New commits (default
// node.RootTypeState). Trees opened at a root take the root's type.
func WithRootType(t node.RootType) Option { return func(o *options) { o.rootType = t } }

// WithNodeCache bounds the memory, in bytes, taken by clean nodes that can be loaded again
// (from the node DB or the remote peer); the least recently used ones are dropped past it.
// maxBytes <= 0 keeps every node. Dirty nodes, and nodes of a tree with nowhere to load them
// from, are never dropped.
func WithNodeCache(maxBytes int) Option { return func(o *options) { o.cacheBytes = maxBytes } }

// WithSyncPrefetch sets how many keys past the one it needs an iterator over a remote tree
// asks for in one request.
func WithSyncPrefetch(n uint16) Option { return func(o *options) { o.prefetch = n } }

// Tree is an MKVS tree. A Tree is not meant for concurrent use: mutations, commits and
// iterators assume a single goroutine. Its methods do take an internal lock, so read-only use
// from several goroutines (Get, and the Sync* methods through which a storage node serves
// peers) is safe; an Iterator itself must stay on one goroutine.
//
// Slices a Tree hands out (Get results excepted, which are copies) share memory with the tree
// and must not be modified: iterator keys and values, write logs and batches.
type Tree struct {
	mu      sync.Mutex
	opts    options
	root    node.Root     // the committed root
	rootPtr *node.Pointer // the current (possibly dirty) root node; nil for an empty tree
	// resolved reports whether rootPtr has been resolved from root through the reader.
	resolved bool
	src      source // where unloaded nodes come from; nil when nothing is persisted
	cache    nodeCache
	changes  map[string]*change // keys touched since the last commit
	// changeSlab holds the changes of the map (see noteChange).
	changeSlab []change
	// obsolete lists the clean nodes replaced since the last commit (Batch.Obsolete); pending
	// those replaced by the operation under way, moved to obsolete once it succeeds (a failed
	// operation leaves the tree as it was).
	obsolete []node.NodeRef
	pending  []node.NodeRef
	hasher   hasher
	closed   bool
}

// New returns an empty tree.
func New(opts ...Option) *Tree {
	t := newTree(opts)
	t.root = node.Root{Type: t.opts.rootType, Hash: hash.Empty}
	t.resolved = true
	return t
}

// NewWithRoot returns a tree at root, whose nodes the tree loads from reader as operations
// reach them. Nodes committed by the tree become droppable from the node cache once Commit
// returns: the caller must persist each Commit's batch to reader before the next operation
// on the tree (or open it WithNodeCache(0)). An unknown root surfaces as an error (wrapping
// node.ErrRootNotFound) from the first operation.
func NewWithRoot(root node.Root, reader node.Reader, opts ...Option) *Tree {
	t := newTree(opts)
	t.root = root
	t.opts.rootType = root.Type
	t.src = &readerSource{reader: reader}
	t.cache.evictable = true
	return t
}

// NewWithSyncer returns a tree at root whose nodes are fetched from rs as operations reach
// them. Every response must carry a proof that verifies against the hash the tree expects at
// that place; anything else is an error and nothing of it is used.
func NewWithSyncer(root node.Root, rs syncer.ReadSyncer, opts ...Option) *Tree {
	t := newTree(opts)
	t.root = root
	t.opts.rootType = root.Type
	t.src = &syncSource{rs: rs, root: root, prefetch: t.opts.prefetch, verified: t.opts.verified}
	if !root.Hash.IsEmpty() {
		t.rootPtr = &node.Pointer{Clean: true, Hash: root.Hash, Version: root.Version}
	}
	t.resolved = true
	return t
}

func newTree(opts []Option) *Tree {
	o := options{rootType: node.RootTypeState, cacheBytes: DefaultNodeCacheBytes, prefetch: DefaultSyncPrefetch}
	for _, opt := range opts {
		opt(&o)
	}
	t := &Tree{opts: o, changes: make(map[string]*change)}
	t.cache.init(o.cacheBytes)
	return t
}

// Root returns the root of the last commit (or the one the tree was opened at).
func (t *Tree) Root() node.Root {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.root
}

// Close releases the tree's nodes; every later operation returns ErrClosed.
func (t *Tree) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	t.rootPtr = nil
	t.changes = nil
	t.changeSlab = nil
	t.cache.init(0)
}

// ready checks the tree is usable and resolves the root pointer of a tree opened at a root.
func (t *Tree) ready() error {
	if t.closed {
		return ErrClosed
	}
	if t.resolved {
		return nil
	}
	if t.root.Hash.IsEmpty() {
		t.resolved = true
		return nil
	}
	rs := t.src.(*readerSource)
	ptr, err := rs.reader.RootPointer(t.root)
	if err != nil {
		return fmt.Errorf("mkvs: opening root %s: %w", t.root, err)
	}
	if ptr != nil && (ptr.Hash != t.root.Hash || !ptr.Clean) {
		return fmt.Errorf("%w: root pointer %s for root %s", ErrCorruptNode, ptr.Hash, t.root)
	}
	t.rootPtr = ptr
	t.resolved = true
	return nil
}

func checkKey(key []byte) error {
	if len(key) > node.MaxKeySize {
		return fmt.Errorf("%w: %d bytes", ErrKeyTooLarge, len(key))
	}
	return nil
}

// loadHint tells a source why a node is needed: key is a key whose path passes through the
// node (the operation's key, or an iterator's position).
type loadHint struct {
	key             []byte
	iterate         bool
	includeSiblings bool
}

// source loads nodes the tree does not hold.
type source interface {
	// fetch returns the node ptr (clean, unloaded) refers to; the node may come with some of its
	// descendants loaded.
	fetch(ctx context.Context, root node.Root, ptr *node.Pointer, hint loadHint) (node.Node, error)
}

// deref returns the node ptr refers to, loading it if needed, and marks it recently used.
func (t *Tree) deref(ctx context.Context, ptr *node.Pointer, hint loadHint) (node.Node, error) {
	if n := ptr.Node; n != nil {
		t.cache.touch(ptr)
		return n, nil
	}
	if t.src == nil || !ptr.Clean {
		return nil, fmt.Errorf("mkvs: node %s not loaded and nowhere to load it from", ptr.Hash)
	}
	n, err := t.src.fetch(ctx, t.root, ptr, hint)
	if err != nil {
		return nil, err
	}
	ptr.Node = n
	t.cache.addSubtree(ptr)
	t.pinRoot()
	t.cache.evict()
	return n, nil
}

// replace notes that the clean node at ptr is being replaced by a new one (or dropped): it
// leaves the cache and, once the operation succeeds, the tree (Batch.Obsolete).
func (t *Tree) replace(ptr *node.Pointer) {
	t.cache.remove(ptr)
	if ptr.Clean {
		t.pending = append(t.pending, node.NodeRef{Version: ptr.Version, Hash: ptr.Hash})
	}
}

// settle ends an operation: the nodes it replaced become obsolete when it changed the tree,
// and are forgotten when it failed or changed nothing.
func (t *Tree) settle(changed bool) {
	if changed {
		t.obsolete = append(t.obsolete, t.pending...)
	}
	t.pending = t.pending[:0]
}

// setRoot makes ptr the current root node.
func (t *Tree) setRoot(ptr *node.Pointer) {
	t.rootPtr = ptr
	t.pinRoot()
}

// pinRoot keeps the root node out of the cache, so that it stays loaded.
func (t *Tree) pinRoot() {
	if t.rootPtr != nil {
		t.cache.remove(t.rootPtr)
	}
}

// readerSource loads nodes from a node DB.
type readerSource struct {
	reader node.Reader
}

func (s *readerSource) fetch(_ context.Context, root node.Root, ptr *node.Pointer, _ loadHint) (node.Node, error) {
	n, err := s.reader.GetNode(root, ptr)
	if err != nil {
		return nil, fmt.Errorf("mkvs: loading node %s@%d: %w", ptr.Hash, ptr.Version, err)
	}
	if n == nil || n.NodeHash() != ptr.Hash {
		return nil, fmt.Errorf("%w: wanted %s@%d", ErrCorruptNode, ptr.Hash, ptr.Version)
	}
	return n, nil
}

// ApplyWriteLog applies the entries of wl in order: a nil value removes the key, any other
// value (empty included) is inserted. It stops at the first error, with the entries before it
// applied.
func (t *Tree) ApplyWriteLog(ctx context.Context, wl writelog.WriteLog) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ready(); err != nil {
		return err
	}
	for i, e := range wl {
		var err error
		if e.IsDelete() {
			err = t.removeLocked(ctx, e.Key)
		} else {
			err = t.insertLocked(ctx, e.Key, e.Value)
		}
		if err != nil {
			return fmt.Errorf("mkvs: write log entry %d: %w", i, err)
		}
	}
	return nil
}
