// Package namespace defines the 32-byte runtime identifier.
//
// Its text form is lowercase hex; its CBOR form is a 32-byte byte string.
package namespace

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
)

// Size is the length of a Namespace in bytes.
const Size = 32

// ErrMalformed is returned when decoding a namespace of the wrong length or bad hex.
var ErrMalformed = errors.New("namespace: malformed runtime ID")

// Namespace identifies a runtime (and the MKVS trees that belong to it).
type Namespace [Size]byte

// String returns the lowercase hex form.
func (n Namespace) String() string { return hex.EncodeToString(n[:]) }

// IsZero reports whether n is all zero bytes.
func (n Namespace) IsZero() bool { return n == Namespace{} }

// MarshalText returns the lowercase hex form.
func (n Namespace) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalText parses a hex form of exactly Size bytes.
func (n *Namespace) UnmarshalText(text []byte) error {
	if len(text) != 2*Size {
		return fmt.Errorf("%w: %d hex characters, want %d", ErrMalformed, len(text), 2*Size)
	}
	if _, err := hex.Decode(n[:], text); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// MarshalBinary returns the raw bytes.
func (n Namespace) MarshalBinary() ([]byte, error) { return append([]byte(nil), n[:]...), nil }

// UnmarshalBinary accepts exactly Size raw bytes.
func (n *Namespace) UnmarshalBinary(data []byte) error {
	if len(data) != Size {
		return fmt.Errorf("%w: %d bytes, want %d", ErrMalformed, len(data), Size)
	}
	copy(n[:], data)
	return nil
}

// UnmarshalCBOR accepts only a CBOR byte string of exactly Size bytes (not an array of
// integers, null or undefined, which the decoder would otherwise take for a byte array).
func (n *Namespace) UnmarshalCBOR(data []byte) error {
	b, err := cbor.ByteString(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return n.UnmarshalBinary(b)
}

// FromHex parses the hex form of a namespace.
func FromHex(s string) (Namespace, error) {
	var n Namespace
	err := n.UnmarshalText([]byte(s))
	return n, err
}
