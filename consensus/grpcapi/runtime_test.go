package grpcapi_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/cometbft"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/consensus/memchain"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	roothashapi "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/mkvs/db"
	"github.com/atoll-project/atoll/rpc"
)

// addTestRuntime registers, in doc's genesis, test runtime 0 of entity with three compute
// nodes and one storage node that never expire within a test, so that every epoch transition
// elects committees and makes an EpochTransition block; roothash keeps the latest keep blocks.
func addTestRuntime(doc *genesis.Document, entity *signature.MemorySigner, keep uint64) *registryapi.Runtime {
	rt := memchain.TestRuntime(0, entity.Public(), 0)
	v1 := version.Version{Major: 1}
	g := memchain.GenesisRegistry{Runtimes: []memchain.GenesisRuntime{{Signer: entity, Runtime: rt}}}
	var listed []signature.PublicKey
	for i := range 4 {
		roles := node.RoleCompute
		if i == 3 {
			roles = node.RoleStorage
		}
		n := memchain.TestNode(i, entity.Public(), roles, 1000, memchain.NodeRuntime(rt, v1))
		listed = append(listed, n.ID)
		g.Nodes = append(g.Nodes, memchain.GenesisNode{Signer: memchain.TestNodeSigner(i), Node: n})
	}
	g.Entities = []memchain.GenesisEntity{{Signer: entity, Nodes: listed}}
	memchain.AddGenesisRegistry(doc, g)
	doc.Registry.Params.MaxNodeExpiration = 1000
	p := roothashapi.DefaultConsensusParameters()
	p.MaxPastRootsStored = keep
	doc.Roothash = &genesis.RoothashGenesis{Params: p}
	return rt
}

