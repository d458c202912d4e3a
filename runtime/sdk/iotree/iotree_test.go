package iotree

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
)

func TestKeysFollowTheLayoutOfTheDesign(t *testing.T) {
	h := hash.Digest([]byte("tx"))
	hx := hex.EncodeToString(h[:])
	cases := []struct{ name, got, want string }{
		{"input", hex.EncodeToString(InputKey(h)), "54" + hx + "01"},
		{"output", hex.EncodeToString(OutputKey(h)), "54" + hx + "02"},
		{"tag", hex.EncodeToString(TagKey([]byte("ab"), h)), "45" + "6162" + hx},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s key = %s, want %s", c.name, c.got, c.want)
		}
	}
}

func TestValuesHaveTheirGoldenEncodings(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"input [tx, order]", cbor.Marshal(&Input{Tx: []byte("tx"), BatchOrder: 5}), "8242747805"},
		{"ok output", EncodeOutput(&Output{Ok: cbor.Marshal(uint64(1))}), "81a1626f6b01"},
		{"error output", EncodeOutput(&Output{Error: &coded.Wire{Module: "m", Code: 2, Message: "x"}}),
			"81a1656572726f72a364636f646502666d6f64756c65616d676d6573736167656178"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(c.got); got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestOutputsDecodeOnlyWithExactlyOneOutcome(t *testing.T) {
	ok := &Output{Ok: cbor.Marshal("fine")}
	got, err := DecodeOutput(EncodeOutput(ok))
	if err != nil || string(got.Ok) != string(ok.Ok) {
		t.Fatalf("DecodeOutput() = %v, %v", got, err)
	}
	for name, o := range map[string]*Output{
		"neither": {},
		"both":    {Ok: cbor.Marshal(1), Error: &coded.Wire{Module: "m", Code: 1}},
	} {
		if _, err := DecodeOutput(EncodeOutput(o)); err == nil {
			t.Errorf("%s: DecodeOutput accepted it", name)
		}
	}
}

func TestARepeatedInputIsStoredOnceAtItsFirstPosition(t *testing.T) {
	a, b := []byte("a"), []byte("b")
	wl, first := InputWriteLog([][]byte{a, b, a})
	if len(wl) != 2 || !wl.IsCanonical() {
		t.Fatalf("write log %v, want 2 sorted entries", wl)
	}
	if want := []bool{true, true, false}; first[0] != want[0] || first[1] != want[1] || first[2] != want[2] {
		t.Fatalf("first = %v, want %v", first, want)
	}
	for _, e := range wl {
		var in Input
		if err := cbor.Unmarshal(e.Value, &in); err != nil {
			t.Fatal(err)
		}
		if string(in.Tx) == "a" && in.BatchOrder != 0 {
			t.Errorf("a stored at order %d, want 0", in.BatchOrder)
		}
	}
}

func TestBuildInputsGivesTheRootOfTheInputWriteLog(t *testing.T) {
	ctx := context.Background()
	var ns namespace.Namespace
	in1, err := BuildInputs(ctx, ns, 3, [][]byte{[]byte("x"), []byte("y")})
	if err != nil {
		t.Fatal(err)
	}
	defer in1.Tree.Close()
	in2, err := BuildInputs(ctx, ns, 3, [][]byte{[]byte("x"), []byte("y"), []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Tree.Close()
	if in1.Root != in2.Root || in1.Root.Version != 3 {
		t.Fatalf("roots %s and %s, want equal at version 3", in1.Root, in2.Root)
	}
	empty, err := BuildInputs(ctx, ns, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Tree.Close()
	if empty.Root.Hash != hash.Empty {
		t.Errorf("empty batch root %s, want H(\"\")", empty.Root.Hash)
	}
}
