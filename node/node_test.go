package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atoll-project/atoll/config"
	"github.com/atoll-project/atoll/consensus/cometbft"
	"github.com/atoll-project/atoll/consensus/cometbft/kvtest"
	"github.com/atoll-project/atoll/rpc"
)

const testGenesis = `{"test": "genesis"}`

// kvstoreFactory builds CometBFT's example kvstore as the consensus application, with the
// node's consensus key as the one validator. It stands in for the ABCI mux in these tests.
func kvstoreFactory(t *testing.T) AppFactory {
	return func(p AppParams) (*App, error) {
		if string(p.Genesis) != testGenesis {
			t.Errorf("factory got genesis %q", p.Genesis)
		}
		app := kvtest.Open(p.DataDir)
		return &App{
			ABCI: app,
			Genesis: cometbft.Genesis{
				ChainID:    "atoll-node-test",
				Time:       time.Unix(1_700_000_000, 0).UTC(),
				Validators: []cometbft.Validator{{PubKey: p.Identity.Consensus, Power: 1}},
			},
			Close: app.Close,
		}, nil
	}
}

// testConfig returns the configuration of a node in a fresh data directory with keys and a
// genesis file.
func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	if _, err := GenerateIdentity(cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.GenesisFile(), []byte(testGenesis), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Consensus.TimeoutCommit = config.Duration(50 * time.Millisecond)
	cfg.Consensus.P2P.Listen = "tcp://127.0.0.1:0"
	cfg.Consensus.RPC.Listen = ""
	cfg.Metrics.Listen = "127.0.0.1:0"
	return cfg
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func TestANodeServesItsStatusAndMetricsUntilCancelled(t *testing.T) {
	defer goleak.VerifyNone(t, append([]goleak.Option{goleak.IgnoreCurrent()}, kvtest.IgnoredGoroutines()...)...)
	cfg := testConfig(t)
	n, err := New(cfg, testLogger(t), kvstoreFactory(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready after 30s")
	}

	c, err := rpc.DialUnix(cfg.UnixSocket(), rpc.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var st Status
	deadline := time.Now().Add(30 * time.Second)
	for st.Height < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("height 3 not reached over gRPC in 30s: %+v", st)
		}
		if st, err = MethodStatus.Call(ctx, c, StatusRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if st.ChainID != "atoll-node-test" || st.Identity != n.Identity() || len(st.AppHash) == 0 {
		t.Fatalf("status = %+v", st)
	}

	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://" + n.MetricsAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, want := range []string{"atoll_consensus_height ", "atoll_consensus_mempool_txs ", "go_goroutines "} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of the cancellation")
	}
	if _, err := os.Stat(cfg.UnixSocket()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
}

func TestNewSaysWhatToDoWhenKeysOrGenesisAreMissing(t *testing.T) {
	cfg := testConfig(t)
	if err := os.Remove(cfg.GenesisFile()); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, nil, kvstoreFactory(t)); err == nil || !strings.Contains(err.Error(), "genesis.file") {
		t.Fatalf("New without genesis = %v", err)
	}

	cfg = config.Default()
	cfg.DataDir = t.TempDir()
	if err := os.WriteFile(cfg.GenesisFile(), []byte(testGenesis), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(cfg, nil, kvstoreFactory(t))
	if !errors.Is(err, ErrNoIdentity) || !strings.Contains(err.Error(), "atoll keys generate") {
		t.Fatalf("New without keys = %v", err)
	}
}

func TestAFailingFactoryFailsRunWithoutStartingAnything(t *testing.T) {
	cfg := testConfig(t)
	boom := errors.New("no such application")
	n, err := New(cfg, nil, func(AppParams) (*App, error) { return nil, boom })
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the factory's error", err)
	}
	if _, err := os.Stat(cfg.UnixSocket()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket created: %v", err)
	}
}

func TestGenerateIdentityWritesPrivateKeysOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	pub, err := GenerateIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{EntityKeyFile, NodeKeyFile, TLSKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", f, err, fi.Mode())
		}
	}
	if _, err := GenerateIdentity(dir); err == nil {
		t.Fatal("keys overwritten")
	}
	id, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer id.Reset()
	if id.Public != pub {
		t.Fatalf("loaded %+v, generated %+v", id.Public, pub)
	}
	if pub.Entity == pub.Node || pub.Node == pub.TLS || pub.Consensus == pub.Node {
		t.Fatal("keys repeat")
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
