package keyformat

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
)

// address stands for a 21-byte account address.
type address [21]byte

// kinded is a 2-byte part whose first byte must be 0x00 or 0x01, like an address kind.
type kinded [2]byte

func (k kinded) MarshalBinary() ([]byte, error) { return k[:], nil }

func (k *kinded) UnmarshalBinary(b []byte) error {
	if len(b) != 2 || b[0] > 1 {
		return errors.New("bad kind")
	}
	copy(k[:], b)
	return nil
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestEncodeWritesThePrefixThenBigEndianParts(t *testing.T) {
	h := hash.Digest([]byte("h"))
	var ns namespace.Namespace
	ns[0], ns[31] = 0xaa, 0xbb
	var pk signature.PublicKey
	pk[0] = 0x11
	addr := address{0: 0x01, 20: 0x02}
	cases := []struct {
		name   string
		format *KeyFormat
		values []any
		want   string
	}{
		{"no parts", New(0x10), nil, "10"},
		{"integers", New(0x11, Uint8, Uint16, Uint32, Uint64),
			[]any{uint8(1), uint16(0x0203), uint32(0x04050607), uint64(0x08090a0b0c0d0e0f)},
			"11 01 0203 04050607 08090a0b0c0d0e0f"},
		{"a hash and a round", New(0x12, Hash, Uint64), []any{h, uint64(7)}, "12" + h.String() + "0000000000000007"},
		{"a namespace by pointer", New(0x13, Hash), []any{&ns}, "13" + ns.String()},
		{"a public key", New(0x14, Hash), []any{pk}, "14" + pk.String()},
		{"a 21-byte array", New(0x15, Fixed(21)), []any{addr}, "15 01" + strings.Repeat("00", 19) + "02"},
		{"a binary marshaler", New(0x16, Fixed(2)), []any{kinded{1, 9}}, "16 0109"},
		{"a trailing byte string", New(0x17, Uint8, Variable), []any{uint8(3), []byte("key")}, "17 03 6b6579"},
		{"a trailing string", New(0x17, Uint8, Variable), []any{uint8(3), "key"}, "17 03 6b6579"},
		{"an empty trailing part", New(0x17, Uint8, Variable), []any{uint8(3), []byte(nil)}, "17 03"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.format.Encode(c.values...)
			if !bytes.Equal(got, unhex(c.want)) {
				t.Fatalf("key %x, want %s", got, c.want)
			}
		})
	}
}

func TestKeysSortLikeTheirParts(t *testing.T) {
	kf := New(0x20, Uint64, Uint16)
	keys := [][]byte{
		kf.Encode(uint64(1), uint16(0xffff)),
		kf.Encode(uint64(2), uint16(0)),
		kf.Encode(uint64(0x100), uint16(1)),
		kf.Encode(uint64(0x100), uint16(2)),
	}
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			t.Fatalf("key %d %x does not sort before key %d %x", i-1, keys[i-1], i, keys[i])
		}
	}
}

func TestDecodeReturnsTheEncodedParts(t *testing.T) {
	h := hash.Digest([]byte("h"))
	kf := New(0x30, Hash, Uint64, Fixed(2), Variable)
	key := kf.Encode(h, uint64(42), kinded{0, 5}, []byte("tail"))

	var (
		gotH    hash.Hash
		gotN    uint64
		gotK    kinded
		gotTail []byte
	)
	if !kf.Decode(key, &gotH, &gotN, &gotK, &gotTail) {
		t.Fatal("Decode rejected its own key")
	}
	if gotH != h || gotN != 42 || gotK != (kinded{0, 5}) || string(gotTail) != "tail" {
		t.Fatalf("decoded %s %d %v %q", gotH, gotN, gotK, gotTail)
	}
	key[len(key)-1] = 'X'
	if string(gotTail) != "tail" {
		t.Fatal("the decoded tail aliases the key")
	}

	t.Run("leading parts only, skipping with nil", func(t *testing.T) {
		var n uint64
		if !kf.Decode(key, nil, &n) || n != 42 {
			t.Fatalf("Decode: %d", n)
		}
	})
	t.Run("a raw array destination", func(t *testing.T) {
		var raw [32]byte
		if !kf.Decode(key, &raw) || raw != h {
			t.Fatal("Decode into [32]byte failed")
		}
	})
	t.Run("all integer widths", func(t *testing.T) {
		ints := New(0x31, Uint8, Uint16, Uint32, Uint64)
		var a uint8
		var b uint16
		var c uint32
		var d uint64
		key := ints.Encode(uint8(1), uint16(2), uint32(3), uint64(4))
		if !ints.Decode(key, &a, &b, &c, &d) || a != 1 || b != 2 || c != 3 || d != 4 {
			t.Fatalf("decoded %d %d %d %d", a, b, c, d)
		}
	})
	t.Run("a string tail", func(t *testing.T) {
		var s string
		if !kf.Decode(kf.Encode(h, uint64(1), kinded{}, "abc"), nil, nil, nil, &s) || s != "abc" {
			t.Fatalf("decoded %q", s)
		}
	})
}

