package node

import (
	"bytes"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
)

func TestLeafHashMatchesGoldenVector(t *testing.T) {
	leaf := &LeafNode{Key: []byte("a golden key"), Value: []byte("value")}
	leaf.UpdateHash()
	if got, want := leaf.Hash.String(), "5c05183d4158b5920b16833acb78ccda464da83f720f824177b3a55a75f9fd88"; got != want {
		t.Fatalf("leaf hash = %s, want %s", got, want)
	}
}

func TestInternalHashFunctionMatchesGoldenVector(t *testing.T) {
	// The reference vector hashes the 3-byte label "abc" with 23 label bits, whose last byte has
	// a non-zero unused bit; it checks only the raw hash function.
	got := HashInternal(23, []byte("abc"),
		hash.Digest([]byte("everyone stop here")),
		hash.Digest([]byte("everyone move to the left")),
		hash.Digest([]byte("everyone move to the right")))
	if want := "75c37c67c265e2c836f76dec35173fa336e976938ea46f088390a983e46efced"; got.String() != want {
		t.Fatalf("internal hash = %s, want %s", got, want)
	}
}

func TestInternalNodeRoundTripsThroughBothForms(t *testing.T) {
	leaf := &LeafNode{Key: []byte("ab"), Value: []byte{}}
	leaf.UpdateHash()
	n := &InternalNode{
		LabelBits: 12, Label: []byte{0x61, 0x60},
		Leaf:  &Pointer{Clean: true, Hash: leaf.Hash, Node: leaf},
		Right: &Pointer{Clean: true, Hash: hash.Digest([]byte("r")), Version: 7},
	}
	n.UpdateHash()
	raw, err := n.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalBinary(raw)
	if err != nil {
		t.Fatal(err)
	}
	if back.NodeHash() != n.Hash {
		t.Fatalf("hash changed over round trip")
	}
	again, _ := back.MarshalBinary()
	if !bytes.Equal(raw, again) {
		t.Fatalf("serialization not stable")
	}
	stored, err := MarshalStored(n)
	if err != nil {
		t.Fatal(err)
	}
	sback, err := UnmarshalStored(stored, 9)
	if err != nil {
		t.Fatal(err)
	}
	in := sback.(*InternalNode)
	if in.Version != 9 || in.Right.Version != 7 || in.Left != nil || in.Hash != n.Hash {
		t.Fatalf("stored round trip lost data: %+v", in)
	}
}

func TestDecodingRejectsLabelWithNonZeroUnusedBits(t *testing.T) {
	raw := []byte{0x01, 23, 0, 'a', 'b', 'c', 0x02}
	raw = append(raw, make([]byte, 64)...)
	if _, err := UnmarshalBinary(raw); err == nil {
		t.Fatal("accepted a label with non-zero unused bits")
	}
}
