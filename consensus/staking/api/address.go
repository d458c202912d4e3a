// Package api defines the staking service's types: addresses, accounts, methods, errors and
// events. It is pure and imports no consensus engine or storage.
package api

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
)

// AddressSize is the length of an Address in bytes: a kind byte and 20 bytes of hash.
const AddressSize = 21

const (
	// AddressKindAccount marks an address derived from a public key.
	AddressKindAccount byte = 0x00
	// AddressKindRuntime marks a runtime's account, for which no key can sign.
	AddressKindRuntime byte = 0x01
)

var (
	contextAccountAddress = []byte("atoll/address: staking")
	contextRuntimeAddress = []byte("atoll/address: runtime")

	// ErrMalformedAddress is returned when decoding an address of the wrong length, kind or hex.
	ErrMalformedAddress = errors.New("staking: malformed address")
)

// Address identifies a staking account.
type Address [AddressSize]byte

// NewAddress returns the account address of a 32-byte public key:
// 0x00 || first 20 bytes of H("atoll/address: staking" || public key).
func NewAddress(publicKey [32]byte) Address {
	return derive(AddressKindAccount, contextAccountAddress, publicKey[:])
}

// NewRuntimeAddress returns the address of a runtime's account:
// 0x01 || first 20 bytes of H("atoll/address: runtime" || runtime ID).
func NewRuntimeAddress(id namespace.Namespace) Address {
	return derive(AddressKindRuntime, contextRuntimeAddress, id[:])
}

func derive(kind byte, context, data []byte) Address {
	h := hash.Digest(context, data)
	var a Address
	a[0] = kind
	copy(a[1:], h[:AddressSize-1])
	return a
}

// Kind returns the address kind byte.
func (a Address) Kind() byte { return a[0] }

// IsRuntime reports whether a is a runtime's account.
func (a Address) IsRuntime() bool { return a[0] == AddressKindRuntime }

// String returns the lowercase hex form.
func (a Address) String() string { return hex.EncodeToString(a[:]) }

// MarshalText returns the lowercase hex form.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses the hex form.
func (a *Address) UnmarshalText(text []byte) error {
	if len(text) != 2*AddressSize {
		return fmt.Errorf("%w: %d hex characters, want %d", ErrMalformedAddress, len(text), 2*AddressSize)
	}
	var b [AddressSize]byte
	if _, err := hex.Decode(b[:], text); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedAddress, err)
	}
	return a.UnmarshalBinary(b[:])
}

// MarshalBinary returns the raw bytes.
func (a Address) MarshalBinary() ([]byte, error) { return append([]byte(nil), a[:]...), nil }

// UnmarshalBinary accepts exactly AddressSize bytes with a known kind.
func (a *Address) UnmarshalBinary(data []byte) error {
	if len(data) != AddressSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrMalformedAddress, len(data), AddressSize)
	}
	if data[0] != AddressKindAccount && data[0] != AddressKindRuntime {
		return fmt.Errorf("%w: unknown kind 0x%02x", ErrMalformedAddress, data[0])
	}
	copy(a[:], data)
	return nil
}

// UnmarshalCBOR accepts only a byte string of exactly AddressSize bytes with a known kind (the
// decoder would otherwise also fill the array from a CBOR array of integers, or skip null).
func (a *Address) UnmarshalCBOR(data []byte) error {
	b, err := cbor.ByteString(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedAddress, err)
	}
	return a.UnmarshalBinary(b)
}
