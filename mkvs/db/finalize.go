package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// Finalize makes roots the finalized roots of version and syncs the result to disk: once it
// returns, a crash loses nothing of it.
//
// Versions finalize in increasing order, and no version holding roots may be skipped
// (ErrOutOfOrder); finalizing a version again gives ErrAlreadyFinalized. Each listed root must
// be of version, at most one per type, and held by the DB (node.ErrRootNotFound), except empty
// roots, which need no Apply. Every other root of version is discarded with the nodes only it
// reaches (the nodes it created at version that no finalized root reaches), and so is, at later
// versions, every root derived from a discarded one (applied on it or carried from it).
//
// When a state root is among roots, the flat index of the latest finalized state (GetLatest)
// moves to it, in the same atomic write, by applying the write log from the previous finalized
// state root; if no such write log is stored, the index is rebuilt from the tree (a walk of
// the whole tree, logged as a warning).
func (d *DB) Finalize(ctx context.Context, version uint64, roots []node.Root) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.acquire(); err != nil {
		return err
	}
	defer d.closeMu.RUnlock()
	d.writeMu.Lock()
	defer d.writeMu.Unlock()

	var types [256]bool
	for _, r := range roots {
		if err := d.checkRoot(r); err != nil {
			return err
		}
		if r.Version != version {
			return fmt.Errorf("%w: finalizing %s at version %d", ErrInvalidRoot, r, version)
		}
		if types[r.Type] {
			return fmt.Errorf("%w: two %s roots finalized at version %d", ErrInvalidRoot, r.Type, version)
		}
		types[r.Type] = true
	}
	d.stateMu.RLock()
	versions := d.versions.clone()
	d.stateMu.RUnlock()
	if versions.HasFinalized && version <= versions.LastFinalized {
		return fmt.Errorf("%w: finalizing version %d, last finalized version %d", ErrAlreadyFinalized, version, versions.LastFinalized)
	}
	if version < versions.PrunedBelow {
		return fmt.Errorf("%w: finalizing version %d", ErrPruned, version)
	}
	lower := versions.PrunedBelow
	if versions.HasFinalized {
		lower = versions.LastFinalized + 1
	}
	if skipped, ok, err := d.firstRootVersion(lower, version); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: finalizing version %d while version %d holds unfinalized roots", ErrOutOfOrder, version, skipped)
	}

	stored, recs, err := d.rootsAt(d.pdb, version)
	if err != nil {
		return err
	}
	pb := d.writeBatch()
	keep := make([]bool, len(stored))
	for _, r := range roots {
		i := indexOfRoot(stored, r)
		if i < 0 {
			if !r.IsEmpty() {
				return fmt.Errorf("mkvs/db: finalizing: %w: %s", node.ErrRootNotFound, r)
			}
			if err := pb.Set(rootKey(r), cbor.Marshal(rootRecord{Finalized: true}), nil); err != nil {
				return fmt.Errorf("mkvs/db: %w", err)
			}
			continue
		}
		keep[i] = true
		recs[i].Finalized = true
		if err := pb.Set(rootKey(r), cbor.Marshal(recs[i]), nil); err != nil {
			return fmt.Errorf("mkvs/db: %w", err)
		}
	}
	var removed []cacheKey
	if hasLoser(keep) {
		if removed, err = d.discard(pb, version, stored, recs, keep); err != nil {
			return err
		}
	}
	for _, r := range roots {
		if r.Type == node.RootTypeState {
			if err := d.moveFlatIndex(pb, &versions, r); err != nil {
				return err
			}
		}
		versions.setLatest(finalizedRoot{Type: r.Type, Version: r.Version, Hash: r.Hash})
	}
	versions.HasFinalized = true
	versions.LastFinalized = version
	if err := pb.Set(versionsKey, cbor.Marshal(versions), nil); err != nil {
		return fmt.Errorf("mkvs/db: %w", err)
	}
	if err := pb.Commit(d.syncOpts); err != nil {
		return fmt.Errorf("mkvs/db: finalizing version %d: %w", version, err)
	}
	d.stateMu.Lock()
	d.versions = versions
	d.stateMu.Unlock()
	for _, k := range removed {
		d.cache.remove(k)
	}
	return nil
}

