package namespace

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

func testNamespace() Namespace {
	var n Namespace
	for i := range n {
		n[i] = byte(i * 7)
	}
	return n
}

func TestEncodingsRoundTrip(t *testing.T) {
	n := testNamespace()
	const want = "00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9"
	if n.String() != want {
		t.Fatalf("String = %s, want %s", n, want)
	}
	if got, err := FromHex(want); err != nil || got != n {
		t.Fatalf("FromHex: %v", err)
	}
	var back Namespace
	if err := back.UnmarshalText([]byte(strings.ToUpper(want))); err != nil || back != n {
		t.Fatalf("upper-case hex: %v", err)
	}
	bin, _ := n.MarshalBinary()
	back = Namespace{}
	if err := back.UnmarshalBinary(bin); err != nil || back != n {
		t.Fatalf("binary round trip: %v", err)
	}
	enc := cbor.Marshal(n)
	if !bytes.Equal(enc, append([]byte{0x58, 0x20}, n[:]...)) {
		t.Fatalf("CBOR form %x", enc)
	}
	back = Namespace{}
	if err := cbor.UnmarshalCanonical(enc, &back); err != nil || back != n {
		t.Fatalf("CBOR round trip: %v", err)
	}
	if n.IsZero() || !(Namespace{}).IsZero() {
		t.Fatal("IsZero is wrong")
	}
}

func TestDecodersRejectWrongLengths(t *testing.T) {
	n := testNamespace()
	hx := n.String()
	for _, s := range []string{"", hx[:62], hx + "00", "xx" + hx[2:]} {
		if _, err := FromHex(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("FromHex(%q): %v, want ErrMalformed", s, err)
		}
	}
	for _, b := range [][]byte{{}, n[:31], append(n[:], 1)} {
		var back Namespace
		if err := back.UnmarshalBinary(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("UnmarshalBinary(%d bytes): %v", len(b), err)
		}
		if err := cbor.Unmarshal(cbor.Marshal(b), &back); !errors.Is(err, ErrMalformed) {
			t.Errorf("CBOR of %d bytes: %v", len(b), err)
		}
	}
}

func TestCBORDecodingAcceptsOnlyAByteString(t *testing.T) {
	for _, data := range [][]byte{{0xf6}, {0xf7}, append([]byte{0x98, 0x20}, make([]byte, 32)...), {0x80}, {0x00}} {
		var n Namespace
		if err := cbor.Unmarshal(data, &n); !errors.Is(err, ErrMalformed) {
			t.Errorf("Unmarshal(%x): %v, want ErrMalformed", data, err)
		}
	}
}
