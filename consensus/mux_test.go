package consensus_test

import (
	"context"
	"errors"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

func newChain(t testing.TB, p memchain.FixtureParams) (*memchain.Fixture, *memchain.Chain) {
	t.Helper()
	f, err := memchain.NewFixture(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.NewChain()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if _, err := c.Deliver(); err != nil {
		t.Fatal(err)
	}
	return f, c
}

func params() memchain.FixtureParams {
	return memchain.FixtureParams{Validators: 1, Accounts: 3, Balance: 1_000_000, SelfEscrow: 1000}
}

func transfer(f *memchain.Fixture, s signature.Signer, nonce uint64, to staking.Address, amount, fee uint64) []byte {
	return f.SignTx(s, memchain.Tx{Nonce: nonce, Fee: fee, Gas: 1000, Method: staking.MethodTransfer,
		Body: &staking.Transfer{To: to, Amount: *quantity.NewFromUint64(amount)}})
}

func account(t *testing.T, c *memchain.Chain, addr staking.Address, height int64) *staking.Account {
	t.Helper()
	var a staking.Account
	if err := c.Query(staking.QueryAccount, &staking.OwnerQuery{Owner: addr}, &a, height); err != nil {
		t.Fatal(err)
	}
	return &a
}

func balance(t *testing.T, c *memchain.Chain, addr staking.Address) uint64 {
	t.Helper()
	return account(t, c, addr, 0).General.Balance.ToBigInt().Uint64()
}

func wantErr(t *testing.T, got, want error) {
	t.Helper()
	if (want == nil) != (got == nil) || (want != nil && !errors.Is(got, want)) {
		m, c := cerrors.Code(got)
		t.Fatalf("got %v (%s/%d), want %v", got, m, c, want)
	}
}

func TestAReplayedNonceIsRejectedInCheckTxAndInABlock(t *testing.T) {
	f, c := newChain(t, params())
	a, b := f.Accounts[0], memchain.Address(f.Accounts[1])
	first := transfer(f, a, 0, b, 10, 0)
	res, err := c.Deliver(first)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res.TxErr(0), nil)
	replay := transfer(f, a, 0, b, 11, 0)
	wantErr(t, c.CheckTx(first), transaction.ErrInvalidNonce)
	wantErr(t, c.CheckTx(replay), transaction.ErrInvalidNonce)
	res, err = c.Deliver(first)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res.TxErr(0), transaction.ErrInvalidNonce)
	wantErr(t, c.CheckTx(transfer(f, a, 2, b, 1, 0)), transaction.ErrInvalidNonce)
}

func TestTheFeeAndNonceAreSpentWhenTheMethodFails(t *testing.T) {
	f, c := newChain(t, memchain.FixtureParams{Validators: 1, Accounts: 2, Balance: 1_000_000, Tweak: func(d *genesis.Document) {
		d.Staking.Params.MinGasPrice = *quantity.NewFromUint64(2)
	}})
	a := f.Accounts[0]
	addrA := memchain.Address(a)
	failing := transfer(f, a, 0, memchain.Address(f.Accounts[1]), 5_000_000, 2000)
	wantErr(t, c.CheckTx(failing), staking.ErrInsufficientBalance) // CheckTx rejects it whole
	res, err := c.Deliver(failing)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res.TxErr(0), staking.ErrInsufficientBalance)
	acct := account(t, c, addrA, 0)
	if acct.General.Nonce != 1 || acct.General.Balance.ToBigInt().Uint64() != 998_000 {
		t.Fatalf("account after a failed method: nonce %d balance %s, want 1 and 998000", acct.General.Nonce, &acct.General.Balance)
	}
	if res.TxResults[0].GasUsed != 1000 || res.TxResults[0].GasWanted != 1000 {
		t.Fatalf("gas used %d wanted %d", res.TxResults[0].GasUsed, res.TxResults[0].GasWanted)
	}
	for _, tc := range []struct {
		name string
		tx   []byte
		want error
	}{
		{"a fee below gas × min_gas_price is rejected", transfer(f, a, 1, addrA, 1, 1999), transaction.ErrGasPriceTooLow},
		{"a fee above the balance is rejected", transfer(f, a, 1, addrA, 1, 999_999_999), transaction.ErrInsufficientFeeBalance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, c.CheckTx(tc.tx), tc.want)
			res, err := c.Deliver(tc.tx)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, res.TxErr(0), tc.want)
			if n := account(t, c, addrA, 0).General.Nonce; n != 1 {
				t.Fatalf("a rejected transaction moved the nonce to %d", n)
			}
		})
	}
}

