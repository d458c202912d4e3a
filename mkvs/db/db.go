package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("mkvs/db: closed")
	// ErrNamespaceMismatch is returned for a root of another namespace than the DB's.
	ErrNamespaceMismatch = errors.New("mkvs/db: namespace mismatch")
	// ErrIncompatible is returned by Open for a database of another namespace or format.
	ErrIncompatible = errors.New("mkvs/db: incompatible database")
	// ErrCorrupt is returned for a record that does not decode: the database is damaged.
	ErrCorrupt = errors.New("mkvs/db: corrupt record")
	// ErrInvalidBatch is returned by Apply for a batch that is not a consistent commit.
	ErrInvalidBatch = errors.New("mkvs/db: invalid batch")
	// ErrInvalidRoot is returned for a root of an unknown type.
	ErrInvalidRoot = errors.New("mkvs/db: invalid root")
	// ErrAlreadyFinalized is returned when writing to a version that is already finalized, or
	// finalizing it again.
	ErrAlreadyFinalized = errors.New("mkvs/db: version already finalized")
	// ErrNotFinalized is returned when an operation needs a version that is not finalized yet.
	ErrNotFinalized = errors.New("mkvs/db: version not finalized")
	// ErrOutOfOrder is returned by Finalize for a version that would skip an unfinalized one.
	ErrOutOfOrder = errors.New("mkvs/db: versions must finalize in order")
	// ErrPruned is returned for a version below the earliest retained version.
	ErrPruned = errors.New("mkvs/db: version pruned")
	// ErrNotEarliest is returned by Prune for a version other than the earliest retained one.
	ErrNotEarliest = errors.New("mkvs/db: not the earliest version")
	// ErrPruneLatest is returned by Prune for the latest finalized version, a version holding the
	// latest finalized state root, or one that unfinalized roots still derive from.
	ErrPruneLatest = errors.New("mkvs/db: cannot prune a version holding a latest finalized root")
	// ErrWriteLogNotFound is returned by GetWriteLog when no write log between the roots is
	// stored.
	ErrWriteLogNotFound = errors.New("mkvs/db: write log not found")
	// ErrNoFinalizedState is returned by GetLatest before any state root was finalized.
	ErrNoFinalizedState = errors.New("mkvs/db: no finalized state")
)

// DB is a persistent MKVS node DB for one namespace. It is safe for concurrent use: reads run
// concurrently with each other and with writes; writes (Apply, CarryForward, Finalize, Prune)
// are serialized.
type DB struct {
	pdb    *pebble.DB
	ns     [32]byte
	logger *slog.Logger
	cache  *nodeCache
	// hints holds, per recently applied root, what Prune needs from its batch; it is used and
	// changed only under writeMu.
	hints pruneHints
	// syncOpts is pebble.Sync unless Options.NoSync.
	syncOpts *pebble.WriteOptions

	// closeMu is held for reading by every operation and for writing by Close.
	closeMu sync.RWMutex
	closed  bool

	// writeMu serializes writers.
	writeMu sync.Mutex
	// wb is the writers' Pebble batch, reused (under writeMu) so that a commit's megabytes of
	// records do not cost a fresh buffer, and the garbage collection that comes with it, each
	// time.
	wb *pebble.Batch
	// scratch holds buffers the writers reuse (under writeMu).
	scratch writerScratch

	// stateMu guards versions, which mirrors the stored version marker.
	stateMu  sync.RWMutex
	versions versionsRecord
}

