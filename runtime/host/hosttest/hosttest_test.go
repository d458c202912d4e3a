package hosttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/internal/cputime"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/app"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/kvstoretest"
	"github.com/atoll-project/atoll/runtime/sdk"
	"github.com/atoll-project/atoll/runtime/sdk/sdktest"
)

// kvstoreV1 and kvstoreV2 are the example runtime's bundles, built by TestMain as `make
// runtimes` builds them.
var kvstoreV1, kvstoreV2 string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hosttest-bundles-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if kvstoreV1, err = buildKVStore(dir, 1); err == nil {
		kvstoreV2, err = buildKVStore(dir, 2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
	}
	return code
}

// buildKVStore builds the kvstore executable of a major version and packs it into a bundle
// with the example's own mkbundle, as the Makefile's runtimes target does.
func buildKVStore(dir string, major int) (string, error) {
	const pkg = "github.com/atoll-project/atoll/runtime/examples/kvstore"
	exe := filepath.Join(dir, fmt.Sprintf("kvstore-v%d", major))
	out := exe + ".atb"
	for _, args := range [][]string{
		{"build", "-trimpath", "-buildvcs=false", "-o", exe, fmt.Sprintf("%s/cmd/kvstore-v%d", pkg, major)},
		{"run", pkg + "/mkbundle", "-version", fmt.Sprint(major), "-executable", exe, "-out", out},
	} {
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go %v: %v\n%s", args, err, b)
		}
	}
	return out, nil
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestTwoSandboxedInstancesGiveByteIdenticalResultsForTheSameBatchOnTheSameState(t *testing.T) {
	ctx := testContext(t)
	storage := sdktest.NewStorage()
	chain, req, err := kvstoretest.InsertBatch(ctx, storage, 200, 100)
	if err != nil {
		t.Fatal(err)
	}
	a := Start(t, Config{Bundle: kvstoreV1, Storage: storage})
	b := Start(t, Config{Bundle: kvstoreV1, Storage: storage})
	if a.Started().PID == b.Started().PID {
		t.Fatal("both instances are one process")
	}

	checkA, err := a.CheckTxBatch(ctx, chain.CheckRequest(req.Inputs))
	if err != nil {
		t.Fatalf("instance A: CheckTxBatch: %v", err)
	}
	checkB, err := b.CheckTxBatch(ctx, chain.CheckRequest(req.Inputs))
	if err != nil {
		t.Fatalf("instance B: CheckTxBatch: %v", err)
	}
	if !bytes.Equal(cbor.Marshal(checkA), cbor.Marshal(checkB)) {
		t.Error("CheckTxBatch responses differ between the instances")
	}

	execA, err := a.ExecuteTxBatch(ctx, req)
	if err != nil {
		t.Fatalf("instance A: ExecuteTxBatch: %v", err)
	}
	execB, err := b.ExecuteTxBatch(ctx, req)
	if err != nil {
		t.Fatalf("instance B: ExecuteTxBatch: %v", err)
	}
	if len(execA.TxHashes) != len(req.Inputs) {
		t.Fatalf("executed %d of %d inputs", len(execA.TxHashes), len(req.Inputs))
	}
	if !bytes.Equal(cbor.Marshal(execA), cbor.Marshal(execB)) {
		t.Fatal("ExecuteTxBatch responses differ between the instances")
	}

	// The sandbox changes nothing: the same dispatcher in this process agrees byte for byte.
	rt, err := app.New(1)
	if err != nil {
		t.Fatal(err)
	}
	inProcess, err := sdk.NewDispatcher(rt, storage, nil).ExecuteTxBatch(ctx, req)
	if err != nil {
		t.Fatalf("in-process ExecuteTxBatch: %v", err)
	}
	if !bytes.Equal(cbor.Marshal(execA), cbor.Marshal(inProcess)) {
		t.Error("the sandboxed response differs from the in-process one")
	}

	// The results check out and apply; both instances then read the new state alike.
	if err := chain.Finalize(ctx, req, execA); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	var tx app.Tx
	if err := cbor.Unmarshal(req.Inputs[7], &tx); err != nil {
		t.Fatal(err)
	}
	for name, rt := range map[string]*Runtime{"A": a, "B": b} {
		got, err := rt.QueryMethod(ctx, chain, "get", &app.Key{Key: tx.Insert.Key})
		if err != nil {
			t.Fatalf("instance %s: get: %v", name, err)
		}
		if want := cbor.Marshal(tx.Insert.Value); !bytes.Equal(got, want) {
			t.Errorf("instance %s: get = %x, want %x", name, got, want)
		}
	}
}

