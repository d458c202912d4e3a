// Package protocol implements the Runtime Host Protocol (DESIGN.md §6): frames over a stream
// socket and a Connection that multiplexes requests in both directions between a node (the
// host) and a runtime it runs in a sandbox. The wire types are in package messages.
//
// Framing: every message is `u32 big-endian length || canonical CBOR`; the length is checked
// against a cap (DefaultMaxFrameSize unless configured) before anything is allocated.
//
// Connection contract:
//   - Either side calls Call with a request body and gets the peer's response; request IDs are
//     per direction and responses are matched by ID, so any number of calls may be in flight
//     both ways at once.
//   - Incoming requests go to the Handler on a fixed number of goroutines
//     (Config.MaxConcurrentRequests); up to Config.MaxQueuedRequests more wait for one, and
//     beyond that a request is answered with ErrBusy. A Handler that calls back into its peer
//     must not depend on the peer calling back in turn, or enough such calls exhaust the bound.
//   - Errors returned by a Handler reach the caller as coded errors (common/errors): errors.Is
//     holds there for every registered error.
//   - Anything the peer sends that breaks the protocol (a zero-length or oversized frame, bad
//     CBOR, a body without exactly one known field, a response to an ID never sent) ends the
//     connection with an error saying why; so does the peer closing it. Done and Err expose
//     the end and its cause; calls pending then fail with ErrClosed wrapping that cause.
//   - Close ends the connection from this side and waits for its goroutines, including
//     running handlers (whose context it cancels). It must not be called from a Handler.
package protocol

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

const (
	// DefaultMaxConcurrentRequests is how many incoming requests are handled at once unless
	// configured.
	DefaultMaxConcurrentRequests = 16
	// DefaultMaxQueuedRequests is how many incoming requests may wait for a handler unless
	// configured.
	DefaultMaxQueuedRequests = 1024

	// MinFrameSize is the smallest frame cap a Connection accepts, so that an error response
	// always fits.
	MinFrameSize = 1 << 10

	readBufferSize  = 64 << 10
	writeBufferSize = 64 << 10
	// outQueueSize bounds frames waiting for the writer; senders block beyond it.
	outQueueSize = 256
	// maxPooledFrame is the largest frame buffer kept for reuse once written.
	maxPooledFrame = 4 << 20
)

