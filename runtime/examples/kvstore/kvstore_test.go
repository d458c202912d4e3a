package kvstore_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/app"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/kvstoretest"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/sdk"
	"github.com/atoll-project/atoll/runtime/sdk/sdktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// socketRuntime serves kvstore version major in this process behind a socketpair and returns
// the host's end; cleanup shuts it down and waits for Serve.
func socketRuntime(tb testing.TB, major uint16, storage *sdktest.Storage) *sdktest.Host {
	tb.Helper()
	rt, err := app.New(major)
	if err != nil {
		tb.Fatal(err)
	}
	hostEnd, rtEnd, err := sdktest.SocketPair()
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sdk.Serve(context.Background(), rtEnd, rt) }()
	host := sdktest.NewHost(hostEnd, storage, protocol.Config{})
	tb.Cleanup(func() {
		host.Close()
		if err := <-done; err != nil {
			tb.Errorf("Serve() = %v", err)
		}
	})
	if _, err := host.Handshake(context.Background(), kvstoretest.RuntimeID()); err != nil {
		tb.Fatalf("Handshake() = %v", err)
	}
	return host
}

func TestTheRuntimeRunsARoundEndToEndOverASocketpair(t *testing.T) {
	ctx := context.Background()
	storage := sdktest.NewStorage()
	chain, req, err := kvstoretest.InsertBatch(ctx, storage, 50, 20)
	if err != nil {
		t.Fatal(err)
	}
	host := socketRuntime(t, 1, storage)

	check, err := host.CheckTxBatch(ctx, chain.CheckRequest(append(req.Inputs[:2:2], []byte("junk"))))
	if err != nil {
		t.Fatalf("CheckTxBatch() = %v", err)
	}
	if !check.Results[0].IsSuccess() || !check.Results[1].IsSuccess() || !errors.Is(check.Results[2].Error.Err(), app.ErrMalformedTx) {
		t.Fatalf("check results = %+v", check.Results)
	}

	resp, err := host.ExecuteTxBatch(ctx, req)
	if err != nil {
		t.Fatalf("ExecuteTxBatch() = %v", err)
	}
	if len(resp.TxHashes) != 20 || len(resp.Batch.StateWriteLog) != 20 {
		t.Fatalf("executed %d txs with %d state writes, want 20 and 20", len(resp.TxHashes), len(resp.Batch.StateWriteLog))
	}
	if err := chain.Finalize(ctx, req, resp); err != nil {
		t.Fatalf("the host's trees disagree with the computed batch: %v", err)
	}

	tx, err := app.DecodeTx(req.Inputs[7])
	if err != nil {
		t.Fatal(err)
	}
	q, err := host.Query(ctx, chain.QueryRequest("get", &app.Key{Key: tx.Insert.Key}))
	if err != nil {
		t.Fatalf("Query() = %v", err)
	}
	var v []byte
	if err := cbor.Unmarshal(q.Data, &v); err != nil || !bytes.Equal(v, tx.Insert.Value) {
		t.Fatalf("query gives %q, %v; want %q", v, err, tx.Insert.Value)
	}
}

func TestTwoRuntimeInstancesGiveByteIdenticalResults(t *testing.T) {
	ctx := context.Background()
	storage := sdktest.NewStorage()
	_, req, err := kvstoretest.InsertBatch(ctx, storage, 200, 100)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := app.New(1)
	if err != nil {
		t.Fatal(err)
	}
	runtimes := map[string]sdktest.Runtime{
		"socket 1":   socketRuntime(t, 1, storage),
		"socket 2":   socketRuntime(t, 1, storage),
		"in-process": sdk.NewDispatcher(rt, storage, nil),
	}
	var want []byte
	for _, name := range []string{"socket 1", "socket 2", "in-process"} {
		resp, err := runtimes[name].ExecuteTxBatch(ctx, req)
		if err != nil {
			t.Fatalf("%s: ExecuteTxBatch() = %v", name, err)
		}
		got := cbor.Marshal(resp)
		if want == nil {
			want = got
			continue
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s gives a different response (%d bytes vs %d)", name, len(got), len(want))
		}
	}
}

