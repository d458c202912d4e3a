package protocol

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// failAfter bounds how long a test waits for something that should happen at once; it is a
// guard against hangs, never a way to let something happen.
const failAfter = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	t.Cleanup(cancel)
	return ctx
}

// pair connects a host and a runtime over an in-memory pipe; both are closed at cleanup.
func pair(t *testing.T, hostHandler, runtimeHandler Handler, cfg Config) (host, rt *Connection) {
	t.Helper()
	a, b := net.Pipe()
	host = NewConnection(a, hostHandler, cfg)
	rt = NewConnection(b, runtimeHandler, cfg)
	t.Cleanup(func() {
		_ = host.Close()
		_ = rt.Close()
	})
	return host, rt
}

// rawPeer is the far end of a Connection driven by hand, frame by frame.
type rawPeer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// newRawPeer returns a Connection and a raw peer at its other end; both are closed at cleanup.
func newRawPeer(t *testing.T, handler Handler, cfg Config) (*Connection, *rawPeer) {
	t.Helper()
	a, b := net.Pipe()
	c := NewConnection(a, handler, cfg)
	p := &rawPeer{t: t, conn: b, r: bufio.NewReader(b)}
	t.Cleanup(func() {
		_ = b.Close()
		_ = c.Close()
	})
	return c, p
}

// write sends raw bytes; errors are ignored, since the Connection may close mid-write.
func (p *rawPeer) write(b []byte) { _, _ = p.conn.Write(b) }

func (p *rawPeer) send(m *messages.Message) {
	p.t.Helper()
	if err := WriteFrame(p.conn, messages.EncodeMessage(m), 0); err != nil {
		p.t.Fatalf("raw peer: sending: %v", err)
	}
}

func (p *rawPeer) recv() *messages.Message {
	p.t.Helper()
	if err := p.conn.SetReadDeadline(time.Now().Add(failAfter)); err != nil {
		p.t.Fatal(err)
	}
	payload, err := ReadFrame(p.r, 0)
	if err != nil {
		p.t.Fatalf("raw peer: receiving: %v", err)
	}
	m, err := messages.DecodeMessage(payload, DefaultMaxFrameSize)
	if err != nil {
		p.t.Fatalf("raw peer: decoding: %v", err)
	}
	return m
}

func frame(payload []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	return append(out, payload...)
}

func waitDone(t *testing.T, c *Connection) error {
	t.Helper()
	select {
	case <-c.Done():
		return c.Err()
	case <-time.After(failAfter):
		t.Fatal("the connection did not end")
		return nil
	}
}

func ping() *messages.Body { return &messages.Body{RuntimePingRequest: &messages.RuntimePingRequest{}} }

func request(id uint64, body *messages.Body) *messages.Message {
	return &messages.Message{ID: id, MessageType: messages.MessageTypeRequest, Body: *body}
}

func response(id uint64, body *messages.Body) *messages.Message {
	return &messages.Message{ID: id, MessageType: messages.MessageTypeResponse, Body: *body}
}

func empty() *messages.Body { return &messages.Body{Empty: &messages.Empty{}} }
