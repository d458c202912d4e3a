package signature

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
)

// Signed is a signed CBOR blob: the envelope of transactions and descriptors. The signature
// covers the blob's raw bytes, which must be the canonical encoding of the value inside.
type Signed struct {
	Blob      []byte    `json:"blob" cbor:"blob"`
	Signature Signature `json:"signature" cbor:"signature"`
}

// SignBlob encodes v canonically and signs the encoding in the context bctx.
func SignBlob(signer Signer, bctx BoundContext, v any) (*Signed, error) {
	blob := cbor.Marshal(v)
	sig, err := Sign(signer, bctx, blob)
	if err != nil {
		return nil, err
	}
	return &Signed{Blob: blob, Signature: *sig}, nil
}

// Verify checks the envelope's signature over its blob in the context bctx.
func (s *Signed) Verify(bctx BoundContext) error {
	return s.Signature.Verify(bctx, s.Blob)
}

// Open verifies the envelope in the context bctx and then decodes its blob into dst, strictly
// and canonically: a blob that is not the canonical encoding of the decoded value is rejected
// even when its signature is good. dst is not touched when the signature is bad.
func (s *Signed) Open(bctx BoundContext, dst any) error {
	if err := s.Verify(bctx); err != nil {
		return err
	}
	if err := cbor.UnmarshalCanonical(s.Blob, dst); err != nil {
		return fmt.Errorf("signature: opening signed blob: %w", err)
	}
	return nil
}