// startRuntimeChain runs a one-validator CometBFT chain with one block per epoch (so one
// runtime block per consensus block) and test runtime 0 (keeping keep blocks), serving the
// consensus API.
func startRuntimeChain(t *testing.T, keep uint64) (*grpcapi.Client, *registryapi.Runtime) {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "cometbft")
	keys, err := cometbft.GenerateKeys(home)
	if err != nil {
		t.Fatal(err)
	}
	entity := memchain.TestSigner("entity", 0)
	doc, err := genesis.DevDocument(genesis.DevParams{
		ChainID: "grpcapi-runtime-test", GenesisTime: time.Now().Add(-time.Minute), Balance: 1_000_000, EpochInterval: 1,
		Validators: []genesis.DevValidator{{EntityID: entity.Public(), ConsensusKey: keys.Consensus}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rt := addTestRuntime(doc, entity, keep)
	if err := doc.SanityCheck(); err != nil {
		t.Fatal(err)
	}
	nodeDB, err := db.Open(db.Options{Path: filepath.Join(dir, "state"), Namespace: consensus.StateNamespace(doc), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	mux, err := consensus.NewMux(consensus.MuxConfig{Genesis: doc, Apps: memchain.DefaultApps(), NodeDB: nodeDB})
	if err != nil {
		t.Fatal(err)
	}
	n, err := cometbft.New(cometbft.Config{
		HomeDir: home, Moniker: "test", Validator: true, TimeoutCommit: 20 * time.Millisecond,
		P2P:     cometbft.P2PConfig{Listen: "tcp://127.0.0.1:0"},
		Mempool: cometbft.MempoolConfig{Size: 1000, MaxTxsBytes: 1 << 22, MaxTxBytes: 1 << 12, CacheSize: 1000, Recheck: true},
	}, cometbft.Genesis{
		ChainID: doc.CometBFTChainID(), Time: doc.GenesisTime, InitialHeight: doc.InitialHeight,
		Validators:    []cometbft.Validator{{PubKey: keys.Consensus, Power: 10}},
		MaxBlockBytes: doc.Consensus.MaxBlockBytes, MaxBlockGas: int64(doc.Consensus.MaxBlockGas),
	}, mux)
	if err != nil {
		t.Fatal(err)
	}
	svc := grpcapi.NewService(grpcapi.ServiceConfig{Genesis: doc, Mux: mux, Node: n, WatchInterval: 5 * time.Millisecond})
	client := serve(t, filepath.Join(dir, "api.sock"), svc.Methods(), func(ctx context.Context) error { return n.Run(ctx) })
	t.Cleanup(func() { _ = nodeDB.Close() })
	// The first committed block made the first epoch's EpochTransition block.
	waitRound(t, client, rt.ID, 1)
	return client, rt
}

// serve serves methods on a Unix socket at path, with run (if any) beside the server, until
// the test ends, and returns a client.
func serve(t *testing.T, path string, methods []rpc.Method, run func(context.Context) error) *grpcapi.Client {
	t.Helper()
	srv, err := rpc.NewServer(rpc.ServerConfig{}, methods...)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := rpc.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srvDone, runDone := make(chan error, 1), make(chan error, 1)
	go func() { srvDone <- srv.Serve(ctx, lis) }()
	if run == nil {
		run = func(context.Context) error { return nil }
	}
	go func() { runDone <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-srvDone; err != nil {
			t.Error(err)
		}
		if err := <-runDone; err != nil {
			t.Error(err)
		}
	})
	c, err := grpcapi.DialUnix(path, grpcapi.ClientConfig{QueryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitRound waits until the runtime's latest round is at least round, polling the node.
func waitRound(t *testing.T, c *grpcapi.Client, id namespace.Namespace, round uint64) *grpcapi.RuntimeBlock {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := c.LatestRuntimeBlock(context.Background(), id)
		if err == nil && b.Round >= round {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("runtime round %d not reached in 30s: %v %+v", round, err, b)
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
}

// checkChained checks that b is the block after prev: the next round, chained by hash, with
// its hash, round and type spelled out right.
func checkChained(t *testing.T, prev *grpcapi.RuntimeBlock, b grpcapi.RuntimeBlock) {
	t.Helper()
	if b.Hash != b.Header.Hash() || b.Round != b.Header.Round || b.Type != b.Header.HeaderType {
		t.Fatalf("block %d: spelled-out fields %d %s %s disagree with its header %+v", b.Round, b.Round, b.Type, b.Hash, b.Header)
	}
	if prev != nil && (b.Round != prev.Round+1 || b.Header.PreviousHash != prev.Hash) {
		t.Fatalf("round %d (previous hash %s) does not follow round %d (hash %s)", b.Round, b.Header.PreviousHash, prev.Round, prev.Hash)
	}
}

func TestWatchingRuntimeBlocksStreamsEveryRoundInOrderEvenWhenTheClientFallsBehind(t *testing.T) {
	c, rt := startRuntimeChain(t, roothashapi.DefaultMaxPastRootsStored)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// From the genesis round: the genesis block, then an EpochTransition block per epoch. At
	// round 3 the client stops reading until the chain is 8 rounds further, then catches up
	// and goes on with blocks made after that.
	const lagAt, lagBy = 3, 8
	const until = lagAt + lagBy + 4
	from := uint64(0)
	var prev *grpcapi.RuntimeBlock
	errDone := errors.New("enough blocks")
	err := c.WatchRuntimeBlocks(ctx, grpcapi.WatchRuntimeBlocksRequest{RuntimeID: rt.ID, FromRound: &from}, func(b grpcapi.RuntimeBlock) error {
		if prev == nil && b.Round != 0 {
			t.Fatalf("the stream starts at round %d, not 0", b.Round)
		}
		checkChained(t, prev, b)
		switch want := roothashapi.HeaderTypeEpochTransition; {
		case b.Round == 0 && (b.Type != roothashapi.HeaderTypeNormal || b.Header.StateRoot != rt.Genesis.StateRoot):
			t.Fatalf("round 0 is not the genesis block from the descriptor: %+v", b.Header)
		case b.Round > 0 && b.Type != want:
			t.Fatalf("round %d is a %s block, want %s", b.Round, b.Type, want)
		}
		if b.Round == lagAt {
			waitRound(t, c, rt.ID, lagAt+lagBy)
		}
		prev = &b
		if b.Round == until {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("watching from round 0: %v (last round %+v)", err, prev)
	}

	// From the latest: the stream starts at the latest block and goes on with the next.
	latest := waitRound(t, c, rt.ID, until)
	var got []grpcapi.RuntimeBlock
	err = c.WatchRuntimeBlocks(ctx, grpcapi.WatchRuntimeBlocksRequest{RuntimeID: rt.ID}, func(b grpcapi.RuntimeBlock) error {
		got = append(got, b)
		if len(got) == 2 {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("watching from the latest: %v", err)
	}
	if got[0].Round < latest.Round {
		t.Fatalf("watching from the latest started at round %d, before the latest %d", got[0].Round, latest.Round)
	}
	checkChained(t, &got[0], got[1])

	// The unary calls agree with the stream.
	b, err := c.RuntimeBlock(ctx, rt.ID, got[1].Round)
	if err != nil || b.Hash != got[1].Hash {
		t.Fatalf("RuntimeBlock(%d) = %+v, %v; the stream had %s", got[1].Round, b, err, got[1].Hash)
	}
	st, err := c.RuntimeState(ctx, rt.ID, 0)
	if err != nil || st.Height == 0 || st.State.Executor == nil || st.State.Suspended || st.State.Latest.Round < got[1].Round {
		t.Fatalf("RuntimeState = %+v, %v", st, err)
	}
}

func TestRuntimeBlockRequestsThatCannotBeServedGetCodedErrors(t *testing.T) {
	const keep = 8
	c, rt := startRuntimeChain(t, keep)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Past keep rounds, round 0 is pruned.
	latest := waitRound(t, c, rt.ID, keep+1)
	zero, future := uint64(0), latest.Round+1000
	unknown := memchain.TestRuntimeID(99)
	watch := func(req grpcapi.WatchRuntimeBlocksRequest) error {
		return c.WatchRuntimeBlocks(ctx, req, func(b grpcapi.RuntimeBlock) error {
			return errors.New("a block arrived")
		})
	}
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"watching from a pruned round", func() error {
			return watch(grpcapi.WatchRuntimeBlocksRequest{RuntimeID: rt.ID, FromRound: &zero})
		}, grpcapi.ErrRoundPruned},
		{"a pruned block", func() error { _, err := c.RuntimeBlock(ctx, rt.ID, 0); return err }, grpcapi.ErrRoundPruned},
		{"a block not made yet", func() error { _, err := c.RuntimeBlock(ctx, rt.ID, future); return err }, roothashapi.ErrNoSuchBlock},
		{"watching an unknown runtime", func() error {
			return watch(grpcapi.WatchRuntimeBlocksRequest{RuntimeID: unknown})
		}, roothashapi.ErrNoSuchRuntime},
		{"the latest block of an unknown runtime", func() error { _, err := c.LatestRuntimeBlock(ctx, unknown); return err }, roothashapi.ErrNoSuchRuntime},
		{"the state of an unknown runtime", func() error { _, err := c.RuntimeState(ctx, unknown, 0); return err }, roothashapi.ErrNoSuchRuntime},
		{"the state at a negative height", func() error { _, err := c.RuntimeState(ctx, rt.ID, -1); return err }, grpcapi.ErrInvalidArgument},
		{"the state at a future height", func() error { _, err := c.RuntimeState(ctx, rt.ID, 1<<40); return err }, grpcapi.ErrNoBlock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// A stream from a future round waits for it rather than failing.
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	err := c.WatchRuntimeBlocks(short, grpcapi.WatchRuntimeBlocksRequest{RuntimeID: rt.ID, FromRound: &future}, func(grpcapi.RuntimeBlock) error {
		return errors.New("a block arrived")
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("watching from a future round: %v, want the caller's deadline", err)
	}
}

// The runtime methods served over the test backend, where blocks come exactly when the test
// delivers them: a stream from round 0 reads a long backlog in several reads and goes on.
func TestRuntimeBlocksAreServedWithoutACometBFTNodeAndABacklogStreamsInFull(t *testing.T) {
	var rt *registryapi.Runtime
	fix, err := memchain.NewFixture(memchain.FixtureParams{
		Validators: 1, Balance: 1000, EpochInterval: 1,
		Tweak: func(d *genesis.Document) { rt = addTestRuntime(d, memchain.TestSigner("entity", 0), 1000) },
	})
	if err != nil {
		t.Fatal(err)
	}
	chain, err := fix.NewChain()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(chain.Close)
	c := serve(t, filepath.Join(t.TempDir(), "api.sock"), grpcapi.NewRuntimeService(chain.Mux(), time.Millisecond).Methods(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := c.LatestRuntimeBlock(ctx, rt.ID); !errors.Is(err, grpcapi.ErrNotReady) {
		t.Fatalf("before the first block: %v, want ErrNotReady", err)
	}
	// More rounds than one read of the server takes (64), all there before the stream starts;
	// the next round comes with a block delivered once the stream has caught up.
	const stored = 80
	for range stored {
		if _, err := chain.Deliver(); err != nil {
			t.Fatal(err)
		}
	}
	from := uint64(0)
	var prev *grpcapi.RuntimeBlock
	delivered := make(chan error, 1)
	errDone := errors.New("the next round received")
	err = c.WatchRuntimeBlocks(ctx, grpcapi.WatchRuntimeBlocksRequest{RuntimeID: rt.ID, FromRound: &from}, func(b grpcapi.RuntimeBlock) error {
		if prev == nil && b.Round != 0 {
			t.Fatalf("the stream starts at round %d, not 0", b.Round)
		}
		checkChained(t, prev, b)
		prev = &b
		switch b.Round {
		case stored:
			go func() { _, err := chain.Deliver(); delivered <- err }()
		case stored + 1:
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("watching: %v (last %+v)", err, prev)
	}
	if err := <-delivered; err != nil {
		t.Fatal(err)
	}
}
