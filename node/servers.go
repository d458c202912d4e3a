package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/atoll-project/atoll/consensus/cometbft"
	"github.com/atoll-project/atoll/rpc"
)

// listeners are the node's open listeners; nil ones are disabled.
type listeners struct {
	unix, tcp, metrics net.Listener
}

// listen opens every configured listener, so that a taken port fails the start at once.
func (n *Node) listen() (l *listeners, err error) {
	l = &listeners{}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	if path := n.cfg.UnixSocket(); path != "" {
		if l.unix, err = rpc.ListenUnix(path); err != nil {
			return nil, fmt.Errorf("node: gRPC socket: %w", err)
		}
	}
	if addr := n.cfg.GRPC.TCP.Listen; addr != "" {
		if l.tcp, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("node: gRPC TCP listener: %w", err)
		}
	}
	if addr := n.cfg.Metrics.Listen; addr != "" {
		if l.metrics, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("node: metrics listener: %w", err)
		}
	}
	return l, nil
}

// close closes the listeners no server has taken over; closing twice is harmless.
func (l *listeners) close() {
	for _, x := range []net.Listener{l.unix, l.tcp, l.metrics} {
		if x != nil {
			_ = x.Close()
		}
	}
}

// server is one component served until its context is done.
type server struct {
	name  string
	serve func(context.Context) error
}

// servers builds the gRPC and metrics servers on the open listeners.
func (n *Node) servers(cmt *cometbft.Node, app *App, lis *listeners) ([]server, error) {
	methods := nodeMethods(n, cmt)
	if app.Methods != nil {
		methods = append(methods, app.Methods(cmt)...)
	}
	grpcLogger := n.logger.With("module", "grpc")
	var out []server
	if lis.unix != nil {
		s, err := rpc.NewServer(rpc.ServerConfig{Logger: grpcLogger}, methods...)
		if err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
		out = append(out, server{name: "gRPC socket", serve: func(ctx context.Context) error { return s.Serve(ctx, lis.unix) }})
	}
	if lis.tcp != nil {
		cert, err := n.tlsCertificate()
		if err != nil {
			return nil, err
		}
		s, err := rpc.NewServer(rpc.ServerConfig{Logger: grpcLogger, TLS: rpc.ServerTLS(cert)}, methods...)
		if err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
		out = append(out, server{name: "gRPC TCP", serve: func(ctx context.Context) error { return s.Serve(ctx, lis.tcp) }})
	}
	if lis.metrics != nil {
		reg, err := newRegistry(cmt)
		if err != nil {
			return nil, err
		}
		if err := reg.Register(collectors.NewGoCollector()); err != nil {
			return nil, fmt.Errorf("node: registering metrics: %w", err)
		}
		if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, fmt.Errorf("node: registering metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		out = append(out, server{name: "metrics", serve: func(ctx context.Context) error {
			return serveHTTP(ctx, hs, lis.metrics)
		}})
	}
	return out, nil
}

// tlsCertificate returns the configured certificate, or a self-signed one for the node's TLS
// key.
func (n *Node) tlsCertificate() (tls.Certificate, error) {
	t := n.cfg.GRPC.TCP.TLS
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("node: gRPC TLS certificate: %w", err)
		}
		return cert, nil
	}
	id, err := LoadIdentity(n.cfg.DataDir)
	if err != nil {
		return tls.Certificate{}, err
	}
	defer id.Reset()
	cert, err := rpc.SelfSignedCertificate(id.TLSPrivateKey())
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: %w", err)
	}
	return cert, nil
}

func serveHTTP(ctx context.Context, hs *http.Server, lis net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), rpc.ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
