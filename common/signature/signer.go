package signature

import (
	"crypto"
	"fmt"
	"io"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Signer signs messages in a bound context. Implementations sign the digest returned by
// PrepareMessage and must fail (not sign) for an incomplete context.
type Signer interface {
	// Public returns the signer's public key.
	Public() PublicKey
	// Sign signs message in the context bctx.
	Sign(bctx BoundContext, message []byte) (RawSignature, error)
}

// MemorySigner is an Ed25519 signer whose private key is held in memory. It is safe for
// concurrent use until Reset.
type MemorySigner struct {
	private ed25519.PrivateKey
	public  PublicKey
}

var _ Signer = (*MemorySigner)(nil)

// NewSignerFromSeed returns the signer of the private key with the given 32-byte seed. The
// seed is copied.
func NewSignerFromSeed(seed []byte) (*MemorySigner, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("signature: seed is %d bytes, want %d", len(seed), SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	s := &MemorySigner{private: priv}
	copy(s.public[:], priv[SeedSize:])
	return s, nil
}

// GenerateSigner returns a signer with a new private key whose seed is read from rand, which
// must be a cryptographically secure source (crypto/rand.Reader) outside tests.
func GenerateSigner(rand io.Reader) (*MemorySigner, error) {
	var seed [SeedSize]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("signature: reading key seed: %w", err)
	}
	defer clear(seed[:])
	return NewSignerFromSeed(seed[:])
}

// Public returns the signer's public key.
func (s *MemorySigner) Public() PublicKey { return s.public }

// Seed returns a copy of the private key's seed, for storing it in a key file.
func (s *MemorySigner) Seed() []byte {
	if s.private == nil {
		return nil
	}
	return append([]byte(nil), s.private.Seed()...)
}

// Sign signs message in the context bctx.
func (s *MemorySigner) Sign(bctx BoundContext, message []byte) (RawSignature, error) {
	var out RawSignature
	if s.private == nil {
		return out, fmt.Errorf("signature: signer was reset")
	}
	digest, err := PrepareMessage(bctx, message)
	if err != nil {
		return out, err
	}
	// Pure Ed25519 over the 32-byte digest (crypto.Hash(0) selects no pre-hashing).
	sig, err := s.private.Sign(nil, digest[:], crypto.Hash(0))
	if err != nil {
		return out, fmt.Errorf("signature: signing: %w", err)
	}
	copy(out[:], sig)
	return out, nil
}

// Reset wipes the private key from memory; the signer cannot sign afterwards.
func (s *MemorySigner) Reset() {
	clear(s.private)
	s.private = nil
}
