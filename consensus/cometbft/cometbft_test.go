package cometbft

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atoll-project/atoll/consensus/cometbft/kvtest"
)

// testChain is a one-validator chain whose data lives in a test directory.
type testChain struct {
	home, appDir string
	gen          Genesis
}

func newTestChain(t *testing.T) *testChain {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "cometbft")
	pub, err := GenerateKeys(home)
	if err != nil {
		t.Fatal(err)
	}
	return &testChain{
		home:   home,
		appDir: filepath.Join(dir, "app"),
		gen: Genesis{
			ChainID:    "atoll-test",
			Time:       time.Now().Add(-time.Minute).UTC().Truncate(time.Second),
			Validators: []Validator{{PubKey: pub.Consensus, Power: 10, Name: "v0"}},
		},
	}
}

func (c *testChain) config(t *testing.T) Config {
	return Config{
		HomeDir:       c.home,
		Moniker:       "test",
		Validator:     true,
		P2P:           P2PConfig{Listen: "tcp://127.0.0.1:0"},
		TimeoutCommit: 50 * time.Millisecond,
		Mempool:       MempoolConfig{Size: 1000, MaxTxsBytes: 1 << 20, MaxTxBytes: 1 << 10, CacheSize: 1000, Recheck: true},
		Logger:        slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
}

// runningNode is a node running in the background of a test.
type runningNode struct {
	node   *Node
	app    *kvtest.App
	cancel context.CancelFunc
	done   chan error
}

// start opens the chain's app and runs a node on it until stop.
func (c *testChain) start(t *testing.T) *runningNode {
	t.Helper()
	app := kvtest.Open(c.appDir)
	n, err := New(c.config(t), c.gen, app)
	if err != nil {
		_ = app.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningNode{node: n, app: app, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case err := <-r.done:
		cancel()
		_ = app.Close()
		t.Fatalf("Run returned before the node was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("node not ready after 30s")
	}
	return r
}

// stop cancels Run and checks that it returns nil in time.
func (r *runningNode) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of the cancellation")
	}
	if err := r.app.Close(); err != nil {
		t.Errorf("closing app: %v", err)
	}
}

// waitHeight waits until the latest block is at least h and returns its height.
func (r *runningNode) waitHeight(t *testing.T, h int64) int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := r.node.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.SyncInfo.LatestBlockHeight >= h {
			return st.SyncInfo.LatestBlockHeight
		}
		if time.Now().After(deadline) {
			t.Fatalf("height %d not reached in 30s (at %d)", h, st.SyncInfo.LatestBlockHeight)
		}
		<-tick.C
	}
}

func leakOptions() []goleak.Option {
	return append([]goleak.Option{goleak.IgnoreCurrent()}, kvtest.IgnoredGoroutines()...)
}

func TestASingleValidatorProducesBlocksAndIncludesATransaction(t *testing.T) {
	defer goleak.VerifyNone(t, leakOptions()...)
	c := newTestChain(t)
	r := c.start(t)
	defer r.stop(t)

	r.waitHeight(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := r.node.SubmitTx(ctx, []byte("name=satoshi"))
	if err != nil {
		t.Fatalf("SubmitTx: %v", err)
	}
	if res.Height < 1 || res.Result.Code != 0 {
		t.Fatalf("result = %+v", res)
	}
	block, err := r.node.Block(ctx, &res.Height)
	if err != nil {
		t.Fatal(err)
	}
	if len(block.Block.Txs) <= res.Index || !bytes.Equal(block.Block.Txs[res.Index], []byte("name=satoshi")) {
		t.Fatalf("block %d does not hold the tx at index %d", res.Height, res.Index)
	}
	results, err := r.node.BlockResults(ctx, &res.Height)
	if err != nil || len(results.TxsResults) != len(block.Block.Txs) {
		t.Fatalf("block results: %v", err)
	}
	r.waitHeight(t, res.Height+1)
	q, err := r.node.Query(ctx, "/store", []byte("name"), 0)
	if err != nil || string(q.Value) != "satoshi" {
		t.Fatalf("query = %+v, %v", q, err)
	}
	vals, err := r.node.Validators(ctx, nil)
	if err != nil || len(vals) != 1 || vals[0].VotingPower != 10 {
		t.Fatalf("validators = %v, %v", vals, err)
	}
}

func TestATransactionRejectedByCheckTxIsNotWaitedFor(t *testing.T) {
	c := newTestChain(t)
	r := c.start(t)
	defer r.stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := r.node.SubmitTx(ctx, []byte("no-equals-sign"))
	if err == nil || res.Height != 0 {
		t.Fatalf("SubmitTx of a malformed tx = %+v, %v", res, err)
	}
}

func TestARestartedNodeContinuesFromItsLastHeight(t *testing.T) {
	c := newTestChain(t)
	r := c.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := r.node.SubmitTx(ctx, []byte("before=restart")); err != nil {
		t.Fatal(err)
	}
	h1 := r.waitHeight(t, 4)
	r.stop(t)

	r = c.start(t)
	defer r.stop(t)
	st, err := r.node.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.SyncInfo.LatestBlockHeight < h1 {
		t.Fatalf("restarted at height %d, below %d", st.SyncInfo.LatestBlockHeight, h1)
	}
	r.waitHeight(t, st.SyncInfo.LatestBlockHeight+2)
	q, err := r.node.Query(ctx, "/store", []byte("before"), 0)
	if err != nil || string(q.Value) != "restart" {
		t.Fatalf("state lost across the restart: %+v, %v", q, err)
	}
	if _, err := r.node.SubmitTx(ctx, []byte("after=restart")); err != nil {
		t.Fatal(err)
	}
}

func TestQueriesFailWhenTheNodeIsNotRunning(t *testing.T) {
	c := newTestChain(t)
	app := kvtest.Open(c.appDir)
	defer app.Close()
	n, err := New(c.config(t), c.gen, app)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Status = %v, want ErrNotRunning", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Fatalf("Run with a cancelled context: %v", err)
	}
	if err := n.Run(context.Background()); !errors.Is(err, ErrAlreadyRun) {
		t.Fatalf("second Run = %v, want ErrAlreadyRun", err)
	}
}

