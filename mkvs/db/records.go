package db

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// formatVersion is the on-disk layout described in the package doc. Bump it on any change of a
// key or record format; Open refuses other formats.
const formatVersion = 1

// metaRecord is written once, when the DB is created.
type metaRecord struct {
	_         struct{} `cbor:",toarray"`
	Format    uint16
	Namespace namespace.Namespace
}

func decodeMeta(data []byte) (metaRecord, error) {
	var m metaRecord
	if err := cbor.UnmarshalTrusted(data, &m); err != nil {
		return metaRecord{}, fmt.Errorf("%w: metadata: %w", ErrCorrupt, err)
	}
	return m, nil
}

// finalizedRoot is the latest finalized root of one type.
type finalizedRoot struct {
	_       struct{} `cbor:",toarray"`
	Type    node.RootType
	Version uint64
	Hash    hash.Hash
}

// versionsRecord is the finalized-version marker, rewritten by Finalize and Prune.
type versionsRecord struct {
	_ struct{} `cbor:",toarray"`
	// HasFinalized is set once a version has been finalized.
	HasFinalized bool
	// LastFinalized is the latest finalized version (meaningful with HasFinalized).
	LastFinalized uint64
	// PrunedBelow is the smallest version the DB still accepts: every version below it was
	// pruned.
	PrunedBelow uint64
	// Latest holds the latest finalized root of each type that has one, ordered by type.
	Latest []finalizedRoot
}

func decodeVersions(data []byte) (versionsRecord, error) {
	var v versionsRecord
	if err := cbor.UnmarshalTrusted(data, &v); err != nil {
		return versionsRecord{}, fmt.Errorf("%w: version marker: %w", ErrCorrupt, err)
	}
	for i, l := range v.Latest {
		if !l.Type.Valid() || (i > 0 && v.Latest[i-1].Type >= l.Type) {
			return versionsRecord{}, fmt.Errorf("%w: version marker: bad latest root list", ErrCorrupt)
		}
		if !v.HasFinalized || l.Version > v.LastFinalized {
			return versionsRecord{}, fmt.Errorf("%w: version marker: latest root beyond last finalized version", ErrCorrupt)
		}
	}
	return v, nil
}

// latest returns the latest finalized root of type t.
func (v *versionsRecord) latest(t node.RootType) (finalizedRoot, bool) {
	for _, l := range v.Latest {
		if l.Type == t {
			return l, true
		}
	}
	return finalizedRoot{}, false
}

// setLatest records r as the latest finalized root of its type.
func (v *versionsRecord) setLatest(r finalizedRoot) {
	for i, l := range v.Latest {
		if l.Type == r.Type {
			v.Latest[i] = r
			return
		}
		if l.Type > r.Type {
			v.Latest = append(v.Latest[:i], append([]finalizedRoot{r}, v.Latest[i:]...)...)
			return
		}
	}
	v.Latest = append(v.Latest, r)
}

func (v versionsRecord) clone() versionsRecord {
	v.Latest = append([]finalizedRoot(nil), v.Latest...)
	return v
}

// srcRef names the root a root was derived from (applied on or carried forward from).
type srcRef struct {
	_       struct{} `cbor:",toarray"`
	Version uint64
	Hash    hash.Hash
}

// rootRecord is the value of a root key.
type rootRecord struct {
	_ struct{} `cbor:",toarray"`
	// NodeVersion is the creation version of the root node: the root's own version, or an
	// earlier one for a root carried forward or a commit that changed nothing.
	NodeVersion uint64
	// Finalized is set when the root's version was finalized with this root among the winners.
	Finalized bool
	// Src is the root this one was derived from, nil for a tree built from empty. Finalize
	// discards roots derived from discarded roots.
	Src *srcRef
}

func decodeRootRecord(data []byte, version uint64) (rootRecord, error) {
	var r rootRecord
	if err := cbor.UnmarshalTrusted(data, &r); err != nil {
		return rootRecord{}, fmt.Errorf("%w: root record: %w", ErrCorrupt, err)
	}
	if r.NodeVersion > version || (r.Src != nil && r.Src.Version > version) {
		return rootRecord{}, fmt.Errorf("%w: root record refers to a later version", ErrCorrupt)
	}
	return r, nil
}

func encodeWriteLog(wl writelog.WriteLog) []byte {
	if wl == nil {
		wl = writelog.WriteLog{}
	}
	return cbor.Marshal(wl)
}

func decodeWriteLog(data []byte) (writelog.WriteLog, error) {
	var wl writelog.WriteLog
	if err := cbor.UnmarshalTrusted(data, &wl); err != nil {
		return nil, fmt.Errorf("%w: write log: %w", ErrCorrupt, err)
	}
	for _, e := range wl {
		if e.Key == nil {
			return nil, fmt.Errorf("%w: write log entry without key", ErrCorrupt)
		}
	}
	if !wl.IsCanonical() {
		return nil, fmt.Errorf("%w: write log not sorted by key", ErrCorrupt)
	}
	return wl, nil
}