func TestExecuteTxAppliesTheWriteLogsSoLaterRoundsSeeTheState(t *testing.T) {
	ctx := testContext(t)
	storage := sdktest.NewStorage()
	chain, err := sdktest.NewChain(ctx, kvstoretest.RuntimeID(), storage, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := Start(t, Config{Bundle: kvstoreV1, Storage: storage})
	if got := rt.Started().Version; got != (version.Version{Major: 1}) {
		t.Errorf("started version %s", got)
	}
	insert := (&app.Tx{Nonce: 1, Insert: &app.KeyValue{Key: []byte("colour"), Value: []byte("teal")}}).Encode()
	check, err := rt.CheckTx(ctx, chain, insert, []byte("not a transaction"))
	if err != nil {
		t.Fatal(err)
	}
	if !check.Results[0].IsSuccess() || check.Results[1].IsSuccess() {
		t.Errorf("CheckTx results = %+v, want the insert accepted and the garbage refused", check.Results)
	}
	for round := uint64(1); round <= 2; round++ {
		tx := insert
		if round == 2 {
			tx = (&app.Tx{Nonce: 2, Insert: &app.KeyValue{Key: []byte("shape"), Value: []byte("round")}}).Encode()
		}
		if _, err := rt.ExecuteTx(ctx, chain, tx); err != nil {
			t.Fatalf("round %d: ExecuteTx: %v", round, err)
		}
		if chain.Block().Round != round {
			t.Fatalf("latest round %d, want %d", chain.Block().Round, round)
		}
	}
	for key, want := range map[string]string{"colour": "teal", "shape": "round"} {
		got, err := rt.QueryMethod(ctx, chain, "get", &app.Key{Key: []byte(key)})
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if !bytes.Equal(got, cbor.Marshal([]byte(want))) {
			t.Errorf("get %s = %x, want %q", key, got, want)
		}
		if v, err := chain.StateGet(ctx, app.StateKey([]byte(key))); err != nil || string(v) != want {
			t.Errorf("host state %s = %q, %v", key, v, err)
		}
	}
}

func TestVersionTwoServesAMethodVersionOneRefuses(t *testing.T) {
	ctx := testContext(t)
	storage := sdktest.NewStorage()
	chain, err := sdktest.NewChain(ctx, kvstoretest.RuntimeID(), storage, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx := (&app.Tx{Nonce: 1, InsertMany: &app.InsertMany{Entries: []app.KeyValue{{Key: []byte("a"), Value: []byte("1")}}}}).Encode()
	v1 := Start(t, Config{Bundle: kvstoreV1, Storage: storage})
	v2 := Start(t, Config{Bundle: kvstoreV2, Storage: storage})
	if got := v2.Started().Version; got != (version.Version{Major: 2}) {
		t.Errorf("v2 started as %s", got)
	}
	r1, err := v1.CheckTx(ctx, chain, tx)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Results[0].IsSuccess() || !errors.Is(r1.Results[0].Error.Err(), app.ErrUnsupportedMethod) {
		t.Errorf("v1 CheckTx(insert_many) = %+v, want ErrUnsupportedMethod", r1.Results[0])
	}
	r2, err := v2.CheckTx(ctx, chain, tx)
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Results[0].IsSuccess() {
		t.Errorf("v2 CheckTx(insert_many) = %+v, want success", r2.Results[0])
	}
}

// BenchmarkExecuteTxBatch1000InsertsSandboxed executes 1000 kvstore inserts on a state of
// 10,000 keys through the host and the real sandbox, with the state served over
// HostStorageSync: the same workload as the kvstore example's
// BenchmarkExecuteTxBatch1000Inserts/in-process, so the two ms/batch figures give the host
// protocol's overhead. Besides ms/batch (wall clock) and cpu-ms/batch (this process: the
// host side), it reports total-cpu-ms/batch, the host's and the sandbox's CPU time together,
// which compares with the in-process cpu-ms/batch even on a loaded machine. On a noisy
// machine, BenchmarkExecuteTxBatch1000InsertsOverhead (which interleaves both in one process)
// gives the more trustworthy overhead figure. Run it without -race:
//
//	go test -run '^$' -bench ExecuteTxBatch1000Inserts -benchtime 20x ./runtime/host/hosttest/ ./runtime/examples/kvstore/
func BenchmarkExecuteTxBatch1000InsertsSandboxed(b *testing.B) {
	ctx := context.Background()
	storage := sdktest.NewStorage()
	_, req, err := kvstoretest.InsertBatch(ctx, storage, 10_000, 1000)
	if err != nil {
		b.Fatal(err)
	}
	rt := Start(b, Config{Bundle: kvstoreV1, Storage: storage})
	sandbox0, err := rt.SandboxCPU()
	if err != nil {
		b.Fatal(err)
	}
	host0 := cputime.Process()
	kvstoretest.BenchmarkExecute(b, rt, req)
	sandbox1, err := rt.SandboxCPU()
	if err != nil {
		b.Fatal(err)
	}
	total := sandbox1 - sandbox0 + cputime.Process() - host0
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "total-cpu-ms/batch")
}