// Handler serves the requests the peer sends. Handle is called concurrently; it returns the
// response body, or an error that is sent as an Error body. A nil body with a nil error is
// answered with Empty. ctx is cancelled when the connection ends; Handle must then return
// promptly.
type Handler interface {
	Handle(ctx context.Context, body *messages.Body) (*messages.Body, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, body *messages.Body) (*messages.Body, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	return f(ctx, body)
}

// Config tunes a Connection; the zero value gives the defaults.
type Config struct {
	// MaxFrameSize caps frame payloads in both directions (DefaultMaxFrameSize when 0, at
	// least MinFrameSize).
	MaxFrameSize int
	// MaxConcurrentRequests is how many incoming requests are handled at once
	// (DefaultMaxConcurrentRequests when 0).
	MaxConcurrentRequests int
	// MaxQueuedRequests is how many incoming requests may wait for a handler
	// (DefaultMaxQueuedRequests when 0).
	MaxQueuedRequests int
}

func (c Config) withDefaults() Config {
	c.MaxFrameSize = max(normalizeMaxFrameSize(c.MaxFrameSize), MinFrameSize)
	if c.MaxConcurrentRequests <= 0 {
		c.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	if c.MaxQueuedRequests <= 0 {
		c.MaxQueuedRequests = DefaultMaxQueuedRequests
	}
	return c
}

// Connection is one end of a Runtime Host Protocol stream. It is safe for concurrent use.
type Connection struct {
	rwc      io.ReadWriteCloser
	handler  Handler
	maxFrame int

	// lastID is the last request ID this side issued.
	lastID  atomic.Uint64
	mu      sync.Mutex
	pending map[uint64]chan *messages.Body

	out      chan []byte
	incoming chan *messages.Message
	// frames holds written frames' buffers (*[]byte) for the next encode.
	frames sync.Pool

	closing      chan struct{}
	closeOnce    sync.Once
	cause        error // written once, before closing is closed
	closeErr     error // from rwc.Close, written with cause
	stopHandlers context.CancelFunc
	wg           sync.WaitGroup
}

// NewConnection starts a connection over rwc, which it owns from then on and closes when the
// connection ends. Requests from the peer go to handler; a nil handler answers every request
// with ErrMethodNotSupported.
func NewConnection(rwc io.ReadWriteCloser, handler Handler, cfg Config) *Connection {
	cfg = cfg.withDefaults()
	c := &Connection{
		rwc:      rwc,
		handler:  handler,
		maxFrame: cfg.MaxFrameSize,
		pending:  make(map[uint64]chan *messages.Body),
		out:      make(chan []byte, outQueueSize),
		incoming: make(chan *messages.Message, cfg.MaxQueuedRequests),
		closing:  make(chan struct{}),
	}
	// The handlers' context lives in their goroutines' arguments; Close cancels it.
	ctx, cancel := context.WithCancel(context.Background())
	c.stopHandlers = cancel
	c.wg.Add(2 + cfg.MaxConcurrentRequests)
	go c.readLoop()
	go c.writeLoop()
	for range cfg.MaxConcurrentRequests {
		go c.serveLoop(ctx)
	}
	return c
}

// Call sends a request and waits for its response. A response carrying an Error is returned as
// that error (errors.Is matches registered coded errors). Call returns early with ctx's error
// wrapped when ctx ends first (a late response is then dropped), and with ErrClosed wrapped
// when the connection ends first. A request over the frame cap fails with ErrFrameTooLarge
// without being sent.
func (c *Connection) Call(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	if err := body.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("protocol: call: %w", err)
	}
	kind := body.Kind()
	if !body.IsRequest() {
		return nil, fmt.Errorf("protocol: call with %s, which is not a request", kind)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("protocol: call %s: %w", kind, err)
	}
	id := c.lastID.Add(1)
	frame, err := c.encode(&messages.Message{ID: id, MessageType: messages.MessageTypeRequest, Body: *body})
	if err != nil {
		return nil, fmt.Errorf("protocol: call %s: %w", kind, err)
	}
	ch := make(chan *messages.Body, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()

	select {
	case c.out <- frame:
	case <-ctx.Done():
		c.forget(id)
		return nil, fmt.Errorf("protocol: call %s (id %d): %w", kind, id, ctx.Err())
	case <-c.closing:
		c.forget(id)
		return nil, c.closedError()
	}

	select {
	case resp := <-ch:
		return callResult(resp)
	case <-ctx.Done():
		c.forget(id)
		return nil, fmt.Errorf("protocol: call %s (id %d): %w", kind, id, ctx.Err())
	case <-c.closing:
		c.forget(id)
		select {
		case resp := <-ch: // answered just before the end
			return callResult(resp)
		default:
			return nil, c.closedError()
		}
	}
}

func callResult(resp *messages.Body) (*messages.Body, error) {
	if resp.Error != nil {
		return nil, resp.Error.Err()
	}
	return resp, nil
}

func (c *Connection) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Done returns a channel closed when the connection has ended, for whatever reason.
func (c *Connection) Done() <-chan struct{} { return c.closing }

// Err returns nil while the connection is open and why it ended afterwards: ErrClosed when this
// side closed it, ErrClosed wrapping a description when the peer did, or the protocol error
// that ended it.
func (c *Connection) Err() error {
	select {
	case <-c.closing:
		return c.cause
	default:
		return nil
	}
}

// Close ends the connection, fails pending calls with ErrClosed, cancels running handlers and
// waits until every goroutine of the connection has returned, so it must not be called from a
// Handler (which can instead return and let its owner close, or close from a new goroutine).
// Call it even after Done: it is what waits for the goroutines to finish. It is idempotent; it returns
// the error of closing the underlying stream when this side ended the connection.
func (c *Connection) Close() error {
	c.fail(ErrClosed)
	c.wg.Wait()
	if c.cause == ErrClosed { // identity, not errors.Is: this side ended the connection
		return c.closeErr
	}
	return nil
}

// fail ends the connection with cause; only the first cause is kept.
func (c *Connection) fail(cause error) {
	c.closeOnce.Do(func() {
		c.cause = cause
		c.closeErr = c.rwc.Close()
		close(c.closing)
		c.stopHandlers()
	})
}

// closedError is what calls get once the connection has ended.
func (c *Connection) closedError() error {
	if errors.Is(c.cause, ErrClosed) {
		return c.cause
	}
	return fmt.Errorf("%w: %w", ErrClosed, c.cause)
}

// encode returns m as a frame, or ErrFrameTooLarge. The frame's buffer may be one the writer
// has released (see release).
func (c *Connection) encode(m *messages.Message) ([]byte, error) {
	var buf []byte
	if p, ok := c.frames.Get().(*[]byte); ok {
		buf = (*p)[:0]
	}
	frame := messages.AppendMessage(append(buf, make([]byte, frameHeaderSize)...), m)
	if err := checkPayloadSize(len(frame)-frameHeaderSize, c.maxFrame); err != nil {
		c.release(frame)
		return nil, fmt.Errorf("%s: %w", m.Body.Kind(), err)
	}
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-frameHeaderSize))
	return frame, nil
}

// release gives the buffer of a frame nothing refers to any more (it has been written, or
// will not be) back for reuse by encode.
func (c *Connection) release(frame []byte) {
	if cap(frame) <= maxPooledFrame {
		c.frames.Put(&frame)
	}
}

