package staking_test

import (
	"errors"
	"testing"

	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/beacon"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry"
	"github.com/atoll-project/atoll/consensus/scheduler"
	"github.com/atoll-project/atoll/consensus/staking"
	"github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// tb is what env needs of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

type env struct {
	t     tb
	f     *memchain.Fixture
	chain *memchain.Chain
	nonce map[api.Address]uint64
}

func newEnv(t *testing.T, p memchain.FixtureParams) *env {
	t.Helper()
	e := openEnv(t, p)
	t.Cleanup(e.chain.Close)
	return e
}

// openEnv starts a chain and delivers its first block; the caller closes e.chain.
func openEnv(t tb, p memchain.FixtureParams) *env {
	t.Helper()
	f, err := memchain.NewFixture(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := memchain.New(memchain.Config{Genesis: f.Genesis, NewApps: func() []consensus.Application {
		// The stand-in caller takes roothash's place: it sends runtime calls and slashes.
		return []consensus.Application{beacon.New(), staking.New(), registry.New(), scheduler.New(), caller{}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, f: f, chain: c, nonce: make(map[api.Address]uint64)}
	e.deliver() // the first block: genesis state committed, first epoch started
	return e
}

func defaultParams() memchain.FixtureParams {
	return memchain.FixtureParams{Validators: 1, Accounts: 4, Balance: 1_000_000, SelfEscrow: 100_000}
}

// tx signs a transaction with the signer's next nonce.
func (e *env) tx(s signature.Signer, method string, body any) []byte {
	addr := memchain.Address(s)
	n := e.nonce[addr]
	e.nonce[addr] = n + 1
	return e.f.SignTx(s, memchain.Tx{Nonce: n, Gas: 10_000, Method: transaction.MethodName(method), Body: body})
}

func (e *env) deliver(txs ...[]byte) *memchain.BlockResult {
	e.t.Helper()
	res, err := e.chain.Deliver(txs...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.checkSupply()
	return res
}

// run delivers one transaction in a block and returns its error.
func (e *env) run(s signature.Signer, method string, body any) error {
	e.t.Helper()
	return e.deliver(e.tx(s, method, body)).TxErr(0)
}

func (e *env) mustRun(s signature.Signer, method string, body any) {
	e.t.Helper()
	if err := e.run(s, method, body); err != nil {
		e.t.Fatalf("%s: %v", method, err)
	}
}

func (e *env) account(addr api.Address) *api.Account {
	e.t.Helper()
	var a api.Account
	if err := e.chain.Query(api.QueryAccount, &api.OwnerQuery{Owner: addr}, &a, 0); err != nil {
		e.t.Fatal(err)
	}
	return &a
}

func (e *env) balance(addr api.Address) uint64 {
	e.t.Helper()
	return e.account(addr).General.Balance.ToBigInt().Uint64()
}

// checkSupply asserts that the total supply is conserved.
func (e *env) checkSupply() {
	e.t.Helper()
	if err := auditSupply(e.chain); err != nil {
		e.t.Fatal(err)
	}
}

func q(n uint64) quantity.Quantity { return *quantity.NewFromUint64(n) }

func wantCode(t tb, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		m1, c1 := cerrors.Code(err)
		t.Fatalf("error %v (%s/%d), want %v", err, m1, c1, want)
	}
}
