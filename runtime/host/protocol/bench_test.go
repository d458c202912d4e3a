//go:build unix

package protocol

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// socketPair returns the two ends of a Unix stream socketpair, as the sandbox uses.
func socketPair(tb testing.TB) (net.Conn, net.Conn) {
	tb.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socketpair: %v", err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "rhp")
		c, err := net.FileConn(f)
		_ = f.Close() // FileConn holds its own duplicate
		if err != nil {
			tb.Fatalf("FileConn: %v", err)
		}
		conns[i] = c
	}
	return conns[0], conns[1]
}

func echoQuery(_ context.Context, b *messages.Body) (*messages.Body, error) {
	if q := b.RuntimeQueryRequest; q != nil {
		return &messages.Body{RuntimeQueryResponse: &messages.RuntimeQueryResponse{Data: q.Args}}, nil
	}
	return nil, nil
}

func socketPairConnections(tb testing.TB) (host, rt *Connection) {
	a, b := socketPair(tb)
	host = NewConnection(a, nil, Config{})
	rt = NewConnection(b, HandlerFunc(echoQuery), Config{})
	tb.Cleanup(func() {
		_ = host.Close()
		_ = rt.Close()
	})
	return host, rt
}

func TestCallsWorkOverAUnixSocketPair(t *testing.T) {
	host, _ := socketPairConnections(t)
	args := cbor.Marshal(make([]byte, 100_000))
	resp, err := host.Call(testContext(t), &messages.Body{RuntimeQueryRequest: &messages.RuntimeQueryRequest{Method: "echo", Args: args}})
	if err != nil {
		t.Fatalf("Call() = %v", err)
	}
	if string(resp.RuntimeQueryResponse.Data) != string(args) {
		t.Fatal("the echoed payload differs")
	}
}

// BenchmarkRoundTrip measures one call and its response over a real Unix socketpair: a ping,
// and a query carrying 1 KiB each way; sequentially (latency) and from parallel callers
// (throughput).
func BenchmarkRoundTrip(b *testing.B) {
	kib := cbor.Marshal(make([]byte, 1024))
	bodies := []struct {
		name string
		body *messages.Body
	}{
		{"ping", ping()},
		{"1KiB", &messages.Body{RuntimeQueryRequest: &messages.RuntimeQueryRequest{Method: "echo", Args: kib}}},
	}
	for _, bb := range bodies {
		b.Run(bb.name, func(b *testing.B) {
			host, _ := socketPairConnections(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := host.Call(ctx, bb.body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/call")
		})
		b.Run(bb.name+"/parallel", func(b *testing.B) {
			host, _ := socketPairConnections(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := host.Call(ctx, bb.body); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
