// Package node is the composition root of an Atoll node: from a config.Config it opens the
// keys, builds the consensus application, and runs CometBFT, the gRPC API and the metrics
// endpoint together.
//
// Contract:
//   - New checks what can be checked without starting anything (the configuration, the genesis
//     file, the keys) and fails with an error that says what to do. It opens nothing that
//     would need closing.
//   - Run is the one lifecycle. It builds the application through the AppFactory, starts
//     CometBFT, then serves gRPC (Unix socket, optional TLS TCP listener) and metrics. When ctx
//     is done, or a component fails, it stops the servers first (calls in flight get
//     rpc.ShutdownGrace), then CometBFT, then closes the application, and returns nil after a
//     stop through ctx or the first component error. A Node runs once.
//   - Logs go to the given slog.Logger with a `module` key per component; metrics go to the
//     node's own Prometheus registry, never the default one.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atoll-project/atoll/config"
	"github.com/atoll-project/atoll/consensus/cometbft"
	"github.com/atoll-project/atoll/rpc"
)

// ErrAlreadyRun is returned by a second call of Run.
var ErrAlreadyRun = errors.New("node: already run")

// MaxGenesisSize bounds the genesis file.
const MaxGenesisSize = 64 << 20

// AppFactory builds the consensus application. It is where the ABCI mux of package consensus
// plugs in: the factory decodes the genesis document, opens the application's state in
// AppParams.DataDir and returns the ABCI application with what CometBFT needs of the genesis.
type AppFactory func(AppParams) (*App, error)

// AppParams is what an AppFactory gets.
type AppParams struct {
	// Genesis is the content of the genesis file.
	Genesis []byte
	// DataDir is the application's own directory, created with mode 0700.
	DataDir string
	// Identity is the node's public keys.
	Identity PublicIdentity
	// Logger is the node's logger; the application adds its own module key.
	Logger *slog.Logger
}

// App is a consensus application built by an AppFactory.
type App struct {
	// ABCI is the application CometBFT drives. It must be safe for concurrent calls across
	// ABCI connections (see package cometbft).
	ABCI abcitypes.Application
	// Genesis is what CometBFT needs of the genesis document.
	Genesis cometbft.Genesis
	// Methods, if set, returns the gRPC methods the application serves, given the running
	// consensus node (to submit transactions and read blocks).
	Methods func(*cometbft.Node) []rpc.Method
	// Close, if set, is called once CometBFT has stopped.
	Close func() error
}

// Node is an Atoll node.
type Node struct {
	cfg      config.Config
	logger   *slog.Logger
	factory  AppFactory
	genesis  []byte
	identity PublicIdentity
	ran      atomic.Bool
	ready    chan struct{}
	// metricsAddr is the metrics listener's address, set before ready is closed.
	metricsAddr net.Addr
}

