package rpc

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	aerrors "github.com/atoll-project/atoll/common/errors"
)

const testService = "atoll.test.Echo"

type echoRequest struct {
	Text string `cbor:"text"`
	Pad  []byte `cbor:"pad,omitempty"`
}

type echoResponse struct {
	Text        string        `cbor:"text"`
	HasDeadline bool          `cbor:"has_deadline"`
	Remaining   time.Duration `cbor:"remaining"`
	PadLen      int           `cbor:"pad_len"`
}

type countRequest struct {
	N int `cbor:"n"`
}

type countItem struct {
	I int `cbor:"i"`
}

// otherRequest has a field echoRequest lacks, so the server's strict decoder refuses it.
type otherRequest struct {
	Text  string `cbor:"text"`
	Extra int    `cbor:"extra"`
}

var errTestRejected = aerrors.New("rpctest", 1, "request rejected")

var (
	methodEcho    = NewUnary[echoRequest, echoResponse](testService, "Echo")
	methodEchoBad = NewUnary[otherRequest, echoResponse](testService, "Echo")
	methodFail    = NewUnary[echoRequest, echoResponse](testService, "Fail")
	methodBlock   = NewUnary[echoRequest, echoResponse](testService, "Block")
	methodBig     = NewUnary[echoRequest, echoResponse](testService, "Big")
	methodCount   = NewServerStream[countRequest, countItem](testService, "Count")
)

// blockReturned receives the handler's context error once Block's context is done.
func testMethods(blockReturned chan<- error) []Method {
	return []Method{
		methodEcho.Handler(func(ctx context.Context, req echoRequest) (echoResponse, error) {
			dl, ok := ctx.Deadline()
			return echoResponse{Text: req.Text, HasDeadline: ok, Remaining: time.Until(dl), PadLen: len(req.Pad)}, nil
		}),
		methodFail.Handler(func(_ context.Context, req echoRequest) (echoResponse, error) {
			if req.Text == "uncoded" {
				return echoResponse{}, errors.New("disk on fire")
			}
			return echoResponse{}, fmt.Errorf("text %q: %w", req.Text, errTestRejected)
		}),
		methodBlock.Handler(func(ctx context.Context, _ echoRequest) (echoResponse, error) {
			<-ctx.Done()
			blockReturned <- ctx.Err()
			return echoResponse{}, ctx.Err()
		}),
		methodBig.Handler(func(_ context.Context, _ echoRequest) (echoResponse, error) {
			return echoResponse{Text: strings.Repeat("x", MaxMessageSize+1)}, nil
		}),
		methodCount.Handler(func(_ context.Context, req countRequest, send func(countItem) error) error {
			if req.N < 0 {
				return fmt.Errorf("negative count: %w", errTestRejected)
			}
			for i := range req.N {
				if err := send(countItem{I: i}); err != nil {
					return err
				}
			}
			return nil
		}),
	}
}

type testServer struct {
	client  *Client
	blocked chan error
	socket  string
}