func TestFeesArePaidToTheStakingAccountOfTheProposersEntity(t *testing.T) {
	f, c := newChain(t, memchain.FixtureParams{Validators: 3, Accounts: 1, Balance: 1_000_000})
	a := f.Accounts[0]
	for nonce := uint64(0); nonce < 3; nonce++ {
		height := c.NextHeight()
		entity := memchain.Address(f.Validators[c.ProposerAt(height)].Entity)
		before := balance(t, c, entity)
		res, err := c.Deliver(transfer(f, a, nonce, memchain.Address(a), 1, 100+nonce), transfer(f, a, nonce+100, memchain.Address(a), 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, res.TxErr(1), transaction.ErrInvalidNonce)
		if got := balance(t, c, entity); got != before+100+nonce {
			t.Fatalf("height %d: proposer entity got %d, want %d", height, got-before, 100+nonce)
		}
		var supply staking.Supply
		if err := c.Query(staking.QuerySupply, nil, &supply, 0); err != nil {
			t.Fatal(err)
		}
		if supply.LastBlockFees.ToBigInt().Uint64() != 100+nonce {
			t.Fatalf("last block fees %s", &supply.LastBlockFees)
		}
	}
}

func TestTheBlockGasLimitIsEnforcedInPrepareAndProcessProposal(t *testing.T) {
	f, c := newChain(t, memchain.FixtureParams{Validators: 1, Accounts: 1, Balance: 1_000_000, Tweak: func(d *genesis.Document) {
		d.Consensus.MaxBlockGas = 2500 // two transfers of 1000 gas
	}})
	a := f.Accounts[0]
	var txs [][]byte
	for n := uint64(0); n < 3; n++ {
		txs = append(txs, transfer(f, a, n, memchain.Address(a), 1, 0))
	}
	ctx := context.Background()
	prep, err := c.Mux().PrepareProposal(ctx, &abci.RequestPrepareProposal{MaxTxBytes: 1 << 20, Txs: append([][]byte{[]byte("garbage")}, txs...)})
	if err != nil {
		t.Fatal(err)
	}
	if len(prep.Txs) != 2 || string(prep.Txs[0]) != string(txs[0]) || string(prep.Txs[1]) != string(txs[1]) {
		t.Fatalf("prepared %d transactions, want the first two valid ones", len(prep.Txs))
	}
	prep, err = c.Mux().PrepareProposal(ctx, &abci.RequestPrepareProposal{MaxTxBytes: int64(len(txs[0]) + 1), Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	if len(prep.Txs) != 1 {
		t.Fatalf("prepared %d transactions within one transaction's bytes", len(prep.Txs))
	}
	for _, tc := range []struct {
		name string
		txs  [][]byte
		want abci.ResponseProcessProposal_ProposalStatus
	}{
		{"a block within the gas limit is accepted", txs[:2], abci.ResponseProcessProposal_ACCEPT},
		{"an empty block is accepted", nil, abci.ResponseProcessProposal_ACCEPT},
		{"a block over the gas limit is rejected", txs, abci.ResponseProcessProposal_REJECT},
		{"a block with an undecodable transaction is rejected", [][]byte{txs[0], {0xa0}}, abci.ResponseProcessProposal_REJECT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Mux().ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: tc.txs})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.want {
				t.Fatalf("status %s, want %s", resp.Status, tc.want)
			}
		})
	}
	wantErr(t, c.CheckTx(f.SignTx(a, memchain.Tx{Nonce: 0, Gas: 2501, Method: staking.MethodTransfer, Body: &staking.Transfer{}})), transaction.ErrGasLimitTooHigh)
}

