package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// Apply persists what a tree's Commit produced, atomically (one Pebble batch): the new nodes,
// the root record (not finalized) and the write log from b.Src to b.Root. It does not sync:
// Finalize does, and a crash loses only unfinalized roots.
//
// Applying a root the DB already holds is a no-op (it only adds the write log from a new
// source). Apply rejects a root of another namespace (ErrNamespaceMismatch), a version that is
// already finalized (ErrAlreadyFinalized) or pruned (ErrPruned), a non-empty source root the DB
// does not hold (node.ErrRootNotFound), and a batch that is not a consistent commit
// (ErrInvalidBatch: nodes of another version, a missing root node, an unsorted write log). An
// empty root needs no nodes.
func (d *DB) Apply(ctx context.Context, b *node.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.acquire(); err != nil {
		return err
	}
	defer d.closeMu.RUnlock()
	d.writeMu.Lock()
	defer d.writeMu.Unlock()

	if b == nil {
		return fmt.Errorf("%w: nil batch", ErrInvalidBatch)
	}
	root, src := b.Root, b.Src
	if err := d.checkRoot(root); err != nil {
		return err
	}
	// The source of a tree built from empty (mkvs.New) carries no namespace or version.
	if !src.IsEmpty() && src.Namespace != d.ns {
		return fmt.Errorf("%w: source root %s", ErrNamespaceMismatch, src)
	}
	if !src.IsEmpty() && (src.Type != root.Type || src.Version > root.Version) {
		return fmt.Errorf("%w: source root %s for root %s", ErrInvalidBatch, src, root)
	}
	if !b.WriteLog.IsCanonical() {
		return fmt.Errorf("%w: write log not sorted by key or with repeated keys", ErrInvalidBatch)
	}

	if _, found, err := d.getRootRecord(root); err != nil {
		return err
	} else if found {
		return d.addWriteLog(b)
	}
	d.stateMu.RLock()
	versions := d.versions
	d.stateMu.RUnlock()
	if versions.HasFinalized && root.Version <= versions.LastFinalized {
		return fmt.Errorf("%w: applying %s, last finalized version %d", ErrAlreadyFinalized, root, versions.LastFinalized)
	}
	if root.Version < versions.PrunedBelow {
		return fmt.Errorf("%w: applying %s, earliest version %d", ErrPruned, root, versions.PrunedBelow)
	}

	rec := rootRecord{}
	var srcRec rootRecord
	if !src.IsEmpty() {
		var found bool
		var err error
		if srcRec, found, err = d.getRootRecord(src); err != nil {
			return err
		} else if !found {
			return fmt.Errorf("mkvs/db: source root: %w: %s", node.ErrRootNotFound, src)
		}
		rec.Src = &srcRef{Version: src.Version, Hash: src.Hash}
	}
	switch {
	case root.IsEmpty():
		if len(b.Nodes) != 0 {
			return fmt.Errorf("%w: empty root with %d nodes", ErrInvalidBatch, len(b.Nodes))
		}
	case len(b.Nodes) > 0 && b.Nodes[len(b.Nodes)-1].NodeHash() == root.Hash:
		rec.NodeVersion = root.Version
	case root.Hash == src.Hash:
		rec.NodeVersion = srcRec.NodeVersion
	default:
		return fmt.Errorf("%w: root node of %s is not the batch's last node", ErrInvalidBatch, root)
	}

	// Another root of this version and type may share nodes with this one: those are stored
	// already and must not be written twice (deleteNodes relies on it).
	shared, err := d.holdsRootOfType(root.Version, root.Type)
	if err != nil {
		return err
	}
	pb, err := d.nodeBatch(b, shared)
	if err != nil {
		return err
	}
	if err := pb.Set(rootKey(root), cbor.Marshal(rec), nil); err != nil {
		return fmt.Errorf("mkvs/db: %w", err)
	}
	if src.Hash != root.Hash {
		if err := pb.Set(writeLogKey(src.Hash, root), encodeWriteLog(b.WriteLog), nil); err != nil {
			return fmt.Errorf("mkvs/db: %w", err)
		}
	}
	if err := pb.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("mkvs/db: applying %s: %w", root, err)
	}
	if rec.NodeVersion == root.Version {
		d.hints.add(idOf(root), b)
	}
	return nil
}

// holdsRootOfType reports whether version holds a root of type t.
func (d *DB) holdsRootOfType(version uint64, t node.RootType) (bool, error) {
	prefix := append(versionPrefix(prefixRoot, version), byte(t))
	it, err := d.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return false, fmt.Errorf("mkvs/db: %w", err)
	}
	found := it.First()
	if err := it.Close(); err != nil {
		return false, fmt.Errorf("mkvs/db: listing roots: %w", err)
	}
	return found, nil
}