func hasLoser(keep []bool) bool {
	for _, k := range keep {
		if !k {
			return true
		}
	}
	return false
}

func indexOfRoot(roots []node.Root, r node.Root) int {
	for i, s := range roots {
		if s.Type == r.Type && s.Hash == r.Hash {
			return i
		}
	}
	return -1
}

// firstRootVersion returns the lowest version in [from, to) holding a root.
func (d *DB) firstRootVersion(from, to uint64) (uint64, bool, error) {
	if from >= to {
		return 0, false, nil
	}
	it, err := d.pdb.NewIter(&pebble.IterOptions{
		LowerBound: versionPrefix(prefixRoot, from),
		UpperBound: versionPrefix(prefixRoot, to),
	})
	if err != nil {
		return 0, false, fmt.Errorf("mkvs/db: %w", err)
	}
	defer it.Close()
	if !it.First() {
		return 0, false, it.Error()
	}
	r, ok := parseRootKey(d.ns, it.Key())
	if !ok {
		return 0, false, fmt.Errorf("%w: bad root key %x", ErrCorrupt, it.Key())
	}
	return r.Version, true, nil
}

// discard deletes the roots of version not marked in keep, the nodes only they reach, and the
// roots at later versions derived from them (transitively). It returns the node records it
// deleted.
func (d *DB) discard(pb *pebble.Batch, version uint64, roots []node.Root, recs []rootRecord, keep []bool) ([]cacheKey, error) {
	discarded := make(map[rootID]bool)
	var removed []cacheKey
	if err := d.discardAt(pb, version, roots, recs, keep, discarded, &removed); err != nil {
		return nil, err
	}
	later, err := d.rootVersionsAfter(version)
	if err != nil {
		return nil, err
	}
	for _, u := range later {
		roots, recs, err := d.rootsAt(d.pdb, u)
		if err != nil {
			return nil, err
		}
		keep := make([]bool, len(roots))
		for i, rec := range recs {
			keep[i] = rec.Src == nil || !discarded[rootID{version: rec.Src.Version, typ: roots[i].Type, hash: rec.Src.Hash}]
		}
		if hasLoser(keep) {
			if err := d.discardAt(pb, u, roots, recs, keep, discarded, &removed); err != nil {
				return nil, err
			}
		}
	}
	return removed, nil
}

// rootVersionsAfter lists the versions above version that hold roots.
func (d *DB) rootVersionsAfter(version uint64) ([]uint64, error) {
	it, err := d.pdb.NewIter(&pebble.IterOptions{
		LowerBound: versionPrefix(prefixRoot, version+1),
		UpperBound: []byte{prefixRoot + 1},
	})
	if err != nil {
		return nil, fmt.Errorf("mkvs/db: %w", err)
	}
	defer it.Close()
	var out []uint64
	for it.First(); it.Valid(); it.Next() {
		r, ok := parseRootKey(d.ns, it.Key())
		if !ok {
			return nil, fmt.Errorf("%w: bad root key %x", ErrCorrupt, it.Key())
		}
		if n := len(out); n == 0 || out[n-1] != r.Version {
			out = append(out, r.Version)
		}
	}
	return out, it.Error()
}

