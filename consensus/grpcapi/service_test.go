package grpcapi_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/cometbft"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/consensus/memchain"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
	"github.com/atoll-project/atoll/mkvs/db"
	"github.com/atoll-project/atoll/rpc"
)

// chain is a real CometBFT node driving the real mux, with the service on a Unix socket.
type chain struct {
	doc      *genesis.Document
	accounts []*signature.MemorySigner
	client   *grpcapi.Client
	socket   string
}

// startChain runs a one-validator chain in the process until the test ends.
func startChain(t *testing.T) *chain {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "cometbft")
	keys, err := cometbft.GenerateKeys(home)
	if err != nil {
		t.Fatal(err)
	}
	c := &chain{socket: filepath.Join(dir, "api.sock")}
	p := genesis.DevParams{
		ChainID: "grpcapi-test", GenesisTime: time.Now().Add(-time.Minute), Balance: 1_000_000, EpochInterval: 4,
		Validators: []genesis.DevValidator{{EntityID: memchain.TestSigner("entity", 0).Public(), ConsensusKey: keys.Consensus}},
	}
	for i := range 3 {
		s := memchain.TestSigner("account", i)
		c.accounts = append(c.accounts, s)
		p.Accounts = append(p.Accounts, staking.NewAddress(s.Public()))
	}
	if c.doc, err = genesis.DevDocument(p); err != nil {
		t.Fatal(err)
	}
	nodeDB, err := db.Open(db.Options{Path: filepath.Join(dir, "state"), Namespace: consensus.StateNamespace(c.doc), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	mux, err := consensus.NewMux(consensus.MuxConfig{Genesis: c.doc, Apps: memchain.DefaultApps(), NodeDB: nodeDB})
	if err != nil {
		t.Fatal(err)
	}
	node, err := cometbft.New(cometbft.Config{
		HomeDir: home, Moniker: "test", Validator: true, TimeoutCommit: 50 * time.Millisecond,
		P2P:     cometbft.P2PConfig{Listen: "tcp://127.0.0.1:0"},
		Mempool: cometbft.MempoolConfig{Size: 1000, MaxTxsBytes: 1 << 22, MaxTxBytes: 1 << 12, CacheSize: 1000, Recheck: true},
	}, cometbft.Genesis{
		ChainID: c.doc.CometBFTChainID(), Time: c.doc.GenesisTime, InitialHeight: c.doc.InitialHeight,
		Validators:    []cometbft.Validator{{PubKey: keys.Consensus, Power: 10}},
		MaxBlockBytes: c.doc.Consensus.MaxBlockBytes, MaxBlockGas: int64(c.doc.Consensus.MaxBlockGas),
	}, mux)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rpc.NewServer(rpc.ServerConfig{}, grpcapi.NewService(grpcapi.ServiceConfig{Genesis: c.doc, Mux: mux, Node: node}).Methods()...)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := rpc.ListenUnix(c.socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	nodeDone, srvDone := make(chan error, 1), make(chan error, 1)
	go func() { nodeDone <- node.Run(ctx) }()
	go func() { srvDone <- srv.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-srvDone; err != nil {
			t.Error(err)
		}
		if err := <-nodeDone; err != nil {
			t.Error(err)
		}
		_ = nodeDB.Close()
	})
	select {
	case <-node.Ready():
	case err := <-nodeDone:
		t.Fatalf("node stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("node not ready after 30s")
	}
	if c.client, err = grpcapi.DialUnix(c.socket, grpcapi.ClientConfig{QueryTimeout: 10 * time.Second, SubmitTimeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.client.Close() })
	c.waitHeight(t, 1)
	return c
}

func (c *chain) waitHeight(t *testing.T, h int64) *grpcapi.Status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.client.Status(context.Background())
		if err == nil && st.CommittedHeight >= h {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("height %d not reached in 30s: %v %+v", h, err, st)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

func (c *chain) transfer(t *testing.T, from int, nonce uint64, to staking.Address, amount uint64) []byte {
	t.Helper()
	raw, err := transaction.Sign(c.accounts[from], c.doc.ChainContext(), &transaction.Transaction{
		Nonce: nonce, Fee: transaction.Fee{Gas: 1000}, Method: staking.MethodTransfer,
		Body: transaction.NewBody(&staking.Transfer{To: to, Amount: *quantity.NewFromUint64(amount)}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestTheServiceAnswersStateBlocksAndEventsAndSubmitsTransactions(t *testing.T) {
	c := startChain(t)
	ctx := context.Background()
	to := staking.NewAddress(c.accounts[1].Public())

	st, err := c.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ChainContext != c.doc.ChainContext() || st.ChainID != "grpcapi-test" || !st.Validator || st.CommittedHeight < 1 {
		t.Fatalf("status %+v", st)
	}

	// Submit and wait: the result carries the height, gas and the transfer event.
	res, err := c.client.SubmitTx(ctx, c.transfer(t, 0, 0, to, 7))
	if err != nil {
		t.Fatal(err)
	}
	if res.Height == 0 || res.GasUsed != 1000 || len(res.Events) != 1 {
		t.Fatalf("result %+v", res)
	}
	var ev staking.TransferEvent
	if err := res.Events[0].Decode(&ev); err != nil || ev.To != to || ev.Amount.String() != "7" {
		t.Fatalf("event %+v: %v", ev, err)
	}
	acct, err := c.client.Account(ctx, to, res.Height)
	if err != nil || acct.Account.General.Balance.String() != "1000007" || acct.Height != res.Height {
		t.Fatalf("account %+v: %v", acct, err)
	}

	// The block and its events name the transaction by its Atoll hash.
	b, err := c.client.Block(ctx, res.Height)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.TxHashes) <= res.Index || b.TxHashes[res.Index] != res.Hash {
		t.Fatalf("block %+v lacks tx %s", b, res.Hash)
	}
	evs, err := c.client.Events(ctx, res.Height)
	if err != nil || len(evs.Txs) != len(b.TxHashes) || evs.Txs[res.Index].Hash != res.Hash {
		t.Fatalf("events %+v: %v", evs, err)
	}
	if v, ok, err := evs.Txs[res.Index].Events[0].DecodeKnown(); !ok || err != nil || v.(*staking.TransferEvent).To != to {
		t.Fatalf("decoding %+v: %v %v", evs.Txs[res.Index].Events[0], ok, err)
	}

	// The first block changed the epoch; the epoch query agrees with the interval.
	first, err := c.client.Events(ctx, 1)
	if err != nil || len(first.Block) == 0 || first.Block[0].Kind != (beacon.EpochChangedEvent{}).EventKind() {
		t.Fatalf("events of block 1: %+v %v", first, err)
	}
	e, err := c.client.Epoch(ctx, 0)
	if err != nil || e.Interval != 4 || e.Epoch != beacon.EpochTime(e.Height/4) {
		t.Fatalf("epoch %+v: %v", e, err)
	}

	// Batches: pipelined nonces of one account all land, in order, none rejected.
	var batch [][]byte
	for nonce := uint64(1); nonce <= 20; nonce++ {
		batch = append(batch, c.transfer(t, 0, nonce, to, 1))
	}
	verdicts, err := c.client.SubmitTxs(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range verdicts {
		if v != nil {
			t.Fatalf("tx %d rejected: %v", i, v)
		}
	}
	pending := map[hash.Hash]bool{}
	for _, tx := range batch {
		pending[hash.Digest(tx)] = true
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	errDone := errors.New("all included")
	err = c.client.WatchBlocks(wctx, res.Height+1, func(b grpcapi.BlockOutcomes) error {
		for _, tx := range b.Txs {
			if pending[tx.Hash] && tx.Code != 0 {
				t.Errorf("tx %s failed in block %d: %s %d", tx.Hash, b.Height, tx.Module, tx.Code)
			}
			delete(pending, tx.Hash)
		}
		if len(pending) == 0 {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("watching blocks: %v (%d not included)", err, len(pending))
	}
	acct, err = c.client.Account(ctx, staking.NewAddress(c.accounts[0].Public()), 0)
	if err != nil || acct.Account.General.Nonce != 21 {
		t.Fatalf("sender %+v: %v", acct, err)
	}
}

func TestEveryBadRequestGetsACodedError(t *testing.T) {
	c := startChain(t)
	ctx := context.Background()
	to := staking.NewAddress(c.accounts[2].Public())
	st := c.waitHeight(t, 2)

	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"a negative height", func() error { _, err := c.client.Block(ctx, -1); return err }, grpcapi.ErrInvalidArgument},
		{"a future block", func() error { _, err := c.client.Events(ctx, st.CommittedHeight+1000); return err }, grpcapi.ErrNoBlock},
		{"state at a future height", func() error { _, err := c.client.Account(ctx, to, st.CommittedHeight+1000); return err }, grpcapi.ErrNoBlock},
		{"an unknown query", func() error { _, err := c.client.Query(ctx, "nosuch.Thing", nil, new(any), 0); return err }, consensus.ErrUnknownQuery},
		{"malformed query arguments", func() error {
			_, err := c.client.Query(ctx, staking.QueryAccount, []int{1, 2}, new(any), 0)
			return err
		}, consensus.ErrMalformedQuery},
		{"an empty transaction", func() error { _, err := c.client.SubmitTx(ctx, nil); return err }, grpcapi.ErrInvalidArgument},
		{"bytes that are no transaction", func() error { _, err := c.client.SubmitTx(ctx, []byte("junk")); return err }, transaction.ErrMalformedTransaction},
		{"a wrong nonce", func() error { _, err := c.client.SubmitTx(ctx, c.transfer(t, 2, 5, to, 1)); return err }, transaction.ErrInvalidNonce},
		{"more than the balance", func() error { _, err := c.client.SubmitTx(ctx, c.transfer(t, 2, 0, to, 1<<40)); return err }, staking.ErrInsufficientBalance},
		{"an empty batch", func() error { _, err := c.client.SubmitTxs(ctx, nil); return err }, grpcapi.ErrInvalidArgument},
		{"an oversized batch", func() error {
			_, err := c.client.SubmitTxs(ctx, make([][]byte, grpcapi.MaxBatchTxs+1))
			return err
		}, grpcapi.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// The same bytes twice: the mempool's cache refuses the second.
	tx := c.transfer(t, 1, 0, to, 1)
	verdicts, err := c.client.SubmitTxs(ctx, [][]byte{tx, tx})
	if err != nil {
		t.Fatal(err)
	}
	if verdicts[0] != nil || !errors.Is(verdicts[1], grpcapi.ErrDuplicateTx) {
		t.Fatalf("verdicts %v", verdicts)
	}
}

func TestDialingWithoutANodeSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.sock")
	if _, err := grpcapi.DialUnix(path, grpcapi.ClientConfig{}); !errors.Is(err, grpcapi.ErrNoNode) {
		t.Fatalf("dialing nothing: %v", err)
	}
	// A stale socket file with no server behind it.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := grpcapi.DialUnix(path, grpcapi.ClientConfig{}); !errors.Is(err, grpcapi.ErrNoNode) {
		t.Fatalf("dialing a plain file: %v", err)
	}
}
