// Package cometbft embeds a CometBFT v0.38 node in the process, around an ABCI application
// given by the caller.
//
// Contract:
//   - New checks the configuration, converts the genesis and opens the keys of the home
//     directory (CometBFT's layout: config/priv_validator_key.json, data/priv_validator_state.json,
//     config/node_key.json, written by GenerateKeys). It starts nothing.
//   - Run is the one lifecycle: it builds the CometBFT node (opening its databases and
//     replaying blocks the application lacks), starts it, closes Ready, serves until ctx is
//     done, and stops everything, databases included, before it returns. A Node runs once.
//   - The application is reached through proxy.NewConnSyncLocalClientCreator: one mutex per ABCI
//     connection, so it must be safe for concurrent calls across connections (CheckTx and
//     Query run beside FinalizeBlock). It must answer Info with its last committed height and
//     app hash, or a restart fails with "wrong AppHash".
//   - The query methods (Status, Block, SubmitTx, ...) may be called from any goroutine; between
//     Ready and Run's return they serve, otherwise they fail with ErrNotRunning. A stop waits
//     for calls in flight (but not for SubmitTx waiting for inclusion, which fails with
//     ErrNotRunning).
//   - CometBFT's Prometheus metrics, which register on the default registry, are off; Collector
//     gives the node's figures for a registry of the caller's.
//   - CometBFT's logs go to the configured slog.Logger with module "cometbft/<its module>"; its
//     per-block info messages are logged at debug level, its debug messages at LevelTrace.
package cometbft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cmtdb "github.com/cometbft/cometbft-db"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/types"
)

var (
	// ErrNotRunning is returned by queries made while the node is not running.
	ErrNotRunning = errors.New("cometbft: node not running")
	// ErrAlreadyRun is returned by a second call of Run.
	ErrAlreadyRun = errors.New("cometbft: node already run")
	// ErrStoppedUnexpectedly is returned by Run when CometBFT stopped by itself.
	ErrStoppedUnexpectedly = errors.New("cometbft: node stopped unexpectedly")
)

// Config configures the embedded node.
type Config struct {
	// HomeDir is CometBFT's home: keys, databases, address book, consensus WAL.
	HomeDir string
	// Moniker is the node's name on the P2P network.
	Moniker string
	// Validator loads the consensus key, so the node signs while its key is in the validator
	// set. Otherwise the node is a full node and holds no signing key.
	Validator bool
	P2P       P2PConfig
	// RPCListen is CometBFT's own RPC server address (tcp://host:port); empty disables it.
	RPCListen string
	// TimeoutCommit is the wait after a commit before the next block; empty blocks are on, so
	// it sets the block interval of an idle chain.
	TimeoutCommit time.Duration
	// PeerGossipSleep is how long a peer's gossip routine sleeps with nothing to send; zero
	// means 10 ms.
	PeerGossipSleep time.Duration
	Mempool         MempoolConfig
	// Logger is the parent logger; nil discards logs.
	Logger *slog.Logger
}

// P2PConfig is CometBFT's peer-to-peer network.
type P2PConfig struct {
	// Listen is the listen address, tcp://host:port.
	Listen string
	// ExternalAddress is the address advertised to peers; empty means Listen.
	ExternalAddress string
	// PersistentPeers are "id@host:port" peers kept connected.
	PersistentPeers []string
	// PEX turns on peer exchange.
	PEX bool
	// AllowDuplicateIP accepts several peers with one IP (several nodes on one host). The
	// address book is never strict, so private and loopback addresses are accepted.
	AllowDuplicateIP bool
}

// MempoolConfig sizes the mempool.
type MempoolConfig struct {
	Size        int
	MaxTxsBytes int64
	MaxTxBytes  int
	CacheSize   int
	// Recheck re-runs CheckTx on pending transactions after each block.
	Recheck bool
}

// Genesis is what CometBFT needs of the genesis document.
type Genesis struct {
	// ChainID is CometBFT's chain ID (at most 50 characters).
	ChainID string
	// Time is the genesis time; the first block is not made before it.
	Time time.Time
	// InitialHeight is the height of the first block; 0 means 1.
	InitialHeight int64
	// Validators are the initial validator set. It may be empty if the application returns
	// the validators from InitChain.
	Validators []Validator
	// MaxBlockBytes and MaxBlockGas are the block limits; 0 means CometBFT's default bytes
	// (21 MiB) and no gas limit.
	MaxBlockBytes int64
	MaxBlockGas   int64
	// AppHash is the application's state root at genesis, if any.
	AppHash []byte
	// AppState is passed to InitChain as app_state_bytes; it must be JSON if set.
	AppState json.RawMessage
}

