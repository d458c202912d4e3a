package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/namespace"
)

func mustKey(t *testing.T, s string) [32]byte {
	t.Helper()
	var k [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad test key %q", s)
	}
	copy(k[:], b)
	return k
}

// The vectors were computed with crypto/sha512 alone:
// kind || SHA-512/256(context || key)[:20].
func TestAddressesMatchTheGoldenVectors(t *testing.T) {
	cases := []struct {
		name string
		got  Address
		want string
	}{
		{
			"the account of the public key of seed 00..1f",
			NewAddress(mustKey(t, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")),
			"0033d3457d01c26d96bafb1ac5870215469cd0e133",
		},
		{
			"the account of runtime 80ff..ff",
			NewRuntimeAddress(namespace.Namespace(mustKey(t, "80"+strings.Repeat("ff", 31)))),
			"0143d9a472081ca6de71b3a46a4e857bb4b1fb54b4",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got.String() != c.want {
				t.Fatalf("address %s, want %s", c.got, c.want)
			}
		})
	}
}

func TestAccountAndRuntimeAddressesNeverCollide(t *testing.T) {
	var b [32]byte
	acct, rt := NewAddress(b), NewRuntimeAddress(namespace.Namespace(b))
	if acct == rt {
		t.Fatal("same bytes give the same account and runtime address")
	}
	if acct.Kind() != AddressKindAccount || acct.IsRuntime() {
		t.Fatalf("account address has kind %#x", acct.Kind())
	}
	if rt.Kind() != AddressKindRuntime || !rt.IsRuntime() {
		t.Fatalf("runtime address has kind %#x", rt.Kind())
	}
	if bytes.Equal(acct[1:], rt[1:]) {
		t.Fatal("the hash parts are equal: the contexts do not separate them")
	}
}

func TestAddressEncodingsRoundTrip(t *testing.T) {
	a := NewAddress(mustKey(t, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"))
	var back Address
	if err := back.UnmarshalText([]byte(a.String())); err != nil || back != a {
		t.Fatalf("text round trip: %v", err)
	}
	enc := cbor.Marshal(a)
	if hex.EncodeToString(enc) != "55"+a.String() {
		t.Fatalf("CBOR form %x is not a 21-byte byte string", enc)
	}
	back = Address{}
	if err := cbor.UnmarshalCanonical(enc, &back); err != nil || back != a {
		t.Fatalf("CBOR round trip: %v", err)
	}
	data, err := json.Marshal(map[string]Address{"to": a})
	if err != nil || string(data) != `{"to":"`+a.String()+`"}` {
		t.Fatalf("JSON %s, %v", data, err)
	}
}

func TestMalformedAddressesAreRejected(t *testing.T) {
	good := NewAddress([32]byte{}).String()
	cases := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"too short", good[:40]},
		{"too long", good + "00"},
		{"not hex", "zz" + good[2:]},
		{"an unknown kind", "02" + good[2:]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a Address
			if err := a.UnmarshalText([]byte(c.text)); !errors.Is(err, ErrMalformedAddress) {
				t.Fatalf("UnmarshalText(%q): %v", c.text, err)
			}
			raw, _ := hex.DecodeString(c.text)
			if err := cbor.Unmarshal(cbor.Marshal(append([]byte{}, raw...)), &a); !errors.Is(err, ErrMalformedAddress) {
				t.Fatalf("CBOR of %x: %v", raw, err)
			}
		})
	}
}
