package memchain

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/apps"
	"github.com/atoll-project/atoll/consensus/genesis"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// FixtureParams describe a test chain for NewFixture.
type FixtureParams struct {
	Validators int
	Accounts   int
	// Balance is each funded account's (and entity's) general balance.
	Balance uint64
	// SelfEscrow is each validator entity's escrow with itself.
	SelfEscrow uint64
	// EpochInterval defaults to 10 blocks.
	EpochInterval int64
	// Tweak, when set, adjusts the genesis document before its sanity check.
	Tweak func(*genesis.Document)
}

// FixtureValidator holds a validator's keys.
type FixtureValidator struct {
	Entity    *signature.MemorySigner
	Consensus *signature.MemorySigner
}

// Fixture is a genesis document with the keys of its validators and accounts. Keys are
// derived from fixed seeds: they are for tests only.
type Fixture struct {
	Genesis *genesis.Document
	// ChainContext is Genesis.ChainContext(), computed once.
	ChainContext hash.Hash
	Validators   []FixtureValidator
	Accounts     []*signature.MemorySigner
}

// TestSigner returns the test key number i of a kind ("account", "entity", "consensus"):
// deterministic and public, never for real use.
func TestSigner(kind string, i int) *signature.MemorySigner {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(i))
	seed := hash.Digest([]byte("atoll/memchain: test key "+kind), n[:])
	s, err := signature.NewSignerFromSeed(seed[:])
	if err != nil {
		panic(err)
	}
	return s
}

// NewFixture builds a sanity-checked genesis document (DevDocument, then Tweak).
func NewFixture(p FixtureParams) (*Fixture, error) {
	if p.EpochInterval == 0 {
		p.EpochInterval = 10
	}
	f := &Fixture{}
	dp := genesis.DevParams{
		ChainID: "memchain", GenesisTime: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Balance: p.Balance, SelfEscrow: p.SelfEscrow, EpochInterval: p.EpochInterval,
	}
	for i := 0; i < p.Validators; i++ {
		v := FixtureValidator{Entity: TestSigner("entity", i), Consensus: TestSigner("consensus", i)}
		f.Validators = append(f.Validators, v)
		dp.Validators = append(dp.Validators, genesis.DevValidator{EntityID: v.Entity.Public(), ConsensusKey: v.Consensus.Public()})
	}
	for i := 0; i < p.Accounts; i++ {
		s := TestSigner("account", i)
		f.Accounts = append(f.Accounts, s)
		dp.Accounts = append(dp.Accounts, stakingapi.NewAddress(s.Public()))
	}
	doc, err := genesis.DevDocument(dp)
	if err != nil {
		return nil, err
	}
	if p.Tweak != nil {
		p.Tweak(doc)
		if err := doc.SanityCheck(); err != nil {
			return nil, fmt.Errorf("memchain: tweaked genesis: %w", err)
		}
	}
	f.Genesis = doc
	f.ChainContext = doc.ChainContext()
	return f, nil
}

// DefaultApps returns every consensus application, exactly the set a node runs (apps.All).
func DefaultApps() []consensus.Application {
	return apps.All()
}

// NewChain starts a chain from the fixture's genesis with DefaultApps.
func (f *Fixture) NewChain() (*Chain, error) {
	return New(Config{Genesis: f.Genesis, NewApps: DefaultApps})
}

// Tx is what SignTx needs to build a transaction.
type Tx struct {
	Nonce  uint64
	Fee    uint64
	Gas    transaction.Gas
	Method transaction.MethodName
	Body   any
}

// SignTx signs a transaction for the fixture's chain and returns the raw envelope.
func (f *Fixture) SignTx(signer signature.Signer, t Tx) []byte {
	tx := &transaction.Transaction{
		Nonce:  t.Nonce,
		Fee:    transaction.Fee{Amount: *quantity.NewFromUint64(t.Fee), Gas: t.Gas},
		Method: t.Method,
	}
	if t.Body != nil {
		tx.Body = transaction.NewBody(t.Body)
	}
	raw, err := transaction.Sign(signer, f.ChainContext, tx)
	if err != nil {
		panic(err)
	}
	return raw
}

// Address returns the staking address of a signer.
func Address(s signature.Signer) stakingapi.Address { return stakingapi.NewAddress(s.Public()) }