func startServer(t *testing.T, cfg ClientConfig) *testServer {
	t.Helper()
	blocked := make(chan error, 1)
	srv, err := NewServer(ServerConfig{}, testMethods(blocked)...)
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(t.TempDir(), "atoll.sock")
	lis, err := ListenUnix(socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	c, err := DialUnix(socket, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testServer{client: c, blocked: blocked, socket: socket}
}

func TestAUnaryCallRoundTripsOverAUnixSocket(t *testing.T) {
	s := startServer(t, ClientConfig{})
	resp, err := methodEcho.Call(t.Context(), s.client, echoRequest{Text: "hello", Pad: []byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "hello" || resp.PadLen != 3 {
		t.Fatalf("resp = %+v", resp)
	}
	fi, err := os.Stat(s.socket)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("socket mode = %04o, want 0600", perm)
	}
}

func TestAServerStreamDeliversEveryValueInOrder(t *testing.T) {
	s := startServer(t, ClientConfig{})
	var got []int
	err := methodCount.Call(t.Context(), s.client, countRequest{N: 100}, func(it countItem) error {
		got = append(got, it.I)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 || got[0] != 0 || got[99] != 99 {
		t.Fatalf("received %d values: %v", len(got), got)
	}
}

func TestAStreamStopsWhenTheReceiverRefusesAValue(t *testing.T) {
	s := startServer(t, ClientConfig{})
	stop := errors.New("enough")
	n := 0
	err := methodCount.Call(t.Context(), s.client, countRequest{N: 1000}, func(countItem) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("err = %v after %d values", err, n)
	}
}

func TestACodedErrorSurvivesTheWire(t *testing.T) {
	s := startServer(t, ClientConfig{})
	_, err := methodFail.Call(t.Context(), s.client, echoRequest{Text: "bad"})
	if !errors.Is(err, errTestRejected) {
		t.Fatalf("err = %v, want errTestRejected", err)
	}
	if !strings.Contains(err.Error(), `text "bad"`) {
		t.Fatalf("err = %q lost the server's detail", err)
	}
	err = methodCount.Call(t.Context(), s.client, countRequest{N: -1}, func(countItem) error { return nil })
	if !errors.Is(err, errTestRejected) {
		t.Fatalf("stream err = %v, want errTestRejected", err)
	}
}

func TestAnUncodedErrorArrivesAsUnknownWithItsMessage(t *testing.T) {
	s := startServer(t, ClientConfig{})
	_, err := methodFail.Call(t.Context(), s.client, echoRequest{Text: "uncoded"})
	module, code := aerrors.Code(err)
	if module != aerrors.UnknownModule || code != aerrors.UnknownCode || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v (%s, %d)", err, module, code)
	}
}

func TestAMalformedRequestIsABadRequest(t *testing.T) {
	s := startServer(t, ClientConfig{})
	_, err := methodEchoBad.Call(t.Context(), s.client, otherRequest{Text: "x", Extra: 1})
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err = %v, want ErrBadRequest", err)
	}
}

func TestTheCallersDeadlineIsEnforcedOnBothSides(t *testing.T) {
	s := startServer(t, ClientConfig{})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := methodBlock.Call(ctx, s.client, echoRequest{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	select {
	case herr := <-s.blocked:
		if herr == nil {
			t.Fatal("handler context ended without error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler's context was never cancelled")
	}
}

func TestACallWithoutADeadlineGetsTheClientsDefault(t *testing.T) {
	s := startServer(t, ClientConfig{CallTimeout: 7 * time.Second})
	resp, err := methodEcho.Call(context.Background(), s.client, echoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.HasDeadline || resp.Remaining <= 0 || resp.Remaining > 7*time.Second {
		t.Fatalf("server saw deadline=%v remaining=%v, want ≤ 7s", resp.HasDeadline, resp.Remaining)
	}
}

func TestOversizeMessagesAreRejectedWithAClearError(t *testing.T) {
	s := startServer(t, ClientConfig{})
	_, err := methodEcho.Call(t.Context(), s.client, echoRequest{Pad: make([]byte, MaxMessageSize+1)})
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("oversize request: err = %v, want ErrMessageTooLarge", err)
	}
	_, err = methodBig.Call(t.Context(), s.client, echoRequest{})
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("oversize response: err = %v, want ErrMessageTooLarge", err)
	}
	// A message just under the cap passes: the limit is 16 MiB, not gRPC's default 4 MiB.
	resp, err := methodEcho.Call(t.Context(), s.client, echoRequest{Pad: make([]byte, 8<<20)})
	if err != nil || resp.PadLen != 8<<20 {
		t.Fatalf("8 MiB request: %v", err)
	}
}

func TestAClientOfAMissingSocketReportsUnavailable(t *testing.T) {
	c, err := DialUnix(filepath.Join(t.TempDir(), "none.sock"), ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = methodEcho.Call(t.Context(), c, echoRequest{})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestAStaleSocketIsReplacedButALiveOneIsNot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atoll.sock")
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = stale.Close()
	lis, err := ListenUnix(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer lis.Close()
	if _, err := ListenUnix(path); !errors.Is(err, ErrSocketInUse) {
		t.Fatalf("second listener: err = %v, want ErrSocketInUse", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenUnix(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("regular file: err = %v", err)
	}
}

func TestTLSClientsAcceptOnlyThePinnedServerKey(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := SelfSignedCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{TLS: ServerTLS(cert)}, testMethods(make(chan error, 1))...)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	defer func() { cancel(); <-done }()

	good, err := DialTLS(lis.Addr().String(), PinnedClientTLS(key.Public().(ed25519.PublicKey)), ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if resp, err := methodEcho.Call(t.Context(), good, echoRequest{Text: "tls"}); err != nil || resp.Text != "tls" {
		t.Fatalf("pinned client: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	bad, err := DialTLS(lis.Addr().String(), PinnedClientTLS(other), ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := methodEcho.Call(t.Context(), bad, echoRequest{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("client pinning another key: err = %v, want ErrUnavailable", err)
	}
}

func TestDeclaringAMethodTwiceIsAnError(t *testing.T) {
	h := func(context.Context, echoRequest) (echoResponse, error) { return echoResponse{}, nil }
	if _, err := NewServer(ServerConfig{}, methodEcho.Handler(h), methodEcho.Handler(h)); err == nil {
		t.Fatal("NewServer accepted a duplicate method")
	}
}

func TestTheCodecDecodesStrictly(t *testing.T) {
	var c codec
	b, err := c.Marshal(otherRequest{Text: "a", Extra: 2})
	if err != nil {
		t.Fatal(err)
	}
	var req echoRequest
	if err := c.Unmarshal(b, &req); err == nil {
		t.Fatal("unknown field accepted")
	}
	if _, err := c.Marshal(make(chan int)); err == nil {
		t.Fatal("a channel encoded")
	}
	if !bytes.Equal(b.Materialize(), b.Materialize()) {
		t.Fatal("unstable")
	}
}
