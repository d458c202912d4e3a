// Package writelog defines MKVS write logs: the net changes between two roots of a tree.
package writelog

import (
	"bytes"
	"sort"
)

// LogEntry is one change: Value nil deletes Key; an empty, non-nil Value is a valid value.
// Its CBOR form is the array [key, value].
type LogEntry struct {
	_     struct{} `cbor:",toarray"`
	Key   []byte
	Value []byte
}

// IsDelete reports whether the entry removes its key.
func (e LogEntry) IsDelete() bool { return e.Value == nil }

// WriteLog is a list of changes holding net changes only (at most one entry per key), sorted by
// key.
type WriteLog []LogEntry

// Sort orders the entries by key.
func (wl WriteLog) Sort() {
	sort.Slice(wl, func(i, j int) bool { return bytes.Compare(wl[i].Key, wl[j].Key) < 0 })
}

// IsCanonical reports whether the entries are sorted by key with no key repeated.
func (wl WriteLog) IsCanonical() bool {
	for i := 1; i < len(wl); i++ {
		if bytes.Compare(wl[i-1].Key, wl[i].Key) >= 0 {
			return false
		}
	}
	return true
}