// discardAt deletes the roots of version not marked in keep: their records, their write logs,
// and the nodes they created at version that no kept root of version reaches.
func (d *DB) discardAt(pb *pebble.Batch, version uint64, roots []node.Root, recs []rootRecord, keep []bool, discarded map[rootID]bool, removed *[]cacheKey) error {
	first := len(*removed)
	for _, t := range []node.RootType{node.RootTypeState, node.RootTypeIO} {
		// Nodes created at version that kept roots of type t reach.
		kept := make(map[hash.Hash]bool)
		visitKept := func(ref childRef) bool {
			if ref.Version != version || kept[ref.Hash] {
				return false
			}
			kept[ref.Hash] = true
			return true
		}
		for i, r := range roots {
			if keep[i] && r.Type == t && !r.IsEmpty() {
				if err := d.walk(t, childRef{Version: recs[i].NodeVersion, Hash: r.Hash}, visitKept); err != nil {
					return err
				}
			}
		}
		visitLost := func(ref childRef) bool {
			if ref.Version != version || kept[ref.Hash] {
				return false
			}
			kept[ref.Hash] = true // visited
			*removed = append(*removed, cacheKey{version: version, typ: t, hash: ref.Hash})
			return true
		}
		for i, r := range roots {
			if keep[i] || r.Type != t {
				continue
			}
			discarded[idOf(r)] = true
			d.hints.remove(idOf(r))
			if err := pb.Delete(rootKey(r), nil); err != nil {
				return fmt.Errorf("mkvs/db: %w", err)
			}
			prefix := writeLogPrefix(r)
			if err := pb.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
				return fmt.Errorf("mkvs/db: %w", err)
			}
			if r.IsEmpty() {
				continue
			}
			if err := d.walk(t, childRef{Version: recs[i].NodeVersion, Hash: r.Hash}, visitLost); err != nil {
				return err
			}
		}
	}
	return deleteNodes(pb, (*removed)[first:])
}

// moveFlatIndex updates the flat index in pb from the latest finalized state root in versions
// to r.
func (d *DB) moveFlatIndex(pb *pebble.Batch, versions *versionsRecord, r node.Root) error {
	prevHash := hash.Empty
	if prev, ok := versions.latest(node.RootTypeState); ok {
		prevHash = prev.Hash
	}
	if r.Hash == prevHash {
		return nil
	}
	flatStart, flatEnd := []byte{prefixFlat}, []byte{prefixFlat + 1}
	if r.IsEmpty() {
		if err := pb.DeleteRange(flatStart, flatEnd, nil); err != nil {
			return fmt.Errorf("mkvs/db: %w", err)
		}
		return nil
	}
	wl, err := d.findWriteLog(prevHash, r)
	switch {
	case err == nil:
		var buf []byte
		for _, e := range wl {
			buf = flatKey(buf, e.Key)
			if e.IsDelete() {
				err = pb.Delete(buf, nil)
			} else {
				err = pb.Set(buf, e.Value, nil)
			}
			if err != nil {
				return fmt.Errorf("mkvs/db: %w", err)
			}
		}
		return nil
	case !errors.Is(err, ErrWriteLogNotFound):
		return err
	}
	d.logger.Warn("no write log from the previous finalized state root, rebuilding the flat index",
		"root", r.String(), "previous", prevHash.String())
	rec, found, err := d.getRootRecord(r)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("mkvs/db: %w: %s", node.ErrRootNotFound, r)
	}
	if err := pb.DeleteRange(flatStart, flatEnd, nil); err != nil {
		return fmt.Errorf("mkvs/db: %w", err)
	}
	var buf []byte
	return d.walkLeaves(r.Type, childRef{Version: rec.NodeVersion, Hash: r.Hash}, func(key, value []byte) error {
		buf = flatKey(buf, key)
		if err := pb.Set(buf, value, nil); err != nil {
			return fmt.Errorf("mkvs/db: %w", err)
		}
		return nil
	})
}

// findWriteLog returns the write log from a tree with root hash src to dst, following dst back
// through the roots it was carried forward from.
func (d *DB) findWriteLog(src hash.Hash, dst node.Root) (writelog.WriteLog, error) {
	for {
		wl, err := d.getWriteLog(d.pdb, src, dst)
		if !errors.Is(err, ErrWriteLogNotFound) {
			return wl, err
		}
		rec, found, rerr := d.getRootRecord(dst)
		if rerr != nil {
			return nil, rerr
		}
		if !found || rec.Src == nil || rec.Src.Hash != dst.Hash || rec.Src.Version >= dst.Version {
			return nil, err
		}
		dst.Version = rec.Src.Version
	}
}
