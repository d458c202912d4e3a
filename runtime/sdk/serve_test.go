package sdk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/sandbox"
	"github.com/atoll-project/atoll/runtime/sdk"
	"github.com/atoll-project/atoll/runtime/sdk/sdktest"
)

// serve starts rt behind one end of a socket pair and returns a host on the other end and the
// channel on which Serve's result arrives.
func serve(t *testing.T, rt sdk.Runtime, storage *sdktest.Storage) (*sdktest.Host, <-chan error) {
	t.Helper()
	hostEnd, rtEnd, err := sdktest.SocketPair()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sdk.Serve(context.Background(), rtEnd, rt) }()
	host := sdktest.NewHost(hostEnd, storage, protocol.Config{})
	return host, done
}

func TestServeRunsARuntimeOverASocketUntilTheHostShutsItDown(t *testing.T) {
	h := newHarness(t, &testRuntime{}, genesis("a", "0"))
	host, done := serve(t, &testRuntime{}, h.storage)
	defer host.Close()
	ctx := context.Background()

	info, err := host.Handshake(ctx, testNamespace())
	if err != nil {
		t.Fatalf("Handshake() = %v", err)
	}
	if info.RuntimeVersion.Major != 3 || info.RuntimeVersion.Minor != 1 {
		t.Errorf("runtime version %s, want 3.1.0", info.RuntimeVersion)
	}
	if err := host.Ping(ctx); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	set := testTx{Op: "set", Key: []byte("a"), Value: []byte("1")}.raw()
	req, err := h.chain.ExecuteRequest(ctx, [][]byte{set})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := host.ExecuteTxBatch(ctx, req)
	if err != nil {
		t.Fatalf("ExecuteTxBatch() = %v", err)
	}
	if err := h.chain.Finalize(ctx, req, resp); err != nil {
		t.Fatalf("Finalize() = %v", err)
	}
	q, err := host.Query(ctx, h.chain.QueryRequest("get", []byte("a")))
	if err != nil {
		t.Fatalf("Query() = %v", err)
	}
	var v []byte
	if err := cbor.Unmarshal(q.Data, &v); err != nil || string(v) != "1" {
		t.Fatalf("query gives %q, %v; want 1", v, err)
	}
	if _, err := host.Query(ctx, h.chain.QueryRequest("nope", nil)); !errors.Is(err, errTestFailure) {
		t.Fatalf("unknown query: %v, want the runtime's coded error", err)
	}

	if err := host.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	host.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve() = %v, want nil after a shutdown", err)
	}
}

func TestServeReturnsCleanlyWhenTheHostHangsUp(t *testing.T) {
	host, done := serve(t, &testRuntime{}, sdktest.NewStorage())
	host.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve() = %v, want nil", err)
	}
}

func TestRequestsBeforeTheHandshakeAreRefused(t *testing.T) {
	host, done := serve(t, &testRuntime{}, sdktest.NewStorage())
	defer func() { host.Close(); <-done }()
	if err := host.Ping(context.Background()); !errors.Is(err, protocol.ErrNotInitialized) {
		t.Fatalf("Ping() = %v, want ErrNotInitialized", err)
	}
}

func TestTheSocketVariableIsTheOneTheSandboxSets(t *testing.T) {
	if sdk.SocketEnv != sandbox.SocketEnv {
		t.Fatalf("sdk.SocketEnv = %q, sandbox.SocketEnv = %q", sdk.SocketEnv, sandbox.SocketEnv)
	}
}

func TestRunWithoutASocketSaysHowToGiveOne(t *testing.T) {
	t.Setenv(sdk.SocketEnv, "")
	if err := sdk.Run(&testRuntime{}); !errors.Is(err, sdk.ErrNoSocket) {
		t.Fatalf("Run() = %v, want ErrNoSocket", err)
	}
}
