// Package signature is Atoll's one signature scheme: Ed25519 over a domain-separated digest,
// verified with the ZIP-215 rules (the rules CometBFT uses) on every path, single and batch.
//
// Every signature covers SHA-512/256(context || message), where context is a BoundContext: the
// name of a registered Context, bound to the chain by " for chain " + hex(chain context) (the
// hash of the genesis document, always passed in explicitly), and for runtime-bound contexts
// to a runtime by " for runtime " + hex(runtime ID). Contexts declared WithoutChainSeparation
// (descriptors inside the genesis document) are bound with their name alone.
//
// Public keys and raw signatures are fixed-size arrays: lowercase hex as text, a byte string of
// exactly the right length as CBOR. Signed is the envelope for signed CBOR values; Open
// verifies it and decodes its blob canonically.
//
// The package is pure except keyfile.go, which reads and writes key files.
package signature

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
)

const (
	// PublicKeySize is the length of a PublicKey in bytes.
	PublicKeySize = ed25519.PublicKeySize
	// SignatureSize is the length of a RawSignature in bytes.
	SignatureSize = ed25519.SignatureSize
	// SeedSize is the length of a private key seed in bytes.
	SeedSize = ed25519.SeedSize
)

var (
	// ErrMalformedPublicKey is returned when decoding a public key of the wrong length or hex.
	ErrMalformedPublicKey = errors.New("signature: malformed public key")
	// ErrMalformedSignature is returned when decoding a signature of the wrong length or hex.
	ErrMalformedSignature = errors.New("signature: malformed signature")
	// ErrVerifyFailed is returned when a signature does not verify.
	ErrVerifyFailed = errors.New("signature: verification failed")
	// ErrIncompleteContext is returned when signing or verifying with a BoundContext that is
	// the zero value or still lacks its runtime.
	ErrIncompleteContext = errors.New("signature: incomplete signing context")
)

// verifyOptions selects ZIP-215 verification. It is never modified; every verification in
// this package uses it so that the rule set is never mixed.
var verifyOptions = &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215}

// PublicKey is an Ed25519 public key.
type PublicKey [PublicKeySize]byte

// String returns the lowercase hex form.
func (pk PublicKey) String() string { return hex.EncodeToString(pk[:]) }

// MarshalText returns the lowercase hex form.
func (pk PublicKey) MarshalText() ([]byte, error) { return []byte(pk.String()), nil }

// UnmarshalText parses a hex form of exactly PublicKeySize bytes.
func (pk *PublicKey) UnmarshalText(text []byte) error {
	return unhexFixed(pk[:], text, ErrMalformedPublicKey)
}

// MarshalBinary returns the raw bytes.
func (pk PublicKey) MarshalBinary() ([]byte, error) { return append([]byte(nil), pk[:]...), nil }

// UnmarshalBinary accepts exactly PublicKeySize bytes. It does not check that they encode a
// curve point: verification rejects keys that do not.
func (pk *PublicKey) UnmarshalBinary(data []byte) error {
	return copyFixed(pk[:], data, ErrMalformedPublicKey)
}

// UnmarshalCBOR accepts only a CBOR byte string of exactly PublicKeySize bytes.
func (pk *PublicKey) UnmarshalCBOR(data []byte) error {
	return unmarshalCBORFixed(pk[:], data, ErrMalformedPublicKey)
}

// RawSignature is an Ed25519 signature (R || S).
type RawSignature [SignatureSize]byte

// String returns the lowercase hex form.
func (s RawSignature) String() string { return hex.EncodeToString(s[:]) }

// MarshalText returns the lowercase hex form.
func (s RawSignature) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a hex form of exactly SignatureSize bytes.
func (s *RawSignature) UnmarshalText(text []byte) error {
	return unhexFixed(s[:], text, ErrMalformedSignature)
}

// MarshalBinary returns the raw bytes.
func (s RawSignature) MarshalBinary() ([]byte, error) { return append([]byte(nil), s[:]...), nil }

// UnmarshalBinary accepts exactly SignatureSize bytes.
func (s *RawSignature) UnmarshalBinary(data []byte) error {
	return copyFixed(s[:], data, ErrMalformedSignature)
}

// UnmarshalCBOR accepts only a CBOR byte string of exactly SignatureSize bytes.
func (s *RawSignature) UnmarshalCBOR(data []byte) error {
	return unmarshalCBORFixed(s[:], data, ErrMalformedSignature)
}

// unmarshalCBORFixed decodes a byte string into dst. Without it the CBOR decoder would also
// fill a byte array from a CBOR array of integers and skip null and undefined.
func unmarshalCBORFixed(dst, data []byte, sentinel error) error {
	b, err := cbor.ByteString(data)
	if err != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return copyFixed(dst, b, sentinel)
}

func unhexFixed(dst, text []byte, sentinel error) error {
	if len(text) != 2*len(dst) {
		return fmt.Errorf("%w: %d hex characters, want %d", sentinel, len(text), 2*len(dst))
	}
	var buf [SignatureSize]byte
	if _, err := hex.Decode(buf[:len(dst)], text); err != nil {
		return fmt.Errorf("%w: %v", sentinel, err)
	}
	copy(dst, buf[:len(dst)])
	return nil
}

func copyFixed(dst, data []byte, sentinel error) error {
	if len(data) != len(dst) {
		return fmt.Errorf("%w: %d bytes, want %d", sentinel, len(data), len(dst))
	}
	copy(dst, data)
	return nil
}

// Signature is a public key and its signature over some message in some context.
type Signature struct {
	PublicKey PublicKey    `json:"public_key" cbor:"public_key"`
	Signature RawSignature `json:"signature" cbor:"signature"`
}

// Verify checks the signature over message in the context bctx.
func (s *Signature) Verify(bctx BoundContext, message []byte) error {
	return Verify(s.PublicKey, bctx, message, s.Signature)
}

// PrepareMessage returns the 32-byte digest that Ed25519 signs for message in the context bctx:
// SHA-512/256(context || message). Implementations of Signer outside this package (remote
// signers, hardware) sign exactly this digest.
func PrepareMessage(bctx BoundContext, message []byte) (hash.Hash, error) {
	if err := bctx.check(); err != nil {
		return hash.Hash{}, err
	}
	return hash.Digest([]byte(bctx.value), message), nil
}

// Sign signs message in the context bctx with signer and returns the signature with the
// signer's public key.
func Sign(signer Signer, bctx BoundContext, message []byte) (*Signature, error) {
	raw, err := signer.Sign(bctx, message)
	if err != nil {
		return nil, err
	}
	return &Signature{PublicKey: signer.Public(), Signature: raw}, nil
}

// Verify checks sig by pk over message in the context bctx with the ZIP-215 rules. It returns
// nil on success, an error wrapping ErrVerifyFailed for a bad signature, and one wrapping
// ErrIncompleteContext when bctx cannot be used.
func Verify(pk PublicKey, bctx BoundContext, message []byte, sig RawSignature) error {
	digest, err := PrepareMessage(bctx, message)
	if err != nil {
		return err
	}
	if !ed25519.VerifyWithOptions(pk[:], digest[:], sig[:], verifyOptions) {
		return fmt.Errorf("%w: key %s, context %q", ErrVerifyFailed, pk, bctx.value)
	}
	return nil
}