func TestGenerateKeysWritesPrivateFilesAndNeverOverwrites(t *testing.T) {
	home := t.TempDir()
	pub, err := GenerateKeys(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.P2PID) != 40 || pub.Consensus == [32]byte{} {
		t.Fatalf("public keys = %+v", pub)
	}
	for _, p := range []string{"config/priv_validator_key.json", "data/priv_validator_state.json", "config/node_key.json"} {
		fi, err := os.Stat(filepath.Join(home, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o", p, fi.Mode().Perm())
		}
	}
	if _, err := GenerateKeys(home); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second GenerateKeys = %v", err)
	}
	again, err := ReadPublicKeys(home)
	if err != nil || again != pub {
		t.Fatalf("ReadPublicKeys = %+v, %v; want %+v", again, err, pub)
	}
}

func TestNewFailsClearlyWithoutKeys(t *testing.T) {
	c := newTestChain(t)
	cfg := c.config(t)
	cfg.HomeDir = t.TempDir()
	app := kvtest.Open(c.appDir)
	defer app.Close()
	if _, err := New(cfg, c.gen, app); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("New = %v, want ErrNoKeys", err)
	}
	if err := os.Remove(filepath.Join(c.home, "data/priv_validator_state.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := New(c.config(t), c.gen, app); !errors.Is(err, ErrNoKeys) || !strings.Contains(err.Error(), "double-sign") {
		t.Fatalf("New without sign state = %v", err)
	}
}

func TestABadGenesisIsRejected(t *testing.T) {
	for name, mutate := range map[string]func(*Genesis){
		"no chain id":    func(g *Genesis) { g.ChainID = "" },
		"long chain id":  func(g *Genesis) { g.ChainID = strings.Repeat("a", 51) },
		"no time":        func(g *Genesis) { g.Time = time.Time{} },
		"zero power":     func(g *Genesis) { g.Validators[0].Power = 0 },
		"app state junk": func(g *Genesis) { g.AppState = []byte("{") },
	} {
		t.Run(name, func(t *testing.T) {
			g := Genesis{ChainID: "c", Time: time.Unix(1, 0), Validators: []Validator{{PubKey: [32]byte{1}, Power: 1}}}
			mutate(&g)
			if _, err := genesisDoc(g); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestCometBFTLogsCarryAnAtollModule(t *testing.T) {
	var buf bytes.Buffer
	l := newLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: LevelTrace})))
	l.With("module", "consensus", "height", 3).Info("committed", "txs", 2)
	l.Debug("noise")
	out := buf.String()
	for _, want := range []string{"level=DEBUG msg=committed module=cometbft/consensus height=3 txs=2", "level=DEBUG-4 msg=noise module=cometbft"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestATakenP2PPortFailsRunAndReleasesEverything(t *testing.T) {
	defer goleak.VerifyNone(t, leakOptions()...)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	c := newTestChain(t)
	cfg := c.config(t)
	cfg.P2P.Listen = "tcp://" + taken.Addr().String()
	app := kvtest.Open(c.appDir)
	n, err := New(cfg, c.gen, app)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Run = %v, want address already in use", err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	// The databases were released: the chain starts on the same directories.
	r := c.start(t)
	r.waitHeight(t, 1)
	r.stop(t)
}
