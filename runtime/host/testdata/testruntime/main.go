// Command testruntime is a runtime built for the host's tests: it speaks the Runtime Host
// Protocol and misbehaves on purpose as the host's local config says.
//
// Its bundle holds testruntime.json: {"id": hex runtime ID, "version": "x.y.z"}, the runtime
// it is and the version it reports. The local config the host sends in the handshake is CBOR
// {"mode": ..., "n": N, "report_version": "x.y.z" (overrides the version)}. Modes:
//
//	healthy            answers every request
//	crash-after        exits with status 3 on the query after the first N
//	hang               the query "hang" (and any abort request) never returns
//	abortable          the query "hang" returns once the host sends an abort request
//	flood              the query "flood" makes it write garbage on the socket
//	deaf               never answers a ping
//	exit-in-handshake  exits with status 4 when the handshake request arrives
//	wrong-id           refuses the handshake: it is built for another runtime
//	wrong-major        answers the handshake with another protocol major
//	tee                announces the TEE capability and serves RAK init and report with the
//	                   INSECURE mock enclave
//
// Queries besides those: "version" returns the version string; "echo" its arguments;
// "local-set" and "local-get" round-trip the host's local storage (args: cbor [key, value]
// or cbor key).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/host/sandbox"
	"github.com/atoll-project/atoll/runtime/host/tee"
)

type bundleConfig struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

