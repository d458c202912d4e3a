package signature

import (
	"io"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// BatchVerifier verifies many signatures at once with the ZIP-215 rules, which make batch and
// single verification agree on every input. It is not safe for concurrent use.
type BatchVerifier struct {
	batch *ed25519.BatchVerifier
	// index maps each entry added to its position in batch, or -1 when the entry was known
	// invalid when added (an incomplete context).
	index []int
	// inBatch counts the entries passed on to batch.
	inBatch int
}

// NewBatchVerifier returns an empty batch sized for about capacity entries.
func NewBatchVerifier(capacity int) *BatchVerifier {
	return &BatchVerifier{
		batch: ed25519.NewBatchVerifierWithCapacity(capacity),
		index: make([]int, 0, capacity),
	}
}

// Len returns the number of entries added.
func (b *BatchVerifier) Len() int { return len(b.index) }

// Add adds the signature sig by pk over message in the context bctx. An entry with an
// incomplete context is kept as invalid.
func (b *BatchVerifier) Add(pk PublicKey, bctx BoundContext, message []byte, sig RawSignature) {
	digest, err := PrepareMessage(bctx, message)
	if err != nil {
		b.index = append(b.index, -1)
		return
	}
	b.index = append(b.index, b.inBatch)
	b.inBatch++
	// The batch decodes the key and signature and hashes the message here; it keeps no
	// reference to these slices.
	b.batch.AddWithOptions(pk[:], digest[:], sig[:], verifyOptions)
}

// AddSignature adds sig over message in the context bctx.
func (b *BatchVerifier) AddSignature(bctx BoundContext, message []byte, sig *Signature) {
	b.Add(sig.PublicKey, bctx, message, sig.Signature)
}

// AddSigned adds the envelope s in the context bctx.
func (b *BatchVerifier) AddSigned(bctx BoundContext, s *Signed) {
	b.AddSignature(bctx, s.Blob, &s.Signature)
}

// Verify checks every entry added. It returns whether all are valid and, per entry in the
// order added, whether it is. When the batch as a whole fails, each entry is verified alone to
// find the bad ones. An empty batch is valid.
//
// rand supplies the batch's random coefficients and must be unpredictable to whoever chose the
// signatures: pass nil for crypto/rand.Reader, which is what production code should do.
func (b *BatchVerifier) Verify(rand io.Reader) (bool, []bool) {
	valid := make([]bool, len(b.index))
	if len(b.index) == 0 {
		return true, valid
	}
	allValid := true
	var inner []bool
	if b.inBatch > 0 {
		var ok bool
		ok, inner = b.batch.Verify(rand)
		allValid = ok
	}
	for i, j := range b.index {
		if j < 0 {
			allValid = false
			continue
		}
		valid[i] = inner[j]
	}
	return allValid, valid
}

// Reset empties the batch for reuse.
func (b *BatchVerifier) Reset() {
	b.batch.Reset()
	b.index = b.index[:0]
	b.inBatch = 0
}