// Validator is a genesis validator.
type Validator struct {
	// PubKey is the Ed25519 consensus public key.
	PubKey [32]byte
	Power  int64
	Name   string
}

// Node is an embedded CometBFT node.
type Node struct {
	cfg      Config
	genDoc   *types.GenesisDoc
	app      abcitypes.Application
	logger   *slog.Logger // with module=cometbft
	parent   *slog.Logger // the configured logger, for CometBFT's own modules
	privVal  types.PrivValidator
	nodeKey  *p2p.NodeKey
	ran      atomic.Bool
	ready    chan struct{}
	mu       sync.RWMutex // guards running
	running  *running
	included *inclusion
}

// New prepares a node; see the package contract. app must stay usable until Run returns.
func New(cfg Config, gen Genesis, app abcitypes.Application) (*Node, error) {
	if app == nil {
		return nil, errors.New("cometbft: nil application")
	}
	if cfg.HomeDir == "" {
		return nil, errors.New("cometbft: empty home directory")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	genDoc, err := genesisDoc(gen)
	if err != nil {
		return nil, err
	}
	if _, err := buildConfig(cfg); err != nil {
		return nil, err
	}
	nodeKey, err := loadNodeKey(cfg.HomeDir)
	if err != nil {
		return nil, err
	}
	var pv types.PrivValidator
	if cfg.Validator {
		if pv, err = loadPrivValidator(cfg.HomeDir); err != nil {
			return nil, err
		}
	} else {
		// A full node holds no signing key: an ephemeral key that is in no validator set and
		// never written anywhere.
		pv = privval.NewFilePV(cmted25519.GenPrivKey(), "", "")
	}
	return &Node{
		cfg:      cfg,
		genDoc:   genDoc,
		app:      app,
		logger:   logger.With("module", "cometbft"),
		parent:   logger,
		privVal:  pv,
		nodeKey:  nodeKey,
		ready:    make(chan struct{}),
		included: newInclusion(),
	}, nil
}

// ChainID returns the chain ID.
func (n *Node) ChainID() string { return n.genDoc.ChainID }

// P2PID returns the node's P2P ID.
func (n *Node) P2PID() string { return string(n.nodeKey.ID()) }

// Ready is closed once Run has started the node and the query methods serve.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Run builds and starts the node, serves until ctx is done, then stops it. It returns nil
// after a stop through ctx, and an error when the node cannot start or stops by itself.
func (n *Node) Run(ctx context.Context) error {
	if !n.ran.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	// CometBFT sleeps until the genesis time inside Start, deaf to ctx: wait here instead.
	if wait := time.Until(n.genDoc.GenesisTime); wait > 0 {
		n.logger.Info("waiting for the genesis time", "genesis_time", n.genDoc.GenesisTime, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	cmtCfg, err := buildConfig(n.cfg)
	if err != nil {
		return err
	}
	for _, d := range []string{filepath.Join(n.cfg.HomeDir, configDir), filepath.Join(n.cfg.HomeDir, dataDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("cometbft: %w", err)
		}
	}
	cn, err := cmtnode.NewNodeWithContext(ctx, cmtCfg, n.privVal, n.nodeKey,
		proxy.NewConnSyncLocalClientCreator(n.app),
		func() (*types.GenesisDoc, error) { return n.genDoc, nil },
		cmtcfg.DefaultDBProvider,
		cmtnode.DefaultMetricsProvider(cmtCfg.Instrumentation),
		newLogger(n.parent),
	)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped through ctx during the handshake
		}
		return fmt.Errorf("cometbft: creating node: %w", err)
	}
	r, err := start(cn, n.included)
	if err != nil {
		closeUnstarted(cn, n.logger)
		return err
	}
	n.mu.Lock()
	n.running = r
	n.mu.Unlock()
	close(n.ready)
	n.logger.Info("consensus node started",
		"chain_id", n.genDoc.ChainID, "height", cn.BlockStore().Height(),
		"p2p_id", n.P2PID(), "validator", n.cfg.Validator)

	var runErr error
	select {
	case <-ctx.Done():
	case <-cn.Quit():
		runErr = ErrStoppedUnexpectedly
	}
	n.mu.Lock() // waits for queries in flight
	n.running = nil
	n.mu.Unlock()
	if err := r.stop(); err != nil && runErr == nil {
		runErr = err
	}
	n.included.stop()
	n.logger.Info("consensus node stopped", "height", cn.BlockStore().Height())
	return runErr
}

// closeUnstarted releases what NewNode opened (databases, ABCI connections, event bus) and
// what a failed Start left open (listeners). CometBFT's Stop refuses a node that did not start,
// so its OnStop is called directly; it tolerates services that never started.
func closeUnstarted(cn *cmtnode.Node, logger *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			logger.Error("releasing a node that failed to start", "panic", r)
		}
	}()
	cn.OnStop()
	if err := cn.ProxyApp().Stop(); err != nil {
		logger.Debug("stopping ABCI connections", "err", err)
	}
}