func TestManyPendingTransactionsFromOneAccountAllLandInNonceOrder(t *testing.T) {
	f, c := newChain(t, memchain.FixtureParams{Validators: 1, Accounts: 2, Balance: 1_000_000, Tweak: func(d *genesis.Document) {
		d.Consensus.MaxBlockGas = 7000 // seven transfers per block
	}})
	a, b := f.Accounts[0], memchain.Address(f.Accounts[1])
	const n = 40
	for nonce := uint64(0); nonce < n; nonce++ {
		if err := c.Submit(transfer(f, a, nonce, b, nonce+1, 0)); err != nil {
			t.Fatalf("nonce %d: %v", nonce, err)
		}
	}
	landed := 0
	for len(c.Mempool()) > 0 {
		res, dropped, err := c.ProduceBlock()
		if err != nil {
			t.Fatal(err)
		}
		if len(dropped) > 0 {
			t.Fatalf("recheck dropped %d pending transactions", len(dropped))
		}
		for i := range res.TxResults {
			if err := res.TxErr(i); err != nil {
				t.Fatalf("transaction %d of block %d failed: %v", i, res.Height, err)
			}
			landed++
		}
	}
	if landed != n || account(t, c, memchain.Address(a), 0).General.Nonce != n {
		t.Fatalf("%d landed", landed)
	}
	if got := balance(t, c, b); got != 1_000_000+n*(n+1)/2 {
		t.Fatalf("receiver balance %d", got)
	}
}

