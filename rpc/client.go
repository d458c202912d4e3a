package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// DefaultCallTimeout is the deadline of a call whose context has none.
const DefaultCallTimeout = 30 * time.Second

// ClientConfig configures a Client.
type ClientConfig struct {
	// CallTimeout is the deadline of calls whose context has none; zero means
	// DefaultCallTimeout.
	CallTimeout time.Duration
}

// Client is a connection to a node's gRPC API. It connects lazily, reconnects as needed, and is
// safe for concurrent use. Its owner closes it.
type Client struct {
	conn    *grpc.ClientConn
	target  string
	timeout time.Duration
}

// DialUnix returns a client of the server on the Unix socket at path.
func DialUnix(path string, cfg ClientConfig) (*Client, error) {
	return dial("unix:"+path, insecure.NewCredentials(), cfg)
}

// DialTLS returns a client of the TLS server at addr (host:port).
func DialTLS(addr string, tlsCfg *tls.Config, cfg ClientConfig) (*Client, error) {
	return dial("dns:///"+addr, credentials.NewTLS(tlsCfg), cfg)
}

func dial(target string, creds credentials.TransportCredentials, cfg ClientConfig) (*Client, error) {
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(
			grpc.CallContentSubtype(CodecName),
			grpc.MaxCallRecvMsgSize(MaxMessageSize),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("rpc: dialing %s: %w", target, err)
	}
	timeout := cfg.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	return &Client{conn: conn, target: target, timeout: timeout}, nil
}

// Target returns the address the client dials.
func (c *Client) Target() string { return c.target }

// Close closes the connection; calls in flight fail.
func (c *Client) Close() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("rpc: closing %s: %w", c.target, err)
	}
	return nil
}

func (c *Client) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

func (c *Client) invoke(ctx context.Context, method string, req, resp any) error {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	var trailer metadata.MD
	if err := c.conn.Invoke(ctx, method, req, resp, grpc.Trailer(&trailer)); err != nil {
		return fromStatus(method, err, trailer)
	}
	return nil
}

func (c *Client) stream(ctx context.Context, method, name string, req any, recv func(dec func(any) error) error) error {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	desc := &grpc.StreamDesc{StreamName: name, ServerStreams: true}
	s, err := c.conn.NewStream(ctx, desc, method)
	if err != nil {
		return fromStatus(method, err, nil)
	}
	if err := s.SendMsg(req); err != nil {
		if errors.Is(err, io.EOF) {
			// The server ended the stream; RecvMsg returns its status.
			err = s.RecvMsg(new(struct{}))
			return fromStatus(method, err, s.Trailer())
		}
		return fromStatus(method, err, s.Trailer())
	}
	if err := s.CloseSend(); err != nil {
		return fromStatus(method, err, s.Trailer())
	}
	for {
		var recvErr error
		err := recv(func(v any) error {
			recvErr = s.RecvMsg(v)
			return recvErr
		})
		switch {
		case err == nil:
		case recvErr == nil:
			// recv refused a value: the caller's error, as is.
			return err
		case errors.Is(recvErr, io.EOF):
			return nil
		default:
			return fromStatus(method, recvErr, s.Trailer())
		}
	}
}
