package transaction

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
)

// Decoded is a transaction decoded from its raw envelope and basically valid, its signature
// not yet checked. It is immutable after Decode and safe to share between goroutines.
type Decoded struct {
	// Hash is H(raw envelope bytes).
	Hash hash.Hash
	// Tx is the transaction inside the envelope.
	Tx Transaction
	// Signed is the envelope; Signed.Signature.PublicKey is the (claimed) signer.
	Signed signature.Signed
}

// Signer returns the public key the envelope claims signed it; trust it only after Verify.
func (d *Decoded) Signer() signature.PublicKey { return d.Signed.Signature.PublicKey }

// Decode strictly decodes a raw signed transaction: at most MaxSize bytes, a canonical
// envelope around a canonical Transaction that passes ValidateBasic. Every failure wraps
// ErrMalformedTransaction or ErrTooLarge.
func Decode(raw []byte) (*Decoded, error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxSize)
	}
	d := &Decoded{Hash: hash.Digest(raw)}
	if err := cbor.UnmarshalCanonical(raw, &d.Signed); err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", ErrMalformedTransaction, err)
	}
	if err := cbor.UnmarshalCanonical(d.Signed.Blob, &d.Tx); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedTransaction, err)
	}
	if err := d.Tx.ValidateBasic(); err != nil {
		return nil, err
	}
	return d, nil
}

// Verify checks the envelope's signature in the bound context bctx (SignatureContext bound to
// the chain). A failure wraps ErrInvalidSignature.
func (d *Decoded) Verify(bctx signature.BoundContext) error {
	if err := d.Signed.Verify(bctx); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	return nil
}

// AddToBatch adds the envelope's signature to a batch verifier; a false verdict for it means
// the same as a Verify failure.
func (d *Decoded) AddToBatch(bv *signature.BatchVerifier, bctx signature.BoundContext) {
	bv.AddSigned(bctx, &d.Signed)
}
