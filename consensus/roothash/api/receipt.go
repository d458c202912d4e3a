package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/mkvs/node"
)

// ReceiptVersion is the format version of ReceiptBody.
const ReceiptVersion uint16 = 1

// ReceiptContext is the signing context of storage receipts, bound to the chain and the
// runtime. It is declared here, below both the storage nodes that sign receipts and roothash,
// which checks them, so that both use the one registered context.
var ReceiptContext = signature.NewContext("atoll/storage: receipt", signature.WithRuntimeSeparation())

// ReceiptBody is what a storage-committee member signs when it has stored roots: the runtime,
// the round and, per root, its type. Commitments carry only the {public_key, signature} pairs;
// the verifier rebuilds the body from the commitment (ResultsReceipt, InputReceipt).
//
// RootTypes, a slice of a byte-sized type, encodes as a CBOR byte string with one byte per
// root type (02 01 for [io, state]); the golden vectors pin it.
type ReceiptBody struct {
	Version   uint16              `cbor:"version"`
	Namespace namespace.Namespace `cbor:"namespace"`
	Round     uint64              `cbor:"round"`
	RootTypes []node.RootType     `cbor:"root_types"`
	Roots     []hash.Hash         `cbor:"roots"`
}

// ResultsReceipt is the body that a commitment's storage_signatures cover: [io, state] =
// [ioRoot, stateRoot] at round.
func ResultsReceipt(ns namespace.Namespace, round uint64, ioRoot, stateRoot hash.Hash) ReceiptBody {
	return ReceiptBody{
		Version:   ReceiptVersion,
		Namespace: ns,
		Round:     round,
		RootTypes: []node.RootType{node.RootTypeIO, node.RootTypeState},
		Roots:     []hash.Hash{ioRoot, stateRoot},
	}
}

// InputReceipt is the body that a commitment's input_storage_sigs cover: [io] = [inputRoot]
// at round (the round being executed).
func InputReceipt(ns namespace.Namespace, round uint64, inputRoot hash.Hash) ReceiptBody {
	return ReceiptBody{
		Version:   ReceiptVersion,
		Namespace: ns,
		Round:     round,
		RootTypes: []node.RootType{node.RootTypeIO},
		Roots:     []hash.Hash{inputRoot},
	}
}

// ValidateBasic checks the version and that every root has a known, distinct type.
func (b *ReceiptBody) ValidateBasic() error {
	if b.Version != ReceiptVersion {
		return fmt.Errorf("%w: receipt version %d, want %d", ErrInvalidReceipt, b.Version, ReceiptVersion)
	}
	if len(b.Roots) == 0 || len(b.Roots) != len(b.RootTypes) {
		return fmt.Errorf("%w: %d roots and %d root types", ErrInvalidReceipt, len(b.Roots), len(b.RootTypes))
	}
	for i, t := range b.RootTypes {
		if !t.Valid() {
			return fmt.Errorf("%w: root type %s", ErrInvalidReceipt, t)
		}
		for _, u := range b.RootTypes[:i] {
			if u == t {
				return fmt.Errorf("%w: root type %s twice", ErrInvalidReceipt, t)
			}
		}
	}
	return nil
}

// BoundReceiptContext returns ReceiptContext bound to the chain and the runtime.
func BoundReceiptContext(chain hash.Hash, runtime namespace.Namespace) signature.BoundContext {
	return ReceiptContext.ForChain(chain).ForRuntime(runtime)
}

// SignReceipt signs body as a storage node of the chain; the runtime binding is the body's
// namespace.
func SignReceipt(signer signature.Signer, chain hash.Hash, body *ReceiptBody) (StorageSignature, error) {
	sig, err := signer.Sign(BoundReceiptContext(chain, body.Namespace), cbor.Marshal(body))
	if err != nil {
		return StorageSignature{}, err
	}
	return StorageSignature{PublicKey: signer.Public(), Signature: sig}, nil
}

// Verify checks the receipt over body on the chain.
func (s *StorageSignature) Verify(chain hash.Hash, body *ReceiptBody) error {
	if err := signature.Verify(s.Key(), BoundReceiptContext(chain, body.Namespace), cbor.Marshal(body), s.Raw()); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidReceipt, err)
	}
	return nil
}

// Key returns the signer's public key.
func (s *StorageSignature) Key() signature.PublicKey { return signature.PublicKey(s.PublicKey) }

// Raw returns the raw signature.
func (s *StorageSignature) Raw() signature.RawSignature { return signature.RawSignature(s.Signature) }