// nodeBatch returns the writers' batch (see writeBatch) holding b's nodes; with skipStored, it
// leaves out the nodes already stored (written by another root of the same version).
func (d *DB) nodeBatch(b *node.Batch, skipStored bool) (*pebble.Batch, error) {
	root := b.Root
	// All records go in one buffer, kept between calls with the list of records (Pebble copies
	// what a batch holds): a commit's megabyte of records costs no allocation.
	stored := slices.Grow(d.scratch.stored[:0], len(b.Nodes))
	buf := d.scratch.records[:0]
	defer func() {
		d.scratch.stored, d.scratch.records = keepScratch(stored), keepScratch(buf)
	}()
	for _, n := range b.Nodes {
		if n == nil {
			return nil, fmt.Errorf("%w: nil node", ErrInvalidBatch)
		}
		var version uint64
		var clean bool
		switch n := n.(type) {
		case *node.LeafNode:
			version, clean = n.Version, n.Clean
		case *node.InternalNode:
			version, clean = n.Version, n.Clean
		}
		if version != root.Version || !clean {
			return nil, fmt.Errorf("%w: node %s (version %d, clean %t) in a commit of version %d", ErrInvalidBatch, n.NodeHash(), version, clean, root.Version)
		}
		if cap(buf) == 0 {
			buf = make([]byte, 0, storedSizeHint(b.Nodes))
		}
		start := len(buf)
		var err error
		if buf, err = appendStored(buf, n); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidBatch, err)
		}
		stored = append(stored, storedNode{hash: n.NodeHash(), start: start, end: len(buf)})
	}
	// Sorted keys make the memtable inserts sequential (Pebble's skiplist inserter then finds
	// each position next to the previous one): several times cheaper than hash order.
	slices.SortFunc(stored, func(a, b storedNode) int { return compareHashes(&a.hash, &b.hash) })
	pb := d.writeBatch()
	var key [nodeKeySize]byte
	for _, s := range stored {
		k := appendNodeKey(key[:0], root.Version, root.Type, s.hash)
		if skipStored {
			if _, closer, err := d.pdb.Get(k); err == nil {
				_ = closer.Close()
				continue
			} else if !errors.Is(err, pebble.ErrNotFound) {
				return nil, fmt.Errorf("mkvs/db: reading node: %w", err)
			}
		}
		if err := pb.Set(k, buf[s.start:s.end], nil); err != nil {
			return nil, fmt.Errorf("mkvs/db: %w", err)
		}
	}
	return pb, nil
}

// storedNode is a node of a batch: its hash and where its stored form lies in the batch's
// buffer.
type storedNode struct {
	hash       hash.Hash
	start, end int
}

// storedSizeHint estimates the bytes of the stored forms of nodes, to size nodeBatch's buffer
// (which keeps offsets, so growing past the estimate is only slower).
func storedSizeHint(nodes []node.Node) int {
	size := 0
	for _, n := range nodes {
		switch n := n.(type) {
		case *node.LeafNode:
			size += 7 + len(n.Key) + len(n.Value)
		case *node.InternalNode:
			size += 4 + len(n.Label) + 2*32 + 2*binary.MaxVarintLen64
			if n.Leaf != nil {
				if l, ok := n.Leaf.Node.(*node.LeafNode); ok {
					size += 7 + len(l.Key) + len(l.Value)
				}
			}
		}
	}
	return size
}

// addWriteLog stores b's write log when the root is already held and the log is new.
func (d *DB) addWriteLog(b *node.Batch) error {
	if b.Src.Hash == b.Root.Hash {
		return nil
	}
	d.stateMu.RLock()
	finalized := d.versions.HasFinalized && b.Root.Version <= d.versions.LastFinalized
	d.stateMu.RUnlock()
	if finalized {
		return nil
	}
	key := writeLogKey(b.Src.Hash, b.Root)
	if _, closer, err := d.pdb.Get(key); err == nil {
		return closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("mkvs/db: %w", err)
	}
	if err := d.pdb.Set(key, encodeWriteLog(b.WriteLog), pebble.NoSync); err != nil {
		return fmt.Errorf("mkvs/db: %w", err)
	}
	return nil
}

// CarryForward registers the tree of root, which the DB holds, at the later version toVersion
// and returns the new root: a root record pointing at the same root node, no node copied (the
// round advanced without changing the tree). Carrying to a version that already holds the root
// is a no-op. It rejects a finalized or pruned toVersion like Apply, and a root the DB does not
// hold (node.ErrRootNotFound). An empty root can always be carried.
func (d *DB) CarryForward(ctx context.Context, root node.Root, toVersion uint64) (node.Root, error) {
	if err := ctx.Err(); err != nil {
		return node.Root{}, err
	}
	if err := d.acquire(); err != nil {
		return node.Root{}, err
	}
	defer d.closeMu.RUnlock()
	d.writeMu.Lock()
	defer d.writeMu.Unlock()

	if err := d.checkRoot(root); err != nil {
		return node.Root{}, err
	}
	if toVersion <= root.Version {
		return node.Root{}, fmt.Errorf("%w: carrying %s to version %d", ErrInvalidRoot, root, toVersion)
	}
	dst := root
	dst.Version = toVersion
	if _, found, err := d.getRootRecord(dst); err != nil {
		return node.Root{}, err
	} else if found {
		return dst, nil
	}
	d.stateMu.RLock()
	versions := d.versions
	d.stateMu.RUnlock()
	if versions.HasFinalized && toVersion <= versions.LastFinalized {
		return node.Root{}, fmt.Errorf("%w: carrying to version %d, last finalized version %d", ErrAlreadyFinalized, toVersion, versions.LastFinalized)
	}
	if toVersion < versions.PrunedBelow {
		return node.Root{}, fmt.Errorf("%w: carrying to version %d", ErrPruned, toVersion)
	}
	rec := rootRecord{Src: &srcRef{Version: root.Version, Hash: root.Hash}}
	if !root.IsEmpty() {
		srcRec, found, err := d.getRootRecord(root)
		if err != nil {
			return node.Root{}, err
		}
		if !found {
			return node.Root{}, fmt.Errorf("mkvs/db: %w: %s", node.ErrRootNotFound, root)
		}
		rec.NodeVersion = srcRec.NodeVersion
	} else {
		rec.Src = nil
	}
	if err := d.pdb.Set(rootKey(dst), cbor.Marshal(rec), pebble.NoSync); err != nil {
		return node.Root{}, fmt.Errorf("mkvs/db: carrying %s forward: %w", root, err)
	}
	return dst, nil
}