// New checks cfg, reads the genesis file and the public keys, and returns a node ready to Run.
func New(cfg config.Config, logger *slog.Logger, factory AppFactory) (*Node, error) {
	if factory == nil {
		return nil, errors.New("node: no consensus application factory")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	genesis, err := readGenesis(cfg.GenesisFile())
	if err != nil {
		return nil, err
	}
	id, err := LoadIdentity(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	public := id.Public
	id.Reset()
	return &Node{
		cfg:      cfg,
		logger:   logger,
		factory:  factory,
		genesis:  genesis,
		identity: public,
		ready:    make(chan struct{}),
	}, nil
}

// Identity returns the node's public keys.
func (n *Node) Identity() PublicIdentity { return n.identity }

// MetricsAddr returns the address of the metrics endpoint, or nil when it is disabled. It is
// set once Ready is closed.
func (n *Node) MetricsAddr() net.Addr { return n.metricsAddr }

// Ready is closed once the node serves: CometBFT runs and the listeners accept.
func (n *Node) Ready() <-chan struct{} { return n.ready }

func readGenesis(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("node: genesis file %s does not exist; set genesis.file in the config or put genesis.json in the data directory", path)
		}
		return nil, fmt.Errorf("node: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if fi.Size() > MaxGenesisSize {
		return nil, fmt.Errorf("node: genesis file %s is larger than %d bytes", path, MaxGenesisSize)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil && fi.Size() > 0 {
		return nil, fmt.Errorf("node: reading genesis file: %w", err)
	}
	return data, nil
}

// Run runs the node until ctx is done; see the package contract.
func (n *Node) Run(ctx context.Context) (err error) {
	if !n.ran.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	appDir := filepath.Join(n.cfg.DataDir, AppDir)
	if err := os.MkdirAll(appDir, 0o700); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	app, err := n.factory(AppParams{Genesis: n.genesis, DataDir: appDir, Identity: n.identity, Logger: n.logger})
	if err != nil {
		return fmt.Errorf("node: building the consensus application: %w", err)
	}
	if app == nil || app.ABCI == nil {
		return errors.New("node: the consensus application factory returned no application")
	}
	if app.Close != nil {
		defer func() {
			if cerr := app.Close(); cerr != nil {
				n.logger.Error("closing the consensus application", "module", "node", "err", cerr)
				if err == nil {
					err = fmt.Errorf("node: closing the consensus application: %w", cerr)
				}
			}
		}()
	}
	cmt, err := cometbft.New(n.cometConfig(), app.Genesis, app.ABCI)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	lis, err := n.listen()
	if err != nil {
		return err
	}
	defer lis.close()
	if lis.metrics != nil {
		n.metricsAddr = lis.metrics.Addr()
	}
	srv, err := n.servers(cmt, app, lis)
	if err != nil {
		return err
	}
	return n.run(ctx, cmt, srv)
}

// run starts CometBFT, then the servers once it is ready, and stops them in reverse order.
func (n *Node) run(ctx context.Context, cmt *cometbft.Node, srv []server) error {
	cmtCtx, stopCmt := context.WithCancel(context.Background())
	defer stopCmt()
	cmtDone := make(chan error, 1)
	go func() { cmtDone <- cmt.Run(cmtCtx) }()

	select {
	case <-cmt.Ready():
	case err := <-cmtDone:
		if err == nil {
			err = errors.New("node: consensus stopped before it was ready")
		}
		return err
	case <-ctx.Done():
		stopCmt()
		return <-cmtDone
	}

	srvCtx, stopSrv := context.WithCancel(context.Background())
	defer stopSrv()
	srvDone := make(chan error, len(srv))
	for _, s := range srv {
		go func() {
			err := s.serve(srvCtx)
			if err != nil {
				err = fmt.Errorf("node: %s: %w", s.name, err)
			}
			srvDone <- err
		}()
	}
	close(n.ready)
	n.logger.Info("node running", "module", "node", "chain_id", cmt.ChainID(),
		"socket", n.cfg.UnixSocket(), "grpc_tcp", n.cfg.GRPC.TCP.Listen, "metrics", n.cfg.Metrics.Listen)

	var first error
	pending := len(srv)
	select {
	case <-ctx.Done():
	case err := <-cmtDone:
		first = fmt.Errorf("node: consensus: %w", err)
		cmtDone = nil
	case err := <-srvDone:
		pending--
		first = err
	}
	stopSrv()
	for ; pending > 0; pending-- {
		if err := <-srvDone; err != nil && first == nil {
			first = err
		}
	}
	stopCmt()
	if cmtDone != nil {
		if err := <-cmtDone; err != nil && first == nil {
			first = err
		}
	}
	n.logger.Info("node stopped", "module", "node")
	return first
}

func (n *Node) cometConfig() cometbft.Config {
	c := n.cfg.Consensus
	return cometbft.Config{
		HomeDir:   filepath.Join(n.cfg.DataDir, ConsensusDir),
		Moniker:   c.Moniker,
		Validator: c.Validator,
		P2P: cometbft.P2PConfig{
			Listen:           c.P2P.Listen,
			ExternalAddress:  c.P2P.ExternalAddress,
			PersistentPeers:  c.P2P.Peers,
			PEX:              c.P2P.PEX,
			AllowDuplicateIP: c.P2P.AllowDuplicateIP,
		},
		RPCListen:       c.RPC.Listen,
		TimeoutCommit:   time.Duration(c.TimeoutCommit),
		PeerGossipSleep: time.Duration(c.PeerGossipSleep),
		Mempool: cometbft.MempoolConfig{
			Size:        c.Mempool.Size,
			MaxTxsBytes: c.Mempool.MaxTxsBytes,
			MaxTxBytes:  c.Mempool.MaxTxBytes,
			CacheSize:   c.Mempool.CacheSize,
			Recheck:     c.Mempool.Recheck,
		},
		Logger: n.logger,
	}
}

// newRegistry returns the node's own Prometheus registry.
func newRegistry(cmt *cometbft.Node) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(cmt.Collector()); err != nil {
		return nil, fmt.Errorf("node: registering metrics: %w", err)
	}
	return reg, nil
}
