package registry_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// FuzzRegistryTransactionBodies sends arbitrary bodies for every registry method through the
// real application (CheckTx on a memchain with a registered entity and runtime): whatever the
// bytes, the transaction is accepted or rejected with a coded error, never a panic or a state
// failure.
func FuzzRegistryTransactionBodies(f *testing.F) {
	h := newHarness(f, registryWithRuntime(nil))
	if _, err := h.c.Deliver(); err != nil {
		f.Fatal(err)
	}
	e := entitySigner(0)
	rt := memchain.TestRuntime(0, e.Public(), 0)
	entity, _ := api.SignEntity(e, api.RegisterEntitySignatureContext.ForChain(h.f.ChainContext), &api.Entity{ID: e.Public()})
	n := workers(e.Public(), rt, 0, 2)[0]
	signedNode, _ := node.Sign(memchain.TestNodeSigner(0), node.RegisterSignatureContext.ForChain(h.f.ChainContext), n)
	f.Add(uint8(0), cbor.Marshal(entity))
	f.Add(uint8(1), cbor.Marshal(api.DeregisterEntity{}))
	f.Add(uint8(2), cbor.Marshal(signedNode))
	f.Add(uint8(3), cbor.Marshal(rt))
	f.Add(uint8(3), []byte{0xa0})
	f.Add(uint8(2), []byte{0xf6})
	var nonce uint64
	f.Fuzz(func(t *testing.T, method uint8, body []byte) {
		if cbor.Valid(body) != nil {
			return
		}
		tx := &transaction.Transaction{
			Nonce:  nonce,
			Fee:    transaction.Fee{Amount: quantity.Quantity{}, Gas: 1_000_000},
			Method: api.Methods[int(method)%len(api.Methods)],
			Body:   cbor.RawMessage(body),
		}
		raw, err := transaction.Sign(signature.Signer(e), h.f.ChainContext, tx)
		if err != nil {
			return
		}
		err = h.c.CheckTx(raw)
		if consensus.IsStateError(err) {
			t.Fatalf("a body halted the node: %v", err)
		}
		if err == nil {
			nonce++
		}
	})
}
