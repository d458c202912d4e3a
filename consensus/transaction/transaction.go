// Package transaction defines consensus transactions: the signed envelope, its strict decoding
// and basic validation, its hash, and the coded errors that reject a transaction.
//
// A transaction is Transaction{nonce, fee{amount, gas}, method, body}, encoded canonically and
// signed as a signature.Signed envelope with the chain-bound context "atoll/consensus: tx". The
// transaction hash is H(raw signed envelope bytes); since decoding accepts only the canonical
// encoding of both the envelope and the transaction, one signed transaction has one hash.
//
// Decode checks everything that needs no state and no signature: size, encoding, method name
// form, body presence. Signatures are checked separately (Decoded.Verify, or a
// signature.BatchVerifier through Decoded.AddToBatch), so the consensus layer can verify each
// transaction once per node. Everything here is pure.
package transaction

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
)

// MaxSize is the hard cap on a signed transaction in bytes; the consensus parameter
// max_tx_bytes may only lower it.
const MaxSize = 1 << 20

// MaxMethodLength bounds a method name ("registry.RegisterNode").
const MaxMethodLength = 64

// SignatureContext is the signing context of transactions. It is chain-bound: sign and verify
// with SignatureContext.ForChain(chainContext).
var SignatureContext = signature.NewContext("atoll/consensus: tx")

// Gas is an amount of gas.
type Gas uint64

// MethodName names a method as "<service>.<Method>", for example "staking.Transfer".
type MethodName string

// Service returns the part of the name before the dot ("staking").
func (m MethodName) Service() string {
	for i := 0; i < len(m); i++ {
		if m[i] == '.' {
			return string(m[:i])
		}
	}
	return ""
}

// Validate checks the form "<service>.<Method>": ASCII letters, digits and underscores, one dot
// with a non-empty part on each side, at most MaxMethodLength bytes.
func (m MethodName) Validate() error {
	if len(m) == 0 || len(m) > MaxMethodLength {
		return fmt.Errorf("method name of %d bytes, want 1..%d", len(m), MaxMethodLength)
	}
	dots := 0
	for i := 0; i < len(m); i++ {
		c := m[i]
		switch {
		case c == '.':
			dots++
			if i == 0 || i == len(m)-1 {
				return fmt.Errorf("method name %q: empty service or method", string(m))
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		default:
			return fmt.Errorf("method name %q: byte 0x%02x not allowed", string(m), c)
		}
	}
	if dots != 1 {
		return fmt.Errorf("method name %q: want exactly one dot", string(m))
	}
	return nil
}

// Fee is what the signer pays for a transaction: Amount is charged in full before the method
// runs, and Gas is the most gas the method may use.
type Fee struct {
	Amount quantity.Quantity `cbor:"amount"`
	Gas    Gas               `cbor:"gas"`
}

// Transaction is the signed content of a consensus transaction.
type Transaction struct {
	// Nonce must equal the signer's account nonce; it then increases by one.
	Nonce uint64 `cbor:"nonce"`
	// Fee is charged whether or not the method succeeds.
	Fee Fee `cbor:"fee"`
	// Method selects the application and its handler.
	Method MethodName `cbor:"method"`
	// Body is the method's argument, canonical CBOR decoded by the owning application.
	Body cbor.RawMessage `cbor:"body,omitempty"`
}

// ValidateBasic checks what needs no state: the method name's form.
func (t *Transaction) ValidateBasic() error {
	if err := t.Method.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedTransaction, err)
	}
	return nil
}

// NewBody returns the canonical encoding of a method body, for building a Transaction.
func NewBody(v any) cbor.RawMessage { return cbor.RawMessage(cbor.Marshal(v)) }

// Sign signs tx for the chain with the given chain context and returns the raw signed
// envelope, ready to submit.
func Sign(signer signature.Signer, chain hash.Hash, tx *Transaction) ([]byte, error) {
	signed, err := signature.SignBlob(signer, SignatureContext.ForChain(chain), tx)
	if err != nil {
		return nil, fmt.Errorf("transaction: signing: %w", err)
	}
	return cbor.Marshal(signed), nil
}