// buildRuntime builds cmd/kvstore-vN into a temporary directory.
func buildRuntime(t *testing.T, major string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the runtime with")
	}
	out := filepath.Join(t.TempDir(), "kvstore-v"+major)
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/kvstore-v"+major)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	return out
}

// processRuntime starts the runtime binary as a process connected to a socket this test
// listens on, as the host does, and returns the host's end.
func processRuntime(t *testing.T, binary string, storage *sdktest.Storage) *sdktest.Host {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "host.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := exec.Command(binary)
	cmd.Env = []string{sdk.SocketEnv + "=" + sock}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	host := sdktest.NewHost(conn, storage, protocol.Config{})
	t.Cleanup(func() {
		if err := host.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
		host.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("runtime exited with %v\n%s", err, stderr.String())
		}
	})
	return host
}

func TestTwoRuntimeProcessesGiveByteIdenticalResultsAndVersionTwoSaysSo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the runtime binaries")
	}
	ctx := context.Background()
	storage := sdktest.NewStorage()
	_, req, err := kvstoretest.InsertBatch(ctx, storage, 100, 50)
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := buildRuntime(t, "1"), buildRuntime(t, "2")

	var want []byte
	for i, bin := range []string{v1, v1, v2} {
		host := processRuntime(t, bin, storage)
		info, err := host.Handshake(ctx, kvstoretest.RuntimeID())
		if err != nil {
			t.Fatalf("process %d: Handshake() = %v", i, err)
		}
		if wantMajor := uint16(1 + i/2); info.RuntimeVersion.Major != wantMajor {
			t.Errorf("process %d reports version %s, want major %d", i, info.RuntimeVersion, wantMajor)
		}
		resp, err := host.ExecuteTxBatch(ctx, req)
		if err != nil {
			t.Fatalf("process %d: ExecuteTxBatch() = %v", i, err)
		}
		got := cbor.Marshal(resp)
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Fatalf("process %d gives a different response", i)
		}
	}
}

// BenchmarkExecuteTxBatch1000Inserts executes 1000 kvstore inserts on a state of 10,000 keys,
// in-process through sdk.Dispatcher and over a socketpair with the host serving the state
// through HostStorageSync. Both run the same dispatcher code; the difference is the protocol.
func BenchmarkExecuteTxBatch1000Inserts(b *testing.B) {
	ctx := context.Background()
	storage := sdktest.NewStorage()
	_, req, err := kvstoretest.InsertBatch(ctx, storage, 10_000, 1000)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("in-process", func(b *testing.B) {
		rt, err := app.New(1)
		if err != nil {
			b.Fatal(err)
		}
		kvstoretest.BenchmarkExecute(b, sdk.NewDispatcher(rt, storage, nil), req)
	})
	b.Run("socket", func(b *testing.B) {
		kvstoretest.BenchmarkExecute(b, socketRuntime(b, 1, storage), req)
	})
}

// BenchmarkMessageCodec1000Inserts encodes and decodes the protocol messages of the 1000-insert
// batch of BenchmarkExecuteTxBatch1000Inserts, as the host and the runtime do around each
// ExecuteTxBatch: the part of the host protocol's overhead that is encoding.
func BenchmarkMessageCodec1000Inserts(b *testing.B) {
	ctx := context.Background()
	storage := sdktest.NewStorage()
	_, req, err := kvstoretest.InsertBatch(ctx, storage, 10_000, 1000)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := app.New(1)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := sdk.NewDispatcher(rt, storage, nil).ExecuteTxBatch(ctx, req)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name string
		msg  *messages.Message
	}{
		{"request", &messages.Message{ID: 7, MessageType: messages.MessageTypeRequest, Body: messages.Body{RuntimeExecuteTxBatchRequest: req}}},
		{"response", &messages.Message{ID: 7, MessageType: messages.MessageTypeResponse, Body: messages.Body{RuntimeExecuteTxBatchResponse: resp}}},
	} {
		enc := messages.EncodeMessage(m.msg)
		b.Run("encode-"+m.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			buf := make([]byte, 0, len(enc)+4)
			for b.Loop() {
				buf = messages.AppendMessage(buf[:0], m.msg)
			}
		})
		b.Run("decode-"+m.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := messages.DecodeMessage(enc, protocol.DefaultMaxFrameSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
