package cbor

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

type golden struct {
	B     uint64            `cbor:"b"`
	AA    int64             `cbor:"aa"`
	A     string            `cbor:"a"`
	Nil   []byte            `cbor:"nil"`
	Empty []byte            `cbor:"empty"`
	Opt   []byte            `cbor:"opt,omitempty"`
	Map   map[string]uint32 `cbor:"map,omitempty"`
	Neg   int64             `cbor:"neg"`
	Big   uint64            `cbor:"big"`
	Flag  bool              `cbor:"flag"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncodingsMatchTheGoldenVectors freezes the encoder: a change here forks consensus.
func TestEncodingsMatchTheGoldenVectors(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"zero", uint64(0), "00"},
		{"23 fits in the initial byte", uint64(23), "17"},
		{"24 takes one more byte", uint64(24), "1818"},
		{"255", uint64(255), "18ff"},
		{"256 takes two bytes", uint64(256), "190100"},
		{"65536 takes four bytes", uint64(65536), "1a00010000"},
		{"2^32 takes eight bytes", uint64(1) << 32, "1b0000000100000000"},
		{"-1", int64(-1), "20"},
		{"-25", int64(-25), "3818"},
		{"nil bytes are null", []byte(nil), "f6"},
		{"empty bytes are an empty byte string", []byte{}, "40"},
		{"bytes", []byte{1, 2, 3}, "43010203"},
		{"a byte array is a byte string", [3]byte{1, 2, 3}, "43010203"},
		{"a string", "atoll", "6561746f6c6c"},
		{"true", true, "f5"},
		{"map keys sort bytewise by encoding, shorter first", map[string]uint8{"b": 1, "aa": 2, "a": 3},
			"a3 6161 03 6162 01 626161 02"},
		{"integer map keys sort by encoding", map[int64]bool{-1: true, 0: false, 24: true, 1: true},
			"a4 00 f4 01 f5 1818 f5 20 f5"},
		{"a struct sorts its keys and omits empty optional fields",
			golden{B: 1, AA: 2, A: "x", Empty: []byte{}, Neg: -1, Big: 1000, Flag: true},
			"a8" +
				"61 61 61 78" + // "a": "x"
				"61 62 01" + // "b": 1
				"62 6161 02" + // "aa": 2
				"63 626967 1903e8" + // "big": 1000
				"63 6e6567 20" + // "neg": -1
				"63 6e696c f6" + // "nil": null
				"64 666c6167 f5" + // "flag": true
				"65 656d707479 40"}, // "empty": h''
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.want)
			if got := Marshal(c.v); !bytes.Equal(got, want) {
				t.Fatalf("Marshal = %x, want %x", got, want)
			}
			if got := MarshalTo([]byte{0xee}, c.v); !bytes.Equal(got, append([]byte{0xee}, want...)) {
				t.Fatalf("MarshalTo = %x, want ee%x", got, want)
			}
		})
	}
}

func TestMarshalToAppendsInPlaceWhenThereIsRoom(t *testing.T) {
	buf := make([]byte, 2, 64)
	buf[0], buf[1] = 0xaa, 0xbb
	out := MarshalTo(buf, uint64(1))
	if !bytes.Equal(out, []byte{0xaa, 0xbb, 0x01}) {
		t.Fatalf("MarshalTo = %x", out)
	}
	if &out[0] != &buf[0] {
		t.Fatal("MarshalTo did not reuse the buffer's capacity")
	}
}

func TestNilAndEmptyBytesDecodeApart(t *testing.T) {
	var nilOut, emptyOut []byte = []byte{9}, nil
	if err := Unmarshal([]byte{0xf6}, &nilOut); err != nil || nilOut != nil {
		t.Fatalf("f6 decoded to %#v, %v", nilOut, err)
	}
	if err := Unmarshal([]byte{0x40}, &emptyOut); err != nil || emptyOut == nil || len(emptyOut) != 0 {
		t.Fatalf("40 decoded to %#v, %v", emptyOut, err)
	}
}

type strictTarget struct {
	A uint64 `cbor:"a"`
	B []byte `cbor:"b,omitempty"`
}

func TestTheStrictDecoderRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		data string
	}{
		{"a duplicate map key", "a2 6161 01 6161 02"},
		{"an unknown field", "a2 6161 01 6163 02"},
		{"a field name in another case", "a1 6141 01"},
		{"an indefinite-length map", "bf 6161 01 ff"},
		{"an indefinite-length byte string", "a2 6161 01 6162 5f 4101 4102 ff"},
		{"a tag", "a1 6161 c1 01"},
		{"trailing bytes", "a1 6161 01 00"},
		{"a truncated item", "a1 6161"},
		{"a wrong type", "a1 6161 6178"},
		{"a negative value for an unsigned field", "a1 6161 20"},
		{"no bytes at all", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v strictTarget
			if err := Unmarshal(unhex(t, c.data), &v); err == nil {
				t.Fatalf("accepted, decoded %+v", v)
			}
		})
	}
	t.Run("a duplicate key in a map decoded into a Go map", func(t *testing.T) {
		var m map[string]uint64
		if err := Unmarshal(unhex(t, "a2 6161 01 6161 02"), &m); err == nil {
			t.Fatalf("accepted, decoded %v", m)
		}
	})
	t.Run("invalid UTF-8 in a text string", func(t *testing.T) {
		var s string
		if err := Unmarshal(unhex(t, "62 c328"), &s); err == nil {
			t.Fatalf("accepted, decoded %q", s)
		}
	})
	t.Run("deep nesting", func(t *testing.T) {
		var v any
		if err := Unmarshal(bytes.Repeat([]byte{0x81}, 100), &v); err == nil {
			t.Fatal("accepted 100 nested arrays")
		}
	})
}

func TestTheSizeCapRejectsOversizeInput(t *testing.T) {
	var b []byte
	big := Marshal(make([]byte, MaxSize))
	if err := Unmarshal(big, &b); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Unmarshal of %d bytes: %v, want ErrTooLarge", len(big), err)
	}
	if err := Valid(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Valid of %d bytes: %v, want ErrTooLarge", len(big), err)
	}
	small := Marshal(make([]byte, 100))
	if err := UnmarshalLimit(small, &b, 100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("UnmarshalLimit: %v, want ErrTooLarge", err)
	}
	if err := UnmarshalLimit(small, &b, len(small)); err != nil {
		t.Fatalf("UnmarshalLimit at the limit: %v", err)
	}
	if err := UnmarshalTrusted(big, &b); err != nil || len(b) != MaxSize {
		t.Fatalf("UnmarshalTrusted: %v, %d bytes", err, len(b))
	}
}

func TestUnmarshalCanonicalRejectsNonCanonicalForms(t *testing.T) {
	cases := []struct {
		name string
		data string
	}{
		{"unsorted keys", "a2 6162 41ff 6161 01"},
		{"a long integer form", "a1 6161 1801"},
		{"a long length form", "a1 6161 1a00000001"},
		{"a long byte string length", "a2 6161 01 6162 5801ff"},
		{"an omitted field written out", "a2 6161 01 6162 40"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := unhex(t, c.data)
			var loose strictTarget
			if err := Unmarshal(data, &loose); err != nil {
				t.Fatalf("the strict decoder should accept it: %v", err)
			}
			var v strictTarget
			if err := UnmarshalCanonical(data, &v); !errors.Is(err, ErrNonCanonical) {
				t.Fatalf("UnmarshalCanonical: %v, want ErrNonCanonical", err)
			}
		})
	}
	var v strictTarget
	if err := UnmarshalCanonical(unhex(t, "a2 6161 01 6162 41ff"), &v); err != nil || v.A != 1 || !bytes.Equal(v.B, []byte{0xff}) {
		t.Fatalf("canonical input: %v, %+v", err, v)
	}
}

func TestValidChecksWellFormedness(t *testing.T) {
	if err := Valid(unhex(t, "a1 6161 01")); err != nil {
		t.Fatalf("well-formed input: %v", err)
	}
	for _, s := range []string{"", "a1 6161", "ff", "01 02", "c1 01"} {
		if err := Valid(unhex(t, s)); err == nil {
			t.Errorf("Valid(%s) accepted", s)
		}
	}
}

func TestByteStringAcceptsOnlyOneDefiniteByteString(t *testing.T) {
	good := []struct {
		data string
		want string
	}{
		{"40", ""},
		{"43 010203", "010203"},
		{"58 03 010203", "010203"},
		{"59 0003 010203", "010203"},
		{"5a 00000003 010203", "010203"},
		{"5b 0000000000000003 010203", "010203"},
	}
	for _, c := range good {
		b, err := ByteString(unhex(t, c.data))
		if err != nil || hex.EncodeToString(b) != c.want {
			t.Errorf("ByteString(%s) = %x, %v; want %s", c.data, b, err, c.want)
		}
	}
	for _, s := range []string{"", "f6", "f7", "80", "01", "6161", "5f 41 01 ff", "43 0102", "43 01020304", "58", "59 00", "5c", "5b ffffffffffffffff 00"} {
		if b, err := ByteString(unhex(t, s)); !errors.Is(err, ErrNotByteString) {
			t.Errorf("ByteString(%s) = %x, %v; want ErrNotByteString", s, b, err)
		}
	}
}

// FuzzUnmarshal feeds untrusted bytes to the strict decoder: it must never panic, and anything
// UnmarshalCanonical accepts must re-encode to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		"a2 6161 01 6162 41ff", "a2 6161 01 6161 02", "bf ff", "c1 01", "f6", "40", "a1 6161 1801", "",
		"9f ff", "a1 6163 a1 6161 01",
	} {
		b, _ := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s strictTarget
		_ = Unmarshal(data, &s)
		var c strictTarget
		if err := UnmarshalCanonical(data, &c); err == nil && !bytes.Equal(Marshal(&c), data) {
			t.Fatalf("canonical decode of %x re-encodes as %x", data, Marshal(&c))
		}
		var v any
		if err := Unmarshal(data, &v); err == nil {
			if err := Valid(data); err != nil {
				t.Fatalf("Unmarshal accepted %x but Valid rejects it: %v", data, err)
			}
		}
	})
}
