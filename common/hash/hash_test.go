package hash

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

func TestDigestMatchesTheGoldenVectors(t *testing.T) {
	cases := []struct {
		name  string
		parts [][]byte
		want  string
	}{
		{"no bytes", nil, "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"},
		{"one empty part", [][]byte{{}}, "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"},
		{"abc", [][]byte{[]byte("abc")}, "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"},
		{"abc in parts", [][]byte{[]byte("a"), nil, []byte("bc")}, "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Digest(c.parts...).String(); got != c.want {
				t.Fatalf("Digest = %s, want %s", got, c.want)
			}
		})
	}
	if Empty.String() != cases[0].want || !Digest().IsEmpty() {
		t.Fatal("Empty is not H(\"\")")
	}
	if Empty.IsZero() || !(Hash{}).IsZero() || (Hash{}).IsEmpty() {
		t.Fatal("IsZero and IsEmpty confuse the zero hash and H(\"\")")
	}
}

func TestDigestCBORHashesTheCanonicalEncoding(t *testing.T) {
	v := map[string]uint64{"b": 1, "a": 2}
	if DigestCBOR(v) != Digest(cbor.Marshal(v)) {
		t.Fatal("DigestCBOR differs from Digest of Marshal")
	}
	// H(0xa0), the hash of an empty CBOR map.
	if got, want := DigestCBOR(map[string]uint64{}), Digest([]byte{0xa0}); got != want {
		t.Fatalf("DigestCBOR(empty map) = %s, want %s", got, want)
	}
}

func TestEncodingsRoundTrip(t *testing.T) {
	h := Digest([]byte("abc"))
	text, _ := h.MarshalText()
	if string(text) != h.String() || strings.ToLower(string(text)) != string(text) {
		t.Fatalf("text form %q", text)
	}
	var back Hash
	if err := back.UnmarshalText(text); err != nil || back != h {
		t.Fatalf("text round trip: %v", err)
	}
	if err := back.UnmarshalText([]byte(strings.ToUpper(string(text)))); err != nil || back != h {
		t.Fatalf("upper-case hex: %v", err)
	}
	bin, _ := h.MarshalBinary()
	if back, err := FromBytes(bin); err != nil || back != h {
		t.Fatalf("binary round trip: %v", err)
	}
	bin[0] ^= 1
	if h[0] == bin[0] {
		t.Fatal("MarshalBinary aliases the hash")
	}
	enc := cbor.Marshal(h)
	if !bytes.Equal(enc[:2], []byte{0x58, 0x20}) || len(enc) != 34 {
		t.Fatalf("CBOR form %x is not a 32-byte byte string", enc)
	}
	back = Hash{}
	if err := cbor.UnmarshalCanonical(enc, &back); err != nil || back != h {
		t.Fatalf("CBOR round trip: %v", err)
	}
	data, err := json.Marshal(struct {
		H Hash `json:"h"`
	}{h})
	if err != nil || string(data) != `{"h":"`+h.String()+`"}` {
		t.Fatalf("JSON %s, %v", data, err)
	}
	if got, err := FromHex(h.String()); err != nil || got != h {
		t.Fatalf("FromHex: %v", err)
	}
}

func TestDecodersRejectWrongLengths(t *testing.T) {
	h := Digest([]byte("abc"))
	hx := h.String()
	for _, s := range []string{"", hx[:62], hx + "00", hx[:63], "zz" + hx[2:]} {
		if _, err := FromHex(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("FromHex(%q): %v, want ErrMalformed", s, err)
		}
	}
	for _, b := range [][]byte{{}, h[:31], append(h[:], 0)} {
		if _, err := FromBytes(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("FromBytes(%d bytes): %v, want ErrMalformed", len(b), err)
		}
		var back Hash
		if err := cbor.Unmarshal(cbor.Marshal(b), &back); !errors.Is(err, ErrMalformed) {
			t.Errorf("CBOR of %d bytes: %v, want ErrMalformed", len(b), err)
		}
	}
	var back Hash
	if err := cbor.Unmarshal([]byte{0x01}, &back); err == nil {
		t.Error("CBOR integer decoded into a hash")
	}
}

func TestCBORDecodingAcceptsOnlyAByteString(t *testing.T) {
	array32 := append([]byte{0x98, 0x20}, make([]byte, 32)...)
	cases := []struct {
		name string
		data []byte
	}{
		{"null", []byte{0xf6}},
		{"undefined", []byte{0xf7}},
		{"an array of 32 integers", array32},
		{"a short array", []byte{0x82, 0x01, 0x02}},
		{"an integer", []byte{0x01}},
		{"a text string", append([]byte{0x78, 0x40}, Empty.String()...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Hash
			if err := cbor.Unmarshal(c.data, &h); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Unmarshal(%x): %v, want ErrMalformed", c.data, err)
			}
			var s struct {
				H Hash `cbor:"h"`
			}
			if err := cbor.Unmarshal(append([]byte{0xa1, 0x61, 'h'}, c.data...), &s); !errors.Is(err, ErrMalformed) {
				t.Fatalf("struct field: %v, want ErrMalformed", err)
			}
		})
	}
	t.Run("null for an optional pointer is nil", func(t *testing.T) {
		s := struct {
			H *Hash `cbor:"h"`
		}{H: &Hash{1}}
		if err := cbor.Unmarshal([]byte{0xa1, 0x61, 'h', 0xf6}, &s); err != nil || s.H != nil {
			t.Fatalf("Unmarshal: %v, %v", err, s.H)
		}
	})
}
