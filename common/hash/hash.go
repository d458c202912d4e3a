// Package hash is Atoll's one hash function, SHA-512/256, and its 32-byte Hash type.
//
// A Hash's text form is lowercase hex; its CBOR form is a 32-byte byte string.
package hash

import (
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
)

// Size is the length of a Hash in bytes.
const Size = 32

// ErrMalformed is returned when decoding a hash of the wrong length or bad hex.
var ErrMalformed = errors.New("hash: malformed hash")

// Hash is a SHA-512/256 digest.
type Hash [Size]byte

// Empty is H(""), the hash of no bytes: the hash of an empty MKVS tree, of an absent child, and
// of an empty message list.
var Empty = Digest()

// Digest returns SHA-512/256 over the concatenation of parts.
func Digest(parts ...[]byte) Hash {
	h := sha512.New512_256()
	for _, p := range parts {
		h.Write(p)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// DigestCBOR returns the hash of the canonical CBOR encoding of v.
func DigestCBOR(v any) Hash {
	return Digest(cbor.Marshal(v))
}

// IsEmpty reports whether h is the hash of no bytes.
func (h Hash) IsEmpty() bool { return h == Empty }

// IsZero reports whether h is all zero bytes (an unset hash, not H("")).
func (h Hash) IsZero() bool { return h == Hash{} }

// String returns the lowercase hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText returns the lowercase hex form.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, 2*Size)
	hex.Encode(out, h[:])
	return out, nil
}

// UnmarshalText parses a hex form of exactly Size bytes.
func (h *Hash) UnmarshalText(text []byte) error {
	if len(text) != 2*Size {
		return fmt.Errorf("%w: %d hex characters, want %d", ErrMalformed, len(text), 2*Size)
	}
	if _, err := hex.Decode(h[:], text); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// MarshalBinary returns the raw bytes.
func (h Hash) MarshalBinary() ([]byte, error) {
	return append([]byte(nil), h[:]...), nil
}

// UnmarshalBinary accepts exactly Size raw bytes.
func (h *Hash) UnmarshalBinary(data []byte) error {
	if len(data) != Size {
		return fmt.Errorf("%w: %d bytes, want %d", ErrMalformed, len(data), Size)
	}
	copy(h[:], data)
	return nil
}

// UnmarshalCBOR accepts only a CBOR byte string of exactly Size bytes (not an array of
// integers, null or undefined, which the decoder would otherwise take for a byte array).
func (h *Hash) UnmarshalCBOR(data []byte) error {
	b, err := cbor.ByteString(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h.UnmarshalBinary(b)
}

// FromHex parses a hex form of a hash.
func FromHex(s string) (Hash, error) {
	var h Hash
	err := h.UnmarshalText([]byte(s))
	return h, err
}

// FromBytes returns the hash whose raw bytes are b, which must be Size long.
func FromBytes(b []byte) (Hash, error) {
	var h Hash
	err := h.UnmarshalBinary(b)
	return h, err
}