// genesisDoc converts gen into CometBFT's genesis document and validates it.
func genesisDoc(gen Genesis) (*types.GenesisDoc, error) {
	params := types.DefaultConsensusParams()
	if gen.MaxBlockBytes != 0 {
		params.Block.MaxBytes = gen.MaxBlockBytes
	}
	if gen.MaxBlockGas != 0 {
		params.Block.MaxGas = gen.MaxBlockGas
	}
	doc := &types.GenesisDoc{
		GenesisTime:     gen.Time,
		ChainID:         gen.ChainID,
		InitialHeight:   gen.InitialHeight,
		ConsensusParams: params,
		AppHash:         gen.AppHash,
		AppState:        gen.AppState,
	}
	for i, v := range gen.Validators {
		pk := cmted25519.PubKey(append([]byte(nil), v.PubKey[:]...))
		name := v.Name
		if name == "" {
			name = fmt.Sprintf("validator-%d", i)
		}
		doc.Validators = append(doc.Validators, types.GenesisValidator{
			Address: pk.Address(), PubKey: pk, Power: v.Power, Name: name,
		})
	}
	if gen.Time.IsZero() {
		return nil, errors.New("cometbft: genesis time not set")
	}
	if len(gen.AppState) > 0 && !json.Valid(gen.AppState) {
		return nil, errors.New("cometbft: genesis app state is not JSON")
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("cometbft: genesis: %w", err)
	}
	return doc, nil
}

// buildConfig builds CometBFT's configuration in code; no config.toml is read or written.
func buildConfig(cfg Config) (*cmtcfg.Config, error) {
	c := cmtcfg.DefaultConfig()
	c.SetRoot(cfg.HomeDir)
	c.Moniker = cfg.Moniker
	c.DBBackend = string(cmtdb.GoLevelDBBackend)

	c.P2P.ListenAddress = cfg.P2P.Listen
	c.P2P.ExternalAddress = cfg.P2P.ExternalAddress
	c.P2P.PersistentPeers = strings.Join(cfg.P2P.PersistentPeers, ",")
	c.P2P.PexReactor = cfg.P2P.PEX
	c.P2P.AllowDuplicateIP = cfg.P2P.AllowDuplicateIP
	c.P2P.AddrBookStrict = false

	c.RPC.ListenAddress = cfg.RPCListen

	c.Consensus.TimeoutCommit = cfg.TimeoutCommit
	c.Consensus.PeerGossipSleepDuration = cfg.PeerGossipSleep
	if c.Consensus.PeerGossipSleepDuration <= 0 {
		c.Consensus.PeerGossipSleepDuration = 10 * time.Millisecond
	}
	c.Consensus.CreateEmptyBlocks = true
	c.Consensus.CreateEmptyBlocksInterval = 0

	c.Mempool.Size = cfg.Mempool.Size
	c.Mempool.MaxTxsBytes = cfg.Mempool.MaxTxsBytes
	c.Mempool.MaxTxBytes = cfg.Mempool.MaxTxBytes
	c.Mempool.CacheSize = cfg.Mempool.CacheSize
	c.Mempool.Recheck = cfg.Mempool.Recheck

	// Atoll serves events from the stored FinalizeBlock responses and indexes what it needs.
	c.TxIndex.Indexer = "null"
	c.Storage.DiscardABCIResponses = false
	// CometBFT's metrics register on the default registry; Node.Collector replaces them.
	c.Instrumentation.Prometheus = false
	c.StateSync.Enable = false

	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("cometbft: config: %w", err)
	}
	return c, nil
}
