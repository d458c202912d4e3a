package node

import (
	"bytes"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
)

func fuzzSeeds(f *testing.F) {
	leaf := &LeafNode{Key: []byte("key"), Value: []byte("value")}
	leaf.UpdateHash()
	in := &InternalNode{
		LabelBits: 12, Label: []byte{0x61, 0x60},
		Leaf:  &Pointer{Clean: true, Hash: leaf.Hash, Node: leaf},
		Left:  &Pointer{Clean: true, Hash: hash.Digest([]byte("l")), Version: 3},
		Right: &Pointer{Clean: true, Hash: hash.Digest([]byte("r")), Version: 300},
	}
	in.UpdateHash()
	for _, n := range []Node{leaf, in, &LeafNode{}} {
		raw, _ := n.MarshalBinary()
		f.Add(raw)
		stored, _ := MarshalStored(n)
		f.Add(stored)
	}
}

// FuzzUnmarshalBinary checks that whatever decodes re-encodes to the same bytes and hash.
func FuzzUnmarshalBinary(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := UnmarshalBinary(data)
		if err != nil {
			return
		}
		again, err := n.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encoding a decoded node: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("decoding is not canonical: %x re-encodes as %x", data, again)
		}
		back, err := UnmarshalBinary(again)
		if err != nil || back.NodeHash() != n.NodeHash() {
			t.Fatalf("round trip changed the node: %v", err)
		}
	})
}

// FuzzUnmarshalStored checks that the stored form decodes without panicking and round-trips.
func FuzzUnmarshalStored(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := UnmarshalStored(data, 5)
		if err != nil {
			return
		}
		again, err := MarshalStored(n)
		if err != nil {
			t.Fatalf("re-encoding a decoded node: %v", err)
		}
		back, err := UnmarshalStored(again, 5)
		if err != nil || back.NodeHash() != n.NodeHash() {
			t.Fatalf("round trip changed the node: %v", err)
		}
	})
}