type localConfig struct {
	Mode          string `cbor:"mode"`
	N             int    `cbor:"n,omitempty"`
	ReportVersion string `cbor:"report_version,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testruntime:", err)
		os.Exit(1)
	}
}

func run() error {
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(os.Args[0]), "testruntime.json"))
	if err != nil {
		return err
	}
	var cfg bundleConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	id, err := namespace.FromHex(cfg.ID)
	if err != nil {
		return err
	}
	v, err := version.Parse(cfg.Version)
	if err != nil {
		return err
	}
	c, err := net.Dial("unix", os.Getenv(sandbox.SocketEnv))
	if err != nil {
		return err
	}
	rt := &runtime{id: id, version: v, raw: c, abort: make(chan struct{}, 1), enclave: tee.NewMockEnclave(id, nil), connSet: make(chan struct{})}
	handshake := protocol.ServeHandshake(rt.info, rt)
	rt.conn = protocol.NewConnection(c, protocol.HandlerFunc(func(ctx context.Context, b *messages.Body) (*messages.Body, error) {
		if req := b.RuntimeInfoRequest; req != nil && modeOf(req) == "wrong-major" {
			pv := messages.ProtocolVersion
			pv.Major++
			return &messages.Body{RuntimeInfoResponse: &messages.RuntimeInfoResponse{ProtocolVersion: pv, RuntimeVersion: v}}, nil
		}
		return handshake.Handle(ctx, b)
	}), protocol.Config{})
	close(rt.connSet)
	<-rt.conn.Done()
	return nil
}

func modeOf(req *messages.RuntimeInfoRequest) string {
	var lc localConfig
	_ = cbor.Unmarshal(req.LocalConfig, &lc)
	return lc.Mode
}

type runtime struct {
	cfg     localConfig // set by the handshake
	id      namespace.Namespace
	version version.Version
	raw     net.Conn
	conn    *protocol.Connection // set before connSet is closed
	connSet chan struct{}
	abort   chan struct{}
	enclave *tee.MockEnclave

	mu      sync.Mutex
	queries int
}

func (rt *runtime) info(_ context.Context, req *messages.RuntimeInfoRequest) (*messages.RuntimeInfoResponse, error) {
	if len(req.LocalConfig) > 0 {
		if err := cbor.Unmarshal(req.LocalConfig, &rt.cfg); err != nil {
			return nil, fmt.Errorf("testruntime: local config: %w", err)
		}
	}
	if rt.cfg.ReportVersion != "" {
		v, err := version.Parse(rt.cfg.ReportVersion)
		if err != nil {
			return nil, err
		}
		rt.version = v
	}
	switch rt.cfg.Mode {
	case "exit-in-handshake":
		os.Exit(4)
	case "wrong-id":
		return nil, fmt.Errorf("testruntime: this is runtime %s, the host asked for %s", rt.id, req.RuntimeID)
	}
	if req.RuntimeID != rt.id {
		return nil, fmt.Errorf("testruntime: this is runtime %s, the host asked for %s", rt.id, req.RuntimeID)
	}
	return &messages.RuntimeInfoResponse{RuntimeVersion: rt.version, Features: messages.Features{CapabilityTEE: rt.cfg.Mode == "tee"}}, nil
}

func (rt *runtime) Handle(ctx context.Context, b *messages.Body) (*messages.Body, error) {
	switch {
	case b.RuntimePingRequest != nil:
		if rt.cfg.Mode == "deaf" {
			select {} // never answers the watchdog
		}
		return nil, nil
	case b.RuntimeShutdownRequest != nil:
		os.Exit(0)
	case b.RuntimeAbortRequest != nil:
		if rt.cfg.Mode == "hang" {
			select {} // ignores aborts too
		}
		select {
		case rt.abort <- struct{}{}:
		default:
		}
		return nil, nil
	case b.RuntimeQueryRequest != nil:
		return rt.query(ctx, b.RuntimeQueryRequest)
	case b.RuntimeCapabilityTEERakInitRequest != nil && rt.cfg.Mode == "tee":
		return nil, rt.enclave.InitRAK(b.RuntimeCapabilityTEERakInitRequest)
	case b.RuntimeCapabilityTEERakReportRequest != nil && rt.cfg.Mode == "tee":
		r, err := rt.enclave.Report()
		if err != nil {
			return nil, err
		}
		return &messages.Body{RuntimeCapabilityTEERakReportResponse: r}, nil
	}
	return nil, fmt.Errorf("%w: %s", protocol.ErrMethodNotSupported, b.Kind())
}

func (rt *runtime) query(ctx context.Context, q *messages.RuntimeQueryRequest) (*messages.Body, error) {
	<-rt.connSet // the first requests can arrive before NewConnection has returned
	rt.mu.Lock()
	rt.queries++
	n := rt.queries
	rt.mu.Unlock()
	if rt.cfg.Mode == "crash-after" && n > rt.cfg.N {
		os.Exit(3)
	}
	var out any
	switch {
	case q.Method == "hang" && rt.cfg.Mode == "hang":
		select {}
	case q.Method == "hang" && rt.cfg.Mode == "abortable":
		select {
		case <-rt.abort:
			return nil, errors.New("testruntime: aborted")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case q.Method == "flood" && rt.cfg.Mode == "flood":
		garbage := make([]byte, 64<<10)
		for i := range garbage {
			garbage[i] = 0xff
		}
		for {
			if _, err := rt.raw.Write(garbage); err != nil {
				os.Exit(5)
			}
		}
	case q.Method == "version":
		out = rt.version.String()
	case q.Method == "echo":
		return &messages.Body{RuntimeQueryResponse: &messages.RuntimeQueryResponse{Data: q.Args}}, nil
	case q.Method == "local-set":
		var kv [][]byte
		if err := cbor.Unmarshal(q.Args, &kv); err != nil || len(kv) != 2 {
			return nil, fmt.Errorf("testruntime: local-set wants [key, value]: %v", err)
		}
		if _, err := rt.conn.Call(ctx, &messages.Body{HostLocalStorageSetRequest: &messages.HostLocalStorageSetRequest{Key: kv[0], Value: kv[1]}}); err != nil {
			return nil, err
		}
		out = "ok"
	case q.Method == "local-get":
		var key []byte
		if err := cbor.Unmarshal(q.Args, &key); err != nil {
			return nil, err
		}
		resp, err := rt.conn.Call(ctx, &messages.Body{HostLocalStorageGetRequest: &messages.HostLocalStorageGetRequest{Key: key}})
		if err != nil {
			return nil, err
		}
		if resp.HostLocalStorageGetResponse == nil {
			return nil, fmt.Errorf("testruntime: local-get answered with %s", resp.Kind())
		}
		out = resp.HostLocalStorageGetResponse.Value
	default:
		return nil, fmt.Errorf("%w: query %q", protocol.ErrMethodNotSupported, q.Method)
	}
	return &messages.Body{RuntimeQueryResponse: &messages.RuntimeQueryResponse{Data: cbor.Marshal(out)}}, nil
}
