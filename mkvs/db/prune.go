package db

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// Prune removes version, which must be the earliest retained version (ErrNotEarliest), be
// finalized (ErrNotFinalized), not be the latest finalized version and not hold the latest
// finalized state root (ErrPruneLatest; the flat index serves that one): its roots, its write
// logs, and every node created at or before version that no root of the next retained version
// reaches. Unfinalized roots derived from a root of version other than through the next
// version would lose their nodes, so Prune refuses while one exists (ErrPruneLatest). A pruned
// latest finalized root of another type (an IO root) is forgotten: LatestFinalizedRoot no
// longer reports it.
//
// Its cost is proportional to what the next version changed, not to the size of the trees:
// per root type, it gathers S, the pointers to nodes of version or earlier that nodes created
// after version reference (plus the next version's root pointers when those are old), walking
// only the new nodes (or, for a commit applied since Open, taking S from its batch, kept in
// memory); then it walks the trees of version from the top, leaving out every
// subtree in S and deleting the rest. This is exact because a tree of a later version shares
// with an earlier one only whole subtrees, reached through pointers from its new nodes: a
// type's trees form one chain, and a subtree's keys fix its position in the trie.
//
// When the next version's root was applied since Open from a batch that lists the nodes it
// replaced (node.Batch.Obsolete) and started from this version's root, Prune deletes those
// and walks nothing: the usual case of a node committing one tree per version.
func (d *DB) Prune(ctx context.Context, version uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.acquire(); err != nil {
		return err
	}
	defer d.closeMu.RUnlock()
	d.writeMu.Lock()
	defer d.writeMu.Unlock()

	d.stateMu.RLock()
	versions := d.versions.clone()
	d.stateMu.RUnlock()
	if version < versions.PrunedBelow {
		return fmt.Errorf("%w: version %d", ErrPruned, version)
	}
	if !versions.HasFinalized || version > versions.LastFinalized {
		return fmt.Errorf("%w: pruning version %d", ErrNotFinalized, version)
	}
	latest := versions.Latest[:0]
	for _, l := range versions.Latest {
		switch {
		case l.Version != version:
			latest = append(latest, l)
		case l.Type == node.RootTypeState:
			return fmt.Errorf("%w: version %d holds the latest finalized state root", ErrPruneLatest, version)
		}
	}
	versions.Latest = latest
	earliest, ok, err := d.firstRootVersion(versions.PrunedBelow, version+1)
	if err != nil {
		return err
	}
	if !ok || earliest != version {
		return fmt.Errorf("%w: pruning version %d, earliest version holding roots is %d", ErrNotEarliest, version, earliest)
	}
	later, err := d.rootVersionsAfter(version)
	if err != nil {
		return err
	}
	if len(later) == 0 || later[0] > versions.LastFinalized {
		// Cannot happen while the latest finalized roots are elsewhere; kept as a guard.
		return fmt.Errorf("%w: no finalized version after %d", ErrPruneLatest, version)
	}
	next := later[0]
	for _, u := range later {
		if u <= versions.LastFinalized {
			continue
		}
		_, recs, err := d.rootsAt(d.pdb, u)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.Src != nil && rec.Src.Version <= version {
				return fmt.Errorf("%w: an unfinalized root of version %d derives from version %d", ErrPruneLatest, u, rec.Src.Version)
			}
		}
	}

	oldRoots, oldRecs, err := d.rootsAt(d.pdb, version)
	if err != nil {
		return err
	}
	newRoots, newRecs, err := d.rootsAt(d.pdb, next)
	if err != nil {
		return err
	}
	pb := d.writeBatch()
	removed := d.scratch.removed[:0]
	defer func() { d.scratch.removed = keepScratch(removed) }()
	for _, t := range []node.RootType{node.RootTypeState, node.RootTypeIO} {
		if err := d.pruneType(pb, t, version, oldRoots, oldRecs, newRoots, newRecs, &removed); err != nil {
			return err
		}
	}
	for _, r := range oldRoots {
		if err := pb.Delete(rootKey(r), nil); err != nil {
			return fmt.Errorf("mkvs/db: %w", err)
		}
	}
	wlPrefix := versionPrefix(prefixWriteLog, version)
	if err := pb.DeleteRange(wlPrefix, prefixEnd(wlPrefix), nil); err != nil {
		return fmt.Errorf("mkvs/db: %w", err)
	}
	versions.PrunedBelow = version + 1
	if err := pb.Set(versionsKey, cbor.Marshal(versions), nil); err != nil {
		return fmt.Errorf("mkvs/db: %w", err)
	}
	if err := pb.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("mkvs/db: pruning version %d: %w", version, err)
	}
	d.stateMu.Lock()
	d.versions = versions
	d.stateMu.Unlock()
	for _, k := range removed {
		d.cache.remove(k)
	}
	for _, r := range oldRoots {
		d.hints.remove(idOf(r))
	}
	return nil
}