func TestDecodeRejectsForeignKeys(t *testing.T) {
	fixed := New(0x40, Uint64, Fixed(2))
	tail := New(0x41, Uint32, Variable)
	good := fixed.Encode(uint64(1), kinded{1, 1})
	cases := []struct {
		name string
		kf   *KeyFormat
		key  []byte
	}{
		{"an empty key", fixed, nil},
		{"another prefix", fixed, append([]byte{0x42}, good[1:]...)},
		{"a short key", fixed, good[:len(good)-1]},
		{"a long key", fixed, append(append([]byte(nil), good...), 0)},
		{"a part the destination rejects", fixed, fixed.Encode(uint64(1), kinded{7, 0})},
		{"a key shorter than the fixed parts", tail, []byte{0x41, 0, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n uint64
			var k kinded
			var u uint32
			var rest []byte
			var ok bool
			if c.kf == fixed {
				ok = c.kf.Decode(c.key, &n, &k)
			} else {
				ok = c.kf.Decode(c.key, &u, &rest)
			}
			if ok {
				t.Fatalf("Decode accepted %x", c.key)
			}
		})
	}
	if !tail.Decode([]byte{0x41, 0, 0, 0, 9}) {
		t.Fatal("a key with an empty tail was rejected")
	}
}

func TestPrefixMatchesEveryKeyWithThoseLeadingParts(t *testing.T) {
	kf := New(0x50, Hash, Uint64, Variable)
	h := hash.Digest([]byte("runtime"))
	cases := []struct {
		name   string
		values []any
		want   string
	}{
		{"no values", nil, "50"},
		{"the first part", []any{h}, "50" + h.String()},
		{"two parts", []any{h, uint64(9)}, "50" + h.String() + "0000000000000009"},
		{"with a partial tail", []any{h, uint64(9), []byte("ab")}, "50" + h.String() + "0000000000000009" + "6162"},
	}
	key := kf.Encode(h, uint64(9), []byte("abc"))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := kf.Prefix(c.values...)
			if hex.EncodeToString(p) != c.want {
				t.Fatalf("prefix %x, want %s", p, c.want)
			}
			if !bytes.HasPrefix(key, p) {
				t.Fatalf("key %x does not start with prefix %x", key, p)
			}
		})
	}
}

func TestProgrammingErrorsPanic(t *testing.T) {
	kf := New(0x60, Uint64, Hash, Variable)
	h := hash.Digest()
	cases := []struct {
		name string
		use  func()
	}{
		{"a variable part before the last", func() { New(0x61, Variable, Uint8) }},
		{"a zero-width part", func() { New(0x61, Part(0)) }},
		{"a zero Fixed part", func() { Fixed(0) }},
		{"too few values for Encode", func() { kf.Encode(uint64(1), h) }},
		{"too many values for Prefix", func() { kf.Prefix(uint64(1), h, []byte{}, []byte{}) }},
		{"an integer of the wrong width", func() { kf.Encode(uint32(1), h, []byte{}) }},
		{"a signed integer", func() { kf.Encode(1, h, []byte{}) }},
		{"an array of the wrong width", func() { kf.Encode(uint64(1), [31]byte{}, []byte{}) }},
		{"a slice for a fixed part", func() { kf.Encode(uint64(1), h[:], []byte{}) }},
		{"an integer for the variable part", func() { kf.Encode(uint64(1), h, uint64(2)) }},
		{"a marshaler of the wrong width", func() { kf.Encode(uint64(1), kinded{}, []byte{}) }},
		{"too many destinations", func() { kf.Decode(kf.Encode(uint64(1), h, nil), nil, nil, nil, nil) }},
		{"a destination of the wrong width", func() {
			var v uint32
			kf.Decode(kf.Encode(uint64(1), h, nil), &v)
		}},
		{"a non-pointer destination", func() { kf.Decode(kf.Encode(uint64(1), h, nil), nil, h) }},
		{"a wrong tail destination", func() {
			var v uint64
			kf.Decode(kf.Encode(uint64(1), h, nil), nil, nil, &v)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if !strings.HasPrefix(fmt.Sprint(r), "keyformat: ") {
					t.Fatalf("panic %q lacks the package prefix", r)
				}
			}()
			c.use()
		})
	}
}
