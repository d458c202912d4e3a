package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ShutdownGrace is how long Serve waits for calls in flight once its context is done, before
// it cancels them.
const ShutdownGrace = 5 * time.Second

// ServerConfig configures a Server.
type ServerConfig struct {
	// Logger receives failed calls at debug level. Nil discards them.
	Logger *slog.Logger
	// TLS, when set, makes the server speak TLS; nil serves plaintext (for the Unix socket,
	// which file permissions protect).
	TLS *tls.Config
}

// Server serves a fixed set of methods.
type Server struct {
	grpc   *grpc.Server
	logger *slog.Logger
}

// NewServer returns a server for methods, grouped into gRPC services by their service name.
// Declaring one method twice is an error.
func NewServer(cfg ServerConfig, methods ...Method) (*Server, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.ChainUnaryInterceptor(logUnary(logger)),
		grpc.ChainStreamInterceptor(logStream(logger)),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	descs := make(map[string]*grpc.ServiceDesc)
	seen := make(map[string]bool)
	for _, m := range methods {
		full := "/" + m.service + "/" + m.name
		if seen[full] {
			return nil, fmt.Errorf("rpc: method %s declared twice", full)
		}
		seen[full] = true
		d := descs[m.service]
		if d == nil {
			// HandlerType is a pointer to an empty interface: handlers are closures, so there
			// is no service implementation for gRPC to check.
			d = &grpc.ServiceDesc{ServiceName: m.service, HandlerType: (*any)(nil)}
			descs[m.service] = d
		}
		if m.unary != nil {
			d.Methods = append(d.Methods, grpc.MethodDesc{MethodName: m.name, Handler: m.unary})
		} else {
			d.Streams = append(d.Streams, grpc.StreamDesc{StreamName: m.name, Handler: m.stream, ServerStreams: true})
		}
	}
	names := make([]string, 0, len(descs))
	for n := range descs {
		names = append(names, n)
	}
	sort.Strings(names)
	srv := grpc.NewServer(opts...)
	for _, n := range names {
		srv.RegisterService(descs[n], nil)
	}
	return &Server{grpc: srv, logger: logger}, nil
}

// Serve serves on lis until ctx is done, then stops: calls in flight get ShutdownGrace to
// finish before they are cancelled. It closes lis and returns nil after a stop through ctx,
// or the listener's error. A Server serves once.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(lis) }()
	select {
	case err := <-errc:
		s.grpc.Stop()
		if errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return fmt.Errorf("rpc: serving on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(ShutdownGrace)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		s.grpc.Stop()
		<-stopped
	}
	<-errc
	return nil
}

func logUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if err != nil && logger.Enabled(ctx, slog.LevelDebug) {
			logger.Debug("call failed", "method", info.FullMethod, "err", err)
		}
		return resp, err
	}
}

func logStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		err := h(srv, ss)
		if err != nil && logger.Enabled(ss.Context(), slog.LevelDebug) {
			logger.Debug("stream failed", "method", info.FullMethod, "err", err)
		}
		return err
	}
}
