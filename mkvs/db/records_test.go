package db

import (
	"bytes"
	"slices"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

func sampleNodes() []node.Node {
	tr, b := commitRef(emptyRef(node.RootTypeState), 3, kvs("foo", "bar", "fo", "", "moo", "x", "zzzzzz", "long value"))
	_ = tr
	return b.Nodes
}

func TestStoredFormHelpersMatchTheNodePackage(t *testing.T) {
	for _, n := range sampleNodes() {
		want, err := node.MarshalStored(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendStored([]byte("prefix"), n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[6:], want) {
			t.Fatalf("appendStored = %x, MarshalStored = %x", got[6:], want)
		}
		checkChildrenAgree(t, want)
	}
}

// checkChildrenAgree checks storedChildren against node.UnmarshalStored on one record.
func checkChildrenAgree(t *testing.T, data []byte) {
	t.Helper()
	children, err := storedChildren(data, nil)
	n, nerr := node.UnmarshalStored(data, 5)
	if nerr != nil {
		return // storedChildren may accept what only the full decoder rejects
	}
	if err != nil {
		t.Fatalf("storedChildren rejects a valid record %x: %v", data, err)
	}
	var want []childRef
	if in, ok := n.(*node.InternalNode); ok {
		for _, p := range []*node.Pointer{in.Left, in.Right} {
			if p != nil {
				want = append(want, childRef{Version: p.Version, Hash: p.Hash})
			}
		}
	}
	if !slices.Equal(children, want) {
		t.Fatalf("storedChildren = %v, want %v", children, want)
	}
}

func FuzzStoredChildren(f *testing.F) {
	for _, n := range sampleNodes() {
		raw, _ := node.MarshalStored(n)
		f.Add(raw)
	}
	f.Add([]byte{})
	f.Add([]byte{0x01, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkChildrenAgree(t, data)
	})
}

// FuzzDecodeRecords feeds arbitrary bytes to every decoder of DB records: a corrupt record must
// give an error, never a panic, and what decodes must re-encode to a record that decodes the
// same.
func FuzzDecodeRecords(f *testing.F) {
	f.Add(cbor.Marshal(metaRecord{Format: formatVersion, Namespace: testNS}))
	f.Add(cbor.Marshal(versionsRecord{HasFinalized: true, LastFinalized: 9, PrunedBelow: 3,
		Latest: []finalizedRoot{{Type: node.RootTypeState, Version: 9, Hash: hash.Empty}}}))
	f.Add(cbor.Marshal(rootRecord{NodeVersion: 4, Finalized: true, Src: &srcRef{Version: 3, Hash: hash.Empty}}))
	f.Add(cbor.Marshal(rootRecord{NodeVersion: 4}))
	f.Add(encodeWriteLog(writelog.WriteLog{{Key: []byte("a"), Value: []byte{}}, {Key: []byte("b")}}))
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := decodeMeta(data); err == nil {
			if again, err := decodeMeta(cbor.Marshal(m)); err != nil || again != m {
				t.Fatalf("meta does not round-trip: %v", err)
			}
		}
		if v, err := decodeVersions(data); err == nil {
			if _, err := decodeVersions(cbor.Marshal(v)); err != nil {
				t.Fatalf("version marker does not round-trip: %v", err)
			}
		}
		if r, err := decodeRootRecord(data, 10); err == nil {
			if _, err := decodeRootRecord(cbor.Marshal(r), 10); err != nil {
				t.Fatalf("root record does not round-trip: %v", err)
			}
		}
		if wl, err := decodeWriteLog(data); err == nil {
			again, err := decodeWriteLog(encodeWriteLog(wl))
			if err != nil || len(again) != len(wl) {
				t.Fatalf("write log does not round-trip: %v", err)
			}
			for i := range wl {
				if !bytes.Equal(wl[i].Key, again[i].Key) || !bytes.Equal(wl[i].Value, again[i].Value) || wl[i].IsDelete() != again[i].IsDelete() {
					t.Fatalf("write log entry %d changed over a round trip", i)
				}
			}
		}
	})
}

func TestWriteLogKeepsDeletesApartFromEmptyValues(t *testing.T) {
	wl := writelog.WriteLog{{Key: []byte("a"), Value: []byte{}}, {Key: []byte("b")}}
	got, err := decodeWriteLog(encodeWriteLog(wl))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].IsDelete() || !got[1].IsDelete() {
		t.Fatalf("decoded %+v", got)
	}
}

func TestCorruptNodeRecordGivesAnError(t *testing.T) {
	d := openMem(t, nil)
	tr, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("a", "1", "b", "2"))
	mustApply(t, d, b)
	p, err := d.RootPointer(tr.root)
	if err != nil {
		t.Fatal(err)
	}
	k := nodeKey(p.Version, tr.root.Type, p.Hash)
	if err := d.pdb.Set(k, []byte{0x01, 0x05}, nil); err != nil {
		t.Fatal(err)
	}
	d.cache.remove(cacheKey{version: p.Version, typ: tr.root.Type, hash: p.Hash})
	_, err = d.GetNode(tr.root, p)
	wantErr(t, err, ErrCorrupt)
}