// pruneType deletes in pb the nodes of type t that the roots of version reach and the roots of
// the next version do not.
func (d *DB) pruneType(pb *pebble.Batch, t node.RootType, version uint64, oldRoots []node.Root, oldRecs []rootRecord, newRoots []node.Root, newRecs []rootRecord, removed *[]cacheKey) error {
	var starts []childRef
	for i, r := range oldRoots {
		if r.Type == t && !r.IsEmpty() {
			starts = append(starts, childRef{Version: oldRecs[i].NodeVersion, Hash: r.Hash})
		}
	}
	if len(starts) == 0 {
		return nil
	}
	if obsolete, ok := d.obsoleteHint(t, version, oldRoots, newRoots, newRecs); ok {
		// The next version's commit listed what it replaced: no walk, no node loaded.
		first := len(*removed)
		*removed = slices.Grow(*removed, len(obsolete))
		for _, ref := range obsolete {
			if ref.Version <= version {
				*removed = append(*removed, cacheKey{version: ref.Version, typ: t, hash: ref.Hash})
			}
		}
		return deleteNodes(pb, (*removed)[first:])
	}
	// shared holds S (and, as the walk of new nodes goes, the new nodes it visited).
	shared := make(map[childRef]bool, 4096)
	visitNew := func(ref childRef) bool {
		if shared[ref] {
			return false
		}
		shared[ref] = true
		return ref.Version > version
	}
	for i, r := range newRoots {
		if r.Type != t || r.IsEmpty() {
			continue
		}
		if hint, ok := d.hints.get(idOf(r)); ok && hint.obsolete == nil && newRecs[i].NodeVersion == r.Version {
			for _, ref := range hint.shared {
				shared[ref] = true
			}
			continue
		}
		if err := d.walk(t, childRef{Version: newRecs[i].NodeVersion, Hash: r.Hash}, visitNew); err != nil {
			return err
		}
	}
	first := len(*removed)
	visitOld := func(ref childRef) bool {
		if shared[ref] {
			return false
		}
		shared[ref] = true // visited
		*removed = append(*removed, cacheKey{version: ref.Version, typ: t, hash: ref.Hash})
		return true
	}
	for _, s := range starts {
		if err := d.walk(t, s, visitOld); err != nil {
			return err
		}
	}
	return deleteNodes(pb, (*removed)[first:])
}

// obsoleteHint returns the nodes of type t to delete when pruning version, from the batch of
// the next version's root: when version holds one root of type t, the next version one, and
// that one was applied (since Open) from a batch started from the former and listing the
// nodes it replaced (node.Batch.Obsolete), those are exactly the nodes the former reaches
// and the latter does not.
func (d *DB) obsoleteHint(t node.RootType, version uint64, oldRoots []node.Root, newRoots []node.Root, newRecs []rootRecord) ([]childRef, bool) {
	var old, cur []int
	for i, r := range oldRoots {
		if r.Type == t {
			old = append(old, i)
		}
	}
	for i, r := range newRoots {
		if r.Type == t {
			cur = append(cur, i)
		}
	}
	if len(old) != 1 || len(cur) != 1 {
		return nil, false
	}
	r := newRoots[cur[0]]
	if newRecs[cur[0]].NodeVersion != r.Version {
		return nil, false
	}
	hint, ok := d.hints.get(idOf(r))
	if !ok || hint.obsolete == nil || hint.src != idOf(oldRoots[old[0]]) {
		return nil, false
	}
	return hint.obsolete, true
}

// deleteNodes adds deletions of the node records keys to pb, sorting keys (see nodeBatch).
//
// Node records are written once (Apply never sets a node key that is already stored), so they
// are deleted with SingleDelete: a deletion that meets its record in a memtable or a
// compaction drops both, instead of a tombstone travelling down the LSM. Most nodes near the
// top of a tree live for a few versions only, so with versions pruned promptly their records
// and deletions mostly cancel out before they reach a table.
func deleteNodes(pb *pebble.Batch, keys []cacheKey) error {
	slices.SortFunc(keys, func(a, b cacheKey) int {
		if c := cmp.Compare(a.version, b.version); c != 0 {
			return c
		}
		if c := cmp.Compare(a.typ, b.typ); c != 0 {
			return c
		}
		return compareHashes(&a.hash, &b.hash)
	})
	var key [nodeKeySize]byte
	for _, k := range keys {
		if err := pb.SingleDelete(appendNodeKey(key[:0], k.version, k.typ, k.hash), nil); err != nil {
			return fmt.Errorf("mkvs/db: %w", err)
		}
	}
	return nil
}

// compareHashes orders hashes bytewise, comparing their first eight bytes as one number first
// (sorting a commit's node keys is on every writer's path).
func compareHashes(a, b *hash.Hash) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])); c != 0 {
		return c
	}
	return bytes.Compare(a[8:], b[8:])
}