// Open opens (creating if needed) the node DB described by opts. It refuses a database made
// for another namespace or in another format (ErrIncompatible).
func Open(opts Options) (*DB, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("module", "mkvs/db")
	po := opts.pebbleOptions(logger)
	path := opts.Path
	if path == "" && opts.FS == nil && !opts.InMemory {
		return nil, errors.New("mkvs/db: no path given")
	}
	pdb, err := pebble.Open(path, po)
	if err != nil {
		return nil, fmt.Errorf("mkvs/db: opening pebble: %w", err)
	}
	cacheSize := opts.NodeCacheSize
	if cacheSize == 0 {
		cacheSize = DefaultNodeCacheSize
	}
	d := &DB{
		pdb:      pdb,
		ns:       opts.Namespace,
		logger:   logger,
		cache:    newNodeCache(cacheSize),
		hints:    pruneHints{byRoot: make(map[rootID]pruneHint)},
		syncOpts: pebble.Sync,
	}
	if opts.NoSync {
		d.syncOpts = pebble.NoSync
	}
	d.wb = pdb.NewBatch(pebble.WithMaxRetainedSizeBytes(maxRetainedBatch))
	if err := d.load(); err != nil {
		_ = pdb.Close()
		return nil, err
	}
	return d, nil
}

// load checks the metadata record (writing it for a new database) and reads the version
// marker.
func (d *DB) load() error {
	raw, closer, err := d.pdb.Get(metaKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		meta := metaRecord{Format: formatVersion, Namespace: d.ns}
		b := d.pdb.NewBatch()
		defer b.Close()
		if err := b.Set(metaKey, cbor.Marshal(meta), nil); err != nil {
			return fmt.Errorf("mkvs/db: %w", err)
		}
		if err := b.Set(versionsKey, cbor.Marshal(d.versions), nil); err != nil {
			return fmt.Errorf("mkvs/db: %w", err)
		}
		if err := b.Commit(d.syncOpts); err != nil {
			return fmt.Errorf("mkvs/db: writing metadata: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("mkvs/db: reading metadata: %w", err)
	}
	meta, err := decodeMeta(raw)
	_ = closer.Close()
	if err != nil {
		return err
	}
	if meta.Format != formatVersion {
		return fmt.Errorf("%w: format %d, this build reads format %d", ErrIncompatible, meta.Format, formatVersion)
	}
	if meta.Namespace != d.ns {
		return fmt.Errorf("%w: database holds namespace %s, opened for %s", ErrIncompatible, meta.Namespace, d.ns)
	}
	raw, closer, err = d.pdb.Get(versionsKey)
	if err != nil {
		return fmt.Errorf("mkvs/db: reading version marker: %w", err)
	}
	v, err := decodeVersions(raw)
	_ = closer.Close()
	if err != nil {
		return err
	}
	d.versions = v
	return nil
}

// Close closes the database. Later calls of any method return ErrClosed; Close itself may be
// called again.
func (d *DB) Close() error {
	d.closeMu.Lock()
	defer d.closeMu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	_ = d.wb.Close()
	if err := d.pdb.Close(); err != nil {
		return fmt.Errorf("mkvs/db: closing: %w", err)
	}
	return nil
}

// maxRetainedBatch bounds the buffer the writers' batch keeps between calls; it is well under
// the size from which Pebble turns a committed batch into a memtable of its own (half of
// memTableSize, counting its index).
const maxRetainedBatch = 8 << 20

// writeBatch returns the writers' batch, emptied. Callers hold writeMu and are done with it
// when they return (committed or not: the next writer empties it). A batch past
// maxRetainedBatch is closed and replaced instead.
func (d *DB) writeBatch() *pebble.Batch {
	if d.wb.Len() > maxRetainedBatch {
		_ = d.wb.Close()
		d.wb = d.pdb.NewBatch(pebble.WithMaxRetainedSizeBytes(maxRetainedBatch))
		return d.wb
	}
	d.wb.Reset()
	return d.wb
}

// writerScratch holds the buffers of a writer's call, kept for the next one: a commit of a
// thousand writes produces megabytes of records and lists of tens of thousands of nodes, which
// would otherwise cost the garbage collector as much again each time.
type writerScratch struct {
	records []byte       // stored forms of a batch's nodes (nodeBatch)
	stored  []storedNode // where they lie in records (nodeBatch)
	removed []cacheKey   // node records a Prune or Finalize deletes
}

// maxScratchBytes bounds the memory of one kept buffer; a larger one is dropped after use.
const maxScratchBytes = 64 << 20

// keepScratch returns s emptied for reuse, or nil when it grew past maxScratchBytes.
func keepScratch[T any](s []T) []T {
	var zero T
	if uintptr(cap(s))*unsafe.Sizeof(zero) > maxScratchBytes {
		return nil
	}
	return s[:0]
}

// acquire takes the read side of closeMu, failing after Close. Callers release it with
// d.closeMu.RUnlock.
func (d *DB) acquire() error {
	d.closeMu.RLock()
	if d.closed {
		d.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

// checkRoot checks a root's namespace and type.
func (d *DB) checkRoot(r node.Root) error {
	if r.Namespace != d.ns {
		return fmt.Errorf("%w: root %s, db namespace %x", ErrNamespaceMismatch, r, d.ns)
	}
	if !r.Type.Valid() {
		return fmt.Errorf("%w: %s", ErrInvalidRoot, r)
	}
	return nil
}

// getRootRecord reads the record of root r; found is false when there is none.
func (d *DB) getRootRecord(r node.Root) (rec rootRecord, found bool, err error) {
	raw, closer, err := d.pdb.Get(rootKey(r))
	if errors.Is(err, pebble.ErrNotFound) {
		return rootRecord{}, false, nil
	}
	if err != nil {
		return rootRecord{}, false, fmt.Errorf("mkvs/db: reading root %s: %w", r, err)
	}
	rec, err = decodeRootRecord(raw, r.Version)
	_ = closer.Close()
	if err != nil {
		return rootRecord{}, false, fmt.Errorf("%w (root %s)", err, r)
	}
	return rec, true, nil
}

// RootPointer implements node.Reader: it returns a clean, unloaded pointer to the root node of
// a stored root (for a carried root, Version is the earlier version that created the node), nil
// for an empty root, and an error wrapping node.ErrRootNotFound for a root the DB does not hold.
func (d *DB) RootPointer(root node.Root) (*node.Pointer, error) {
	if err := d.acquire(); err != nil {
		return nil, err
	}
	defer d.closeMu.RUnlock()
	if err := d.checkRoot(root); err != nil {
		return nil, err
	}
	if root.IsEmpty() {
		return nil, nil
	}
	rec, found, err := d.getRootRecord(root)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("mkvs/db: %w: %s", node.ErrRootNotFound, root)
	}
	return &node.Pointer{Clean: true, Hash: root.Hash, Version: rec.NodeVersion}, nil
}

// GetNode implements node.Reader: it loads the node ptr locates (ptr.Version, root.Type,
// ptr.Hash). The node comes back clean with unloaded children carrying their creation versions;
// the caller owns it. A missing node gives an error wrapping node.ErrNodeNotFound.
func (d *DB) GetNode(root node.Root, ptr *node.Pointer) (_ node.Node, err error) {
	if err = d.acquire(); err != nil {
		return nil, err
	}
	defer d.closeMu.RUnlock()
	if err = d.checkRoot(root); err != nil {
		return nil, err
	}
	if ptr == nil || ptr.Hash.IsEmpty() {
		return nil, fmt.Errorf("mkvs/db: %w: nil pointer", node.ErrNodeNotFound)
	}
	// Decoding copies what the node keeps, so Pebble's buffer is released right after; the
	// record is not cached (the tree keeps the node, and Pebble's block cache the block).
	k := cacheKey{version: ptr.Version, typ: root.Type, hash: ptr.Hash}
	var n node.Node
	if raw, ok := d.cache.get(k); ok {
		n, err = node.UnmarshalStored(raw, ptr.Version)
	} else {
		var key [nodeKeySize]byte
		raw, closer, gerr := d.pdb.Get(appendNodeKey(key[:0], k.version, k.typ, k.hash))
		if errors.Is(gerr, pebble.ErrNotFound) {
			return nil, fmt.Errorf("mkvs/db: %w: %s node %d/%s", node.ErrNodeNotFound, k.typ, k.version, k.hash)
		}
		if gerr != nil {
			return nil, fmt.Errorf("mkvs/db: reading node: %w", gerr)
		}
		n, err = node.UnmarshalStored(raw, ptr.Version)
		_ = closer.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: node %d/%s: %w", ErrCorrupt, ptr.Version, ptr.Hash, err)
	}
	if n.NodeHash() != ptr.Hash {
		return nil, fmt.Errorf("%w: node %d/%s hashes to %s", ErrCorrupt, ptr.Version, ptr.Hash, n.NodeHash())
	}
	return n, nil
}

// nodeRecord returns the stored form of a node, from the cache or Pebble. The result must not
// be modified.
func (d *DB) nodeRecord(k cacheKey) ([]byte, error) {
	if raw, ok := d.cache.get(k); ok {
		return raw, nil
	}
	raw, closer, err := d.pdb.Get(nodeKey(k.version, k.typ, k.hash))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("mkvs/db: %w: %s node %d/%s", node.ErrNodeNotFound, k.typ, k.version, k.hash)
	}
	if err != nil {
		return nil, fmt.Errorf("mkvs/db: reading node: %w", err)
	}
	out := bytes.Clone(raw)
	_ = closer.Close()
	d.cache.put(k, out)
	return out, nil
}

// HasRoot reports whether the DB holds root. An empty root is always held.
func (d *DB) HasRoot(root node.Root) (bool, error) {
	if err := d.acquire(); err != nil {
		return false, err
	}
	defer d.closeMu.RUnlock()
	if err := d.checkRoot(root); err != nil {
		return false, err
	}
	if root.IsEmpty() {
		return true, nil
	}
	_, found, err := d.getRootRecord(root)
	return found, err
}

// GetRootsForVersion returns the roots registered at version (by Apply or CarryForward),
// finalized or not, ordered by type then hash. Implicit empty roots are not listed.
func (d *DB) GetRootsForVersion(version uint64) ([]node.Root, error) {
	if err := d.acquire(); err != nil {
		return nil, err
	}
	defer d.closeMu.RUnlock()
	roots, _, err := d.rootsAt(d.pdb, version)
	return roots, err
}

// rootsAt lists the roots stored at version with their records.
func (d *DB) rootsAt(r pebble.Reader, version uint64) ([]node.Root, []rootRecord, error) {
	prefix := versionPrefix(prefixRoot, version)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, nil, fmt.Errorf("mkvs/db: %w", err)
	}
	defer it.Close()
	var roots []node.Root
	var recs []rootRecord
	for it.First(); it.Valid(); it.Next() {
		root, ok := parseRootKey(d.ns, it.Key())
		if !ok {
			return nil, nil, fmt.Errorf("%w: bad root key %x", ErrCorrupt, it.Key())
		}
		rec, err := decodeRootRecord(it.Value(), version)
		if err != nil {
			return nil, nil, err
		}
		roots = append(roots, root)
		recs = append(recs, rec)
	}
	if err := it.Error(); err != nil {
		return nil, nil, fmt.Errorf("mkvs/db: listing roots: %w", err)
	}
	return roots, recs, nil
}

// EarliestVersion returns the lowest version holding a root; ok is false for a DB without
// roots.
func (d *DB) EarliestVersion() (version uint64, ok bool, err error) {
	if err := d.acquire(); err != nil {
		return 0, false, err
	}
	defer d.closeMu.RUnlock()
	it, err := d.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixRoot}, UpperBound: []byte{prefixRoot + 1}})
	if err != nil {
		return 0, false, fmt.Errorf("mkvs/db: %w", err)
	}
	defer it.Close()
	if !it.First() {
		return 0, false, it.Error()
	}
	root, valid := parseRootKey(d.ns, it.Key())
	if !valid {
		return 0, false, fmt.Errorf("%w: bad root key %x", ErrCorrupt, it.Key())
	}
	return root.Version, true, nil
}