func TestFinalizeBlockReusesCheckTxVerdictsAndBatchVerifiesTheRest(t *testing.T) {
	f, c := newChain(t, params())
	a, b := f.Accounts[0], f.Accounts[1]
	to := memchain.Address(f.Accounts[2])
	checked := [][]byte{transfer(f, a, 0, to, 1, 0), transfer(f, a, 1, to, 1, 0)}
	for _, tx := range checked {
		wantErr(t, c.CheckTx(tx), nil)
	}
	unseen := transfer(f, b, 0, to, 1, 0)
	otherChain := memchain.TestSigner("account", 1) // b's key, signing for another chain
	forged := forgeForOtherChain(t, otherChain)
	before := c.Mux().Stats()
	// A decided block may hold anything: FinalizeBlock must still give one result per
	// transaction (CometBFT lets through what ProcessProposal of a faulty majority accepted).
	ctx := context.Background()
	height := c.NextHeight()
	res, err := c.Mux().FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: height, Time: c.TimeAt(height), Txs: append(checked, unseen, forged, []byte{0x01})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mux().Commit(ctx, &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	if len(res.TxResults) != 5 {
		t.Fatalf("%d results for 5 transactions", len(res.TxResults))
	}
	for i, want := range []error{nil, nil, nil, transaction.ErrInvalidSignature, transaction.ErrMalformedTransaction} {
		r := res.TxResults[i]
		wantErr(t, cerrors.FromWire(cerrors.Wire{Module: r.Codespace, Code: r.Code, Message: r.Log}), want)
	}
	after := c.Mux().Stats()
	if hits := after.CacheHits - before.CacheHits; hits != 2 {
		t.Errorf("%d verdicts reused, want 2", hits)
	}
	if batch := after.BatchVerified - before.BatchVerified; batch != 2 {
		t.Errorf("%d signatures batch-verified, want 2", batch)
	}
	if single := after.SingleVerified - before.SingleVerified; single != 0 {
		t.Errorf("%d signatures verified singly in FinalizeBlock", single)
	}
}

func TestPreverifiedTransactionsSkipVerificationInCheckTxAndBadOnesAreRejectedAsBefore(t *testing.T) {
	f, c := newChain(t, params())
	a := f.Accounts[0]
	to := memchain.Address(f.Accounts[1])
	var good [][]byte
	for nonce := uint64(0); nonce < 100; nonce++ { // enough to be split across goroutines
		good = append(good, transfer(f, a, nonce, to, 1, 0))
	}
	forged := forgeForOtherChain(t, memchain.TestSigner("account", 0))
	txs := append(append([][]byte{}, good...), forged, []byte{0x01})
	before := c.Mux().Stats()
	c.Mux().PreverifyTxs(txs)
	after := c.Mux().Stats()
	if n := after.PreVerified - before.PreVerified; n != uint64(len(good)) {
		t.Fatalf("%d signatures pre-verified, want %d", n, len(good))
	}
	for _, tx := range good {
		wantErr(t, c.CheckTx(tx), nil)
	}
	if single := c.Mux().Stats().SingleVerified - after.SingleVerified; single != 0 {
		t.Fatalf("CheckTx verified %d pre-verified signatures again", single)
	}
	// What failed pre-verification was not cached: CheckTx verifies and rejects it as always.
	wantErr(t, c.CheckTx(forged), transaction.ErrInvalidSignature)
	wantErr(t, c.CheckTx([]byte{0x01}), transaction.ErrMalformedTransaction)
	if single := c.Mux().Stats().SingleVerified - after.SingleVerified; single != 1 {
		t.Fatalf("%d signatures verified in CheckTx, want the forged one", single)
	}
}

func forgeForOtherChain(t *testing.T, s signature.Signer) []byte {
	t.Helper()
	other, err := memchain.NewFixture(memchain.FixtureParams{Validators: 1, Accounts: 2, Balance: 5})
	if err != nil {
		t.Fatal(err)
	}
	return other.SignTx(s, memchain.Tx{Nonce: 0, Gas: 1000, Method: staking.MethodTransfer, Body: &staking.Transfer{}})
}

func TestATransactionSignedForAnotherChainIsRejected(t *testing.T) {
	_, c := newChain(t, params())
	wantErr(t, c.CheckTx(forgeForOtherChain(t, memchain.TestSigner("account", 0))), transaction.ErrInvalidSignature)
}

func buildHistory(t *testing.T, f *memchain.Fixture, c *memchain.Chain) {
	t.Helper()
	a, b := f.Accounts[0], f.Accounts[1]
	for i := uint64(0); i < 12; i++ {
		txs := [][]byte{transfer(f, a, i, memchain.Address(b), i, 3)}
		if i%3 == 0 {
			txs = append(txs, f.SignTx(b, memchain.Tx{Nonce: i / 3, Gas: 1000, Method: staking.MethodAddEscrow,
				Body: &staking.Escrow{Account: memchain.Address(a), Amount: *quantity.NewFromUint64(100)}}))
		}
		if _, err := c.Deliver(txs...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplayingTheChainFromGenesisReproducesEveryAppHash(t *testing.T) {
	f, c := newChain(t, memchain.FixtureParams{Validators: 2, Accounts: 2, Balance: 1_000_000, EpochInterval: 4})
	buildHistory(t, f, c)
	replayed, err := c.Replay()
	if err != nil {
		t.Fatal(err)
	}
	defer replayed.Close()
	if replayed.Height() != c.Height() {
		t.Fatalf("replayed to %d, want %d", replayed.Height(), c.Height())
	}
}

func TestStateSurvivesARestart(t *testing.T) {
	f, c := newChain(t, memchain.FixtureParams{Validators: 2, Accounts: 2, Balance: 1_000_000, EpochInterval: 4})
	buildHistory(t, f, c)
	height := c.Height()
	before := account(t, c, memchain.Address(f.Accounts[1]), 0)
	old := account(t, c, memchain.Address(f.Accounts[1]), 3)
	if err := c.Reopen(); err != nil {
		t.Fatal(err)
	}
	after := account(t, c, memchain.Address(f.Accounts[1]), 0)
	if after.General.Balance.Cmp(&before.General.Balance) != 0 || after.General.Nonce != before.General.Nonce {
		t.Fatalf("account changed across a restart: %+v then %+v", before.General, after.General)
	}
	if again := account(t, c, memchain.Address(f.Accounts[1]), 3); again.General.Balance.Cmp(&old.General.Balance) != 0 {
		t.Fatal("state at an old height changed across a restart")
	}
	// The chain continues where it stopped, and the next transaction needs the next nonce.
	res, err := c.Deliver(transfer(f, f.Accounts[0], 12, memchain.Address(f.Accounts[1]), 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res.TxErr(0), nil)
	if res.Height != height+1 {
		t.Fatalf("height %d after restart, want %d", res.Height, height+1)
	}
}

func TestQueriesAreRoutedByServiceAndFailWithCodedErrors(t *testing.T) {
	_, c := newChain(t, params())
	var out any
	wantErr(t, c.Query("nosuch.Thing", nil, &out, 0), consensus.ErrUnknownQuery)
	wantErr(t, c.Query("staking.Nothing", nil, &out, 0), consensus.ErrUnknownQuery)
	wantErr(t, c.Query(staking.QueryAccount, nil, &out, 99), consensus.ErrNoState)
	resp, err := c.Mux().Query(context.Background(), &abci.RequestQuery{Path: staking.QueryAccount, Data: []byte{0xff}})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, cerrors.FromWire(cerrors.Wire{Module: resp.Codespace, Code: resp.Code}), consensus.ErrMalformedQuery)
}

func TestInfoReportsTheLastCommittedHeightAndAppHash(t *testing.T) {
	_, c := newChain(t, params())
	res, err := c.Deliver()
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Mux().Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if info.LastBlockHeight != res.Height || string(info.LastBlockAppHash) != string(res.AppHash) {
		t.Fatalf("info %d %x, want %d %x", info.LastBlockHeight, info.LastBlockAppHash, res.Height, res.AppHash)
	}
}