func (c *Connection) readLoop() {
	defer c.wg.Done()
	r := bufio.NewReaderSize(c.rwc, readBufferSize)
	for {
		payload, err := ReadFrame(r, c.maxFrame)
		if err != nil {
			c.fail(c.readError(err))
			return
		}
		// ReadFrame returns a new buffer for every frame and nothing else keeps payload, so
		// the message may share its memory (as DecodeMessage's decoded byte strings do).
		msg, err := messages.DecodeMessage(payload, c.maxFrame)
		if err != nil {
			c.fail(fmt.Errorf("protocol: peer sent a malformed message: %w", err))
			return
		}
		switch msg.MessageType {
		case messages.MessageTypeRequest:
			c.accept(msg)
		case messages.MessageTypeResponse:
			if err := c.deliver(msg); err != nil {
				c.fail(err)
				return
			}
		}
	}
}

func (c *Connection) readError(err error) error {
	select {
	case <-c.closing:
		return ErrClosed // this side closed the stream under the reader
	default:
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: peer closed the connection", ErrClosed)
	}
	return fmt.Errorf("protocol: reading from peer: %w", err)
}

// accept queues an incoming request for a handler, or answers ErrBusy when the queue is full.
func (c *Connection) accept(msg *messages.Message) {
	select {
	case c.incoming <- msg:
	default:
		c.respond(msg.ID, &messages.Body{Error: messages.NewError(fmt.Errorf("%w: %s dropped, %d requests queued",
			ErrBusy, msg.Body.Kind(), cap(c.incoming)))})
	}
}

// deliver hands a response to its caller. A response to an ID this side issued but no longer
// waits for (the caller gave up) is dropped; one to an ID never issued is a protocol error.
func (c *Connection) deliver(msg *messages.Message) error {
	c.mu.Lock()
	ch, ok := c.pending[msg.ID]
	delete(c.pending, msg.ID)
	c.mu.Unlock()
	if ok {
		ch <- &msg.Body
		return nil
	}
	if msg.ID != 0 && msg.ID <= c.lastID.Load() {
		return nil
	}
	return fmt.Errorf("%w: peer answered request %d with %s, but only %d requests were sent",
		ErrUnexpectedResponse, msg.ID, msg.Body.Kind(), c.lastID.Load())
}

func (c *Connection) serveLoop(ctx context.Context) {
	defer c.wg.Done()
	for {
		select {
		case msg := <-c.incoming:
			c.respond(msg.ID, c.serve(ctx, &msg.Body))
		case <-c.closing:
			return
		}
	}
}

// serve runs the handler and turns its outcome into a single response body.
func (c *Connection) serve(ctx context.Context, req *messages.Body) *messages.Body {
	if c.handler == nil {
		return &messages.Body{Error: messages.NewError(fmt.Errorf("%w: %s", ErrMethodNotSupported, req.Kind()))}
	}
	resp, err := c.handler.Handle(ctx, req)
	switch {
	case err != nil:
		return &messages.Body{Error: messages.NewError(err)}
	case resp == nil:
		return &messages.Body{Empty: &messages.Empty{}}
	}
	if err := resp.ValidateBasic(); err != nil {
		return &messages.Body{Error: messages.NewError(fmt.Errorf("%w to %s: %w", ErrInvalidResponse, req.Kind(), err))}
	}
	if resp.IsRequest() {
		return &messages.Body{Error: messages.NewError(fmt.Errorf("%w to %s: %s is a request", ErrInvalidResponse, req.Kind(), resp.Kind()))}
	}
	return resp
}

// respond queues a response; one over the frame cap is replaced by ErrResponseTooLarge.
func (c *Connection) respond(id uint64, body *messages.Body) {
	m := &messages.Message{ID: id, MessageType: messages.MessageTypeResponse, Body: *body}
	frame, err := c.encode(m)
	if err != nil {
		m.Body = messages.Body{Error: messages.NewError(fmt.Errorf("%w: %w", ErrResponseTooLarge, err))}
		if frame, err = c.encode(m); err != nil {
			// The replacement is a short error and the cap at least MinFrameSize.
			panic(fmt.Sprintf("protocol: an error response does not fit in a frame: %v", err))
		}
	}
	select {
	case c.out <- frame:
	case <-c.closing:
	}
}

func (c *Connection) writeLoop() {
	defer c.wg.Done()
	w := bufio.NewWriterSize(c.rwc, writeBufferSize)
	for {
		select {
		case frame := <-c.out:
			if err := c.writeQueued(w, frame); err != nil {
				select {
				case <-c.closing:
					c.fail(ErrClosed)
				default:
					c.fail(fmt.Errorf("protocol: writing to peer: %w", err))
				}
				return
			}
		case <-c.closing:
			return
		}
	}
}

// writeQueued writes frame and whatever else is queued, then flushes, so that a burst of
// frames costs one system call rather than one each. A frame's buffer is released once
// written: the bufio.Writer has then either sent it or copied it.
func (c *Connection) writeQueued(w *bufio.Writer, frame []byte) error {
	for {
		if _, err := w.Write(frame); err != nil {
			return err
		}
		c.release(frame)
		select {
		case frame = <-c.out:
			continue
		default:
		}
		return w.Flush()
	}
}