// LatestVersion returns the latest finalized version; ok is false before the first Finalize.
func (d *DB) LatestVersion() (version uint64, ok bool, err error) {
	if err := d.acquire(); err != nil {
		return 0, false, err
	}
	defer d.closeMu.RUnlock()
	d.stateMu.RLock()
	defer d.stateMu.RUnlock()
	return d.versions.LastFinalized, d.versions.HasFinalized, nil
}

// LatestFinalizedRoot returns the latest finalized root of type t; ok is false when no root of
// that type was finalized.
func (d *DB) LatestFinalizedRoot(t node.RootType) (root node.Root, ok bool, err error) {
	if err := d.acquire(); err != nil {
		return node.Root{}, false, err
	}
	defer d.closeMu.RUnlock()
	d.stateMu.RLock()
	defer d.stateMu.RUnlock()
	l, ok := d.versions.latest(t)
	if !ok {
		return node.Root{}, false, nil
	}
	return node.Root{Namespace: d.ns, Version: l.Version, Type: l.Type, Hash: l.Hash}, true, nil
}

// GetLatest returns the value of key in the latest finalized state root (the flat index: one
// Pebble get), nil when the key is absent, and ErrNoFinalizedState before a state root was
// finalized. The result is the caller's.
func (d *DB) GetLatest(ctx context.Context, key []byte) ([]byte, error) {
	if err := d.acquire(); err != nil {
		return nil, err
	}
	defer d.closeMu.RUnlock()
	d.stateMu.RLock()
	_, ok := d.versions.latest(node.RootTypeState)
	d.stateMu.RUnlock()
	if !ok {
		return nil, ErrNoFinalizedState
	}
	var buf [64]byte
	raw, closer, err := d.pdb.Get(flatKey(buf[:0], key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mkvs/db: reading latest state: %w", err)
	}
	out := bytes.Clone(raw)
	if out == nil {
		out = []byte{}
	}
	_ = closer.Close()
	return out, nil
}

// GetWriteLog returns the stored write log from src to dst (the net changes, sorted by key).
// src and dst must be roots of one type; identical hashes give an empty write log. It returns
// ErrWriteLogNotFound when none is stored: write logs are kept for the diffs Apply received,
// until their destination version is pruned or discarded.
func (d *DB) GetWriteLog(ctx context.Context, src, dst node.Root) (writelog.WriteLog, error) {
	if err := d.acquire(); err != nil {
		return nil, err
	}
	defer d.closeMu.RUnlock()
	if err := d.checkRoot(dst); err != nil {
		return nil, err
	}
	if !src.IsEmpty() && src.Namespace != d.ns {
		return nil, fmt.Errorf("%w: source root %s", ErrNamespaceMismatch, src)
	}
	if !src.IsEmpty() && src.Type != dst.Type {
		return nil, fmt.Errorf("%w: write log between %s and %s roots", ErrInvalidRoot, src.Type, dst.Type)
	}
	if src.Hash == dst.Hash {
		return writelog.WriteLog{}, nil
	}
	return d.getWriteLog(d.pdb, src.Hash, dst)
}

func (d *DB) getWriteLog(r pebble.Reader, src hash.Hash, dst node.Root) (writelog.WriteLog, error) {
	raw, closer, err := r.Get(writeLogKey(src, dst))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s to %s", ErrWriteLogNotFound, src, dst)
	}
	if err != nil {
		return nil, fmt.Errorf("mkvs/db: reading write log: %w", err)
	}
	defer closer.Close()
	return decodeWriteLog(raw)
}
