package protocol

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

var errTestFailure = coded.New("protocol_test", 1, "test failure")

// barrier lets n handlers in and releases them all once the n-th has arrived.
type barrier struct {
	n       int64
	arrived atomic.Int64
	all     chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: int64(n), all: make(chan struct{})} }

func (b *barrier) wait(ctx context.Context) error {
	if b.arrived.Add(1) == b.n {
		close(b.all)
	}
	select {
	case <-b.all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestHundredsOfConcurrentCallsInBothDirectionsEachGetTheirOwnResponse(t *testing.T) {
	const perSide = 200
	ctx := testContext(t)
	// Every handler waits until all requests of its side have arrived, so all of them are in
	// flight at once.
	hostIn, runtimeIn := newBarrier(perSide), newBarrier(perSide)
	hostHandler := HandlerFunc(func(ctx context.Context, b *messages.Body) (*messages.Body, error) {
		if err := hostIn.wait(ctx); err != nil {
			return nil, err
		}
		return &messages.Body{HostLocalStorageGetResponse: &messages.HostLocalStorageGetResponse{Value: b.HostLocalStorageGetRequest.Key}}, nil
	})
	runtimeHandler := HandlerFunc(func(ctx context.Context, b *messages.Body) (*messages.Body, error) {
		if err := runtimeIn.wait(ctx); err != nil {
			return nil, err
		}
		return &messages.Body{RuntimeQueryResponse: &messages.RuntimeQueryResponse{Data: b.RuntimeQueryRequest.Args}}, nil
	})
	cfg := Config{MaxConcurrentRequests: perSide}
	host, rt := pair(t, hostHandler, runtimeHandler, cfg)

	var wg sync.WaitGroup
	errs := make(chan error, 2*perSide)
	for i := range perSide {
		wg.Add(2)
		go func() {
			defer wg.Done()
			args := cbor.Marshal(fmt.Sprintf("query %d", i))
			resp, err := host.Call(ctx, &messages.Body{RuntimeQueryRequest: &messages.RuntimeQueryRequest{Method: "echo", Args: args}})
			switch {
			case err != nil:
				errs <- fmt.Errorf("host call %d: %w", i, err)
			case resp.RuntimeQueryResponse == nil || !bytes.Equal(resp.RuntimeQueryResponse.Data, args):
				errs <- fmt.Errorf("host call %d got %s %+v", i, resp.Kind(), resp.RuntimeQueryResponse)
			}
		}()
		go func() {
			defer wg.Done()
			key := fmt.Appendf(nil, "key %d", i)
			resp, err := rt.Call(ctx, &messages.Body{HostLocalStorageGetRequest: &messages.HostLocalStorageGetRequest{Key: key}})
			switch {
			case err != nil:
				errs <- fmt.Errorf("runtime call %d: %w", i, err)
			case resp.HostLocalStorageGetResponse == nil || !bytes.Equal(resp.HostLocalStorageGetResponse.Value, key):
				errs <- fmt.Errorf("runtime call %d got %s", i, resp.Kind())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestIncomingRequestsBeyondTheConcurrencyBoundWaitForAFreeHandler(t *testing.T) {
	const bound, calls = 2, 8
	ctx := testContext(t)
	var active, maxActive atomic.Int64
	entered := make(chan struct{}, calls)
	release := make(chan struct{})
	handler := HandlerFunc(func(ctx context.Context, _ *messages.Body) (*messages.Body, error) {
		n := active.Add(1)
		defer active.Add(-1)
		for {
			m := maxActive.Load()
			if n <= m || maxActive.CompareAndSwap(m, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		return nil, nil
	})
	host, _ := pair(t, nil, handler, Config{MaxConcurrentRequests: bound})

	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := host.Call(ctx, ping()); err != nil {
				t.Error(err)
			}
		}()
	}
	for range bound {
		<-entered
	}
	close(release)
	wg.Wait()
	if got := maxActive.Load(); got != bound {
		t.Errorf("at most %d handlers ran at once, want exactly the bound %d", got, bound)
	}
}

func TestRequestsBeyondTheQueueAreAnsweredBusy(t *testing.T) {
	entered := make(chan struct{}, 3)
	release := make(chan struct{})
	handler := HandlerFunc(func(context.Context, *messages.Body) (*messages.Body, error) {
		entered <- struct{}{}
		<-release
		return nil, nil
	})
	_, peer := newRawPeer(t, handler, Config{MaxConcurrentRequests: 1, MaxQueuedRequests: 1})

	peer.send(request(1, ping()))
	<-entered // request 1 holds the only handler
	peer.send(request(2, ping()))
	peer.send(request(3, ping()))
	busy := peer.recv()
	if busy.ID != 3 || busy.Body.Error == nil || !errors.Is(busy.Body.Error.Err(), ErrBusy) {
		t.Fatalf("got %d %s %+v, want request 3 refused with ErrBusy", busy.ID, busy.Body.Kind(), busy.Body.Error)
	}
	close(release)
	for _, want := range []uint64{1, 2} {
		if m := peer.recv(); m.ID != want || m.Body.Empty == nil {
			t.Fatalf("got %d %s, want Empty for request %d", m.ID, m.Body.Kind(), want)
		}
	}
}

func TestACallWhoseDeadlinePassesFailsWithDeadlineExceededAndTheLateResponseIsDropped(t *testing.T) {
	c, peer := newRawPeer(t, nil, Config{})
	// The peer never answers in time. The deadline is long enough for the request to be written
	// even on a loaded machine (the peer must receive it first), and short enough for a test.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, ping())
		errc <- err
	}()
	req := peer.recv()
	err := <-errc
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call() = %v, want context.DeadlineExceeded", err)
	}

	// The late response is dropped without harm: the connection still serves requests, and
	// frames are handled in order, so the answer below proves the late one was read.
	peer.send(response(req.ID, empty()))
	peer.send(request(1, ping()))
	if m := peer.recv(); m.ID != 1 || m.Body.Error == nil || !errors.Is(m.Body.Error.Err(), ErrMethodNotSupported) {
		t.Fatalf("got %d %s, want ErrMethodNotSupported for request 1", m.ID, m.Body.Kind())
	}
	if err := c.Err(); err != nil {
		t.Fatalf("the connection ended: %v", err)
	}
}

func TestACancelledCallFailsWithContextCanceled(t *testing.T) {
	c, peer := newRawPeer(t, nil, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, ping())
		errc <- err
	}()
	peer.recv()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Call() = %v, want context.Canceled", err)
	}
	if _, err := c.Call(ctx, ping()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Call() with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestAHandlerErrorReachesTheCallerAsTheSameCodedError(t *testing.T) {
	ctx := testContext(t)
	handler := HandlerFunc(func(_ context.Context, b *messages.Body) (*messages.Body, error) {
		switch {
		case b.RuntimePingRequest != nil:
			return nil, fmt.Errorf("checking batch 7: %w", errTestFailure)
		case b.RuntimeAbortRequest != nil:
			return nil, errors.New("disk on fire")
		default:
			return ping(), nil // a request is not a response
		}
	})
	host, _ := pair(t, nil, handler, Config{})

	_, err := host.Call(ctx, ping())
	if !errors.Is(err, errTestFailure) {
		t.Fatalf("Call() = %v, want errTestFailure", err)
	}
	if !strings.Contains(err.Error(), "checking batch 7") {
		t.Errorf("Call() = %q lost the handler's detail", err)
	}

	_, err = host.Call(ctx, &messages.Body{RuntimeAbortRequest: &messages.RuntimeAbortRequest{}})
	if module, code := coded.Code(err); module != coded.UnknownModule || code != coded.UnknownCode || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Call() = %v (%s, %d), want the uncoded error's text as (unknown, 1)", err, module, code)
	}

	_, err = host.Call(ctx, &messages.Body{RuntimeShutdownRequest: &messages.RuntimeShutdownRequest{}})
	if !errors.Is(err, ErrInvalidResponse) {
		t.Errorf("Call() = %v, want ErrInvalidResponse for a handler answering with a request", err)
	}

	// A side with no handler refuses every request.
	_, rt := pair(t, nil, nil, Config{})
	if _, err := rt.Call(ctx, &messages.Body{HostLocalStorageGetRequest: &messages.HostLocalStorageGetRequest{}}); !errors.Is(err, ErrMethodNotSupported) {
		t.Errorf("Call() to a side without handler = %v, want ErrMethodNotSupported", err)
	}
}

func TestCallRejectsBodiesThatAreNotASingleRequest(t *testing.T) {
	ctx := testContext(t)
	host, _ := pair(t, nil, nil, Config{})
	if _, err := host.Call(ctx, &messages.Body{}); !errors.Is(err, messages.ErrMalformedMessage) {
		t.Errorf("Call(no body) = %v, want ErrMalformedMessage", err)
	}
	if _, err := host.Call(ctx, &messages.Body{RuntimePingRequest: &messages.RuntimePingRequest{}, Empty: &messages.Empty{}}); !errors.Is(err, messages.ErrMalformedMessage) {
		t.Errorf("Call(two fields) = %v, want ErrMalformedMessage", err)
	}
	if _, err := host.Call(ctx, empty()); err == nil {
		t.Error("Call(Empty) succeeded, want an error: Empty is not a request")
	}
	if err := host.Err(); err != nil {
		t.Errorf("a refused call ended the connection: %v", err)
	}
}

func TestARequestOverTheCapFailsLocallyAndLeavesTheConnectionOpen(t *testing.T) {
	ctx := testContext(t)
	host, _ := pair(t, nil, HandlerFunc(func(context.Context, *messages.Body) (*messages.Body, error) { return nil, nil }), Config{MaxFrameSize: 4096})
	big := &messages.Body{HostLocalStorageSetRequest: &messages.HostLocalStorageSetRequest{Key: []byte("k"), Value: make([]byte, 8192)}}
	if _, err := host.Call(ctx, big); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Call() = %v, want ErrFrameTooLarge", err)
	}
	if _, err := host.Call(ctx, ping()); err != nil {
		t.Fatalf("the next call failed: %v", err)
	}
}

func TestAResponseOverTheCapReachesTheCallerAsErrResponseTooLarge(t *testing.T) {
	ctx := testContext(t)
	handler := HandlerFunc(func(_ context.Context, b *messages.Body) (*messages.Body, error) {
		if b.RuntimeQueryRequest == nil {
			return nil, nil
		}
		return &messages.Body{RuntimeQueryResponse: &messages.RuntimeQueryResponse{Data: cbor.Marshal(make([]byte, 8192))}}, nil
	})
	host, _ := pair(t, nil, handler, Config{MaxFrameSize: 4096})
	_, err := host.Call(ctx, &messages.Body{RuntimeQueryRequest: &messages.RuntimeQueryRequest{Method: "big"}})
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("Call() = %v, want ErrResponseTooLarge", err)
	}
	if _, err := host.Call(ctx, ping()); err != nil {
		t.Fatalf("the next call failed: %v", err)
	}
}

func TestProtocolViolationsCloseTheConnectionWithAClearError(t *testing.T) {
	const maxFrame = 64 << 10
	twoFields := cbor.Marshal(map[string]any{"id": 1, "message_type": 1, "body": map[string]any{
		"runtime_ping_request": map[string]any{}, "runtime_abort_request": map[string]any{},
	}})
	cases := []struct {
		name  string
		bytes []byte
		want  error
		text  string
	}{
		{"a zero-length frame", frame(nil), ErrEmptyFrame, "empty frame"},
		{"a frame over the cap", []byte{0x00, 0x01, 0x00, 0x01}, ErrFrameTooLarge, "65537 bytes, cap is 65536"},
		{"a frame claiming 4 GiB", []byte{0xff, 0xff, 0xff, 0xff}, ErrFrameTooLarge, "4294967295 bytes"},
		{"text instead of frames", []byte("GET / HTTP/1.1\r\n\r\n"), ErrFrameTooLarge, "bytes"},
		{"a frame of bad CBOR", frame([]byte{0xff, 0xfe, 0xfd}), messages.ErrMalformedMessage, "malformed message"},
		{"a frame of random bytes", frame([]byte("\x9b\x00\x00\x00\x00\x00\x00\x00\x10garbage")), messages.ErrMalformedMessage, "malformed message"},
		{"an unknown body", frame(cbor.Marshal(map[string]any{"id": 1, "message_type": 1, "body": map[string]any{"runtime_fly_request": map[string]any{}}})), messages.ErrMalformedMessage, "runtime_fly_request"},
		{"a body with no field", frame(cbor.Marshal(map[string]any{"id": 1, "message_type": 1, "body": map[string]any{}})), messages.ErrMalformedMessage, "0 fields"},
		{"a body with two fields", frame(twoFields), messages.ErrMalformedMessage, "2 fields"},
		{"a response to a request never sent", frame(messages.EncodeMessage(response(5, empty()))), ErrUnexpectedResponse, "request 5"},
		{"a stream cut inside a frame", frame([]byte{0xa0, 0xa0, 0xa0})[:5], io.ErrUnexpectedEOF, "unexpected EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, peer := newRawPeer(t, nil, Config{MaxFrameSize: maxFrame})
			ctx := testContext(t)
			errc := make(chan error, 1)
			go func() {
				_, err := conn.Call(ctx, ping())
				errc <- err
			}()
			peer.recv() // the call is pending
			peer.write(c.bytes)
			if c.want == io.ErrUnexpectedEOF {
				_ = peer.conn.Close()
			}
			err := waitDone(t, conn)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("Err() = %v, want %v mentioning %q", err, c.want, c.text)
			}
			callErr := <-errc
			if !errors.Is(callErr, ErrClosed) || !errors.Is(callErr, c.want) {
				t.Fatalf("pending Call() = %v, want ErrClosed wrapping %v", callErr, c.want)
			}
		})
	}
}

func TestThePeerClosingMidCallFailsTheCallPromptly(t *testing.T) {
	c, peer := newRawPeer(t, nil, Config{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), ping())
		errc <- err
	}()
	peer.recv()
	_ = peer.conn.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "peer closed") {
		t.Fatalf("Call() = %v, want ErrClosed saying the peer closed", err)
	}
	if err := waitDone(t, c); !errors.Is(err, ErrClosed) {
		t.Fatalf("Err() = %v, want ErrClosed", err)
	}
}

func TestClosingOneSideFailsTheOtherSidesCallsAndCancelsItsOwnHandlers(t *testing.T) {
	handlerCancelled := make(chan struct{})
	entered := make(chan struct{})
	handler := HandlerFunc(func(ctx context.Context, _ *messages.Body) (*messages.Body, error) {
		close(entered)
		<-ctx.Done()
		close(handlerCancelled)
		return nil, ctx.Err()
	})
	host, rt := pair(t, nil, handler, Config{})
	errc := make(chan error, 1)
	go func() {
		_, err := host.Call(context.Background(), ping())
		errc <- err
	}()
	<-entered
	if err := rt.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	select {
	case <-handlerCancelled:
	default:
		t.Fatal("Close returned before the running handler saw its context cancelled")
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("the host's pending Call() = %v, want ErrClosed", err)
	}
	if err := rt.Err(); err != ErrClosed { // exactly the sentinel
		t.Fatalf("Err() after Close = %v, want ErrClosed", err)
	}
}

func TestCloseFailsPendingAndLaterCallsWithErrClosedAndIsIdempotent(t *testing.T) {
	c, peer := newRawPeer(t, nil, Config{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), ping())
		errc <- err
	}()
	peer.recv()
	if err := c.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("pending Call() = %v, want ErrClosed", err)
	}
	if _, err := c.Call(context.Background(), ping()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Call() after Close = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close() = %v", err)
	}
}
