package network

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/config"
	"github.com/atoll-project/atoll/consensus/genesis"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/node"
)

// Defaults of the Fixture fields left zero.
const (
	DefaultChainID       = "atoll-devnet"
	DefaultEpochInterval = 10
	DefaultTimeoutCommit = 250 * time.Millisecond
	DefaultBalance       = 1_000_000_000_000
	DefaultSelfEscrow    = 1_000_000
	DefaultLogLevel      = "info"
)

// PortsPerNode is the width of a node's port range when Fixture.BasePort is set: node i uses
// BasePort + i*PortsPerNode + {0: P2P, 1: CometBFT RPC}.
const PortsPerNode = 10

// maxSocketPath is the longest Unix socket path the node accepts (config's limit).
const maxSocketPath = 103

// Fixture declares a local network. The zero value of every field but Validators takes a
// default; Write turns it into a network directory.
type Fixture struct {
	// ChainID is the genesis document's human name (default DefaultChainID).
	ChainID string
	// Validators is the number of validator nodes (at least 1), node-0 ... node-N-1, all in
	// the genesis validator set with equal power.
	Validators int
	// FullNodes is the number of extra nodes, node-N ... node-N+F-1 after the validators: each
	// has keys of its own (its entity is not funded and its consensus key is not in the
	// genesis validator set) and starts as a CometBFT full node peered with every other node.
	// It loads its consensus key all the same, so once it registers as a validator node and
	// joins the set at an epoch transition (DESIGN.md §3) it signs blocks.
	FullNodes int
	// EpochInterval is the number of blocks per epoch (default DefaultEpochInterval).
	EpochInterval int64
	// TimeoutCommit is every node's consensus.timeout_commit, which sets the block interval
	// (default DefaultTimeoutCommit).
	TimeoutCommit time.Duration
	// Accounts is the number of extra funded test accounts whose keys Write generates into
	// DIR/accounts. Their keys are on disk in the clear: test networks only.
	Accounts int
	// Fund lists further addresses to fund (keys held elsewhere, e.g. `atoll bench`'s).
	Fund []staking.Address
	// Balance is the general balance of every funded account, the validators' entities
	// included (default DefaultBalance).
	Balance uint64
	// SelfEscrow is each validator entity's escrow with itself (default DefaultSelfEscrow).
	SelfEscrow uint64
	// BasePort fixes the ports (see PortsPerNode); 0 lets the OS choose free loopback ports
	// when the directory is written, which is what concurrent tests want.
	BasePort int
	// CometRPC turns on each node's CometBFT RPC server (on loopback), for CometBFT's tools.
	CometRPC bool
	// LogLevel is every node's log.level (default DefaultLogLevel).
	LogLevel string
}

func (f Fixture) withDefaults() Fixture {
	if f.ChainID == "" {
		f.ChainID = DefaultChainID
	}
	if f.EpochInterval == 0 {
		f.EpochInterval = DefaultEpochInterval
	}
	if f.TimeoutCommit == 0 {
		f.TimeoutCommit = DefaultTimeoutCommit
	}
	if f.Balance == 0 {
		f.Balance = DefaultBalance
	}
	if f.SelfEscrow == 0 {
		f.SelfEscrow = DefaultSelfEscrow
	}
	if f.LogLevel == "" {
		f.LogLevel = DefaultLogLevel
	}
	return f
}

func (f Fixture) validate() error {
	switch {
	case f.Validators < 1:
		return fmt.Errorf("network: a fixture needs at least one validator, got %d", f.Validators)
	case f.FullNodes < 0:
		return fmt.Errorf("network: negative number of full nodes %d", f.FullNodes)
	case f.Accounts < 0:
		return fmt.Errorf("network: negative number of accounts %d", f.Accounts)
	case f.EpochInterval < 0:
		return fmt.Errorf("network: negative epoch interval %d", f.EpochInterval)
	case f.BasePort < 0 || (f.BasePort > 0 && (f.BasePort < 1024 || f.BasePort+(f.Validators+f.FullNodes)*PortsPerNode > 65536)):
		return fmt.Errorf("network: base port %d: the network's ports must lie in 1024..65535", f.BasePort)
	}
	return nil
}

// Write creates the network directory dir (or fills an empty existing one): keys, genesis
// document, one configuration per node and the Manifest, which it returns. It refuses a
// directory that already holds a network. On an error the directory may be half written;
// remove it before trying again.
func (f Fixture) Write(dir string) (*Manifest, error) {
	f = f.withDefaults()
	if err := f.validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return nil, fmt.Errorf("network: %s already holds a network; open it with LoadManifest or remove it", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	m := &Manifest{Dir: dir, ChainID: f.ChainID, EpochInterval: f.EpochInterval}
	for i := range f.Validators + f.FullNodes {
		m.Nodes = append(m.Nodes, Node{Name: fmt.Sprintf("node-%d", i), Validator: i < f.Validators})
		if s := m.Socket(i); len(s) > maxSocketPath {
			return nil, fmt.Errorf("network: node %d's socket %s is longer than %d bytes (the OS limit): use a shorter network directory", i, s, maxSocketPath)
		}
	}
	if err := f.assignPorts(m); err != nil {
		return nil, err
	}
	params := genesis.DevParams{
		ChainID: f.ChainID, GenesisTime: time.Now(), Balance: f.Balance,
		SelfEscrow: f.SelfEscrow, EpochInterval: f.EpochInterval,
	}
	for i := range m.Nodes {
		pub, err := node.GenerateIdentity(m.NodeDir(i))
		if err != nil {
			return nil, fmt.Errorf("network: keys of %s: %w", m.Nodes[i].Name, err)
		}
		n := &m.Nodes[i]
		n.EntityID, n.Address = pub.Entity, staking.NewAddress(pub.Entity)
		n.ConsensusKey, n.P2PID = pub.Consensus, pub.P2PID
		n.ValidatorAddress = strings.ToLower(cmted25519.PubKey(pub.Consensus[:]).Address().String())
		if n.Validator {
			params.Validators = append(params.Validators, genesis.DevValidator{EntityID: pub.Entity, ConsensusKey: pub.Consensus})
		}
	}
	if err := f.writeAccounts(m); err != nil {
		return nil, err
	}
	for _, a := range m.Accounts {
		params.Accounts = append(params.Accounts, a.Address)
	}
	params.Accounts = append(params.Accounts, f.Fund...)
	if err := writeGenesis(m, params); err != nil {
		return nil, err
	}
	for i := range m.Nodes {
		cfg := f.nodeConfig(m, i)
		if err := cfg.WriteFile(m.ConfigFile(i)); err != nil {
			return nil, fmt.Errorf("network: %s: %w", m.Nodes[i].Name, err)
		}
		// The node reads the file back the way `atoll node` does; a fixture must never write
		// a configuration the node refuses.
		if _, err := config.Load(m.ConfigFile(i)); err != nil {
			return nil, fmt.Errorf("network: %s: the written configuration does not load: %w", m.Nodes[i].Name, err)
		}
	}
	if err := m.write(); err != nil {
		return nil, err
	}
	return m, nil
}

// assignPorts gives every node its P2P (and CometBFT RPC) address.
func (f Fixture) assignPorts(m *Manifest) error {
	perNode := 1
	if f.CometRPC {
		perNode = 2
	}
	ports := make([]int, 0, len(m.Nodes)*perNode)
	if f.BasePort > 0 {
		for i := range m.Nodes {
			for k := range perNode {
				ports = append(ports, f.BasePort+i*PortsPerNode+k)
			}
		}
	} else {
		var err error
		if ports, err = freePorts(len(m.Nodes) * perNode); err != nil {
			return err
		}
	}
	for i := range m.Nodes {
		m.Nodes[i].P2PAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i*perNode]))
		if f.CometRPC {
			m.Nodes[i].RPCAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i*perNode+1]))
		}
	}
	return nil
}

// freePorts returns n distinct loopback ports that were free a moment ago: the OS chooses
// them, and all n listeners stay open until the last one is chosen so none repeats.
func freePorts(n int) ([]int, error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("network: choosing a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (f Fixture) writeAccounts(m *Manifest) error {
	if f.Accounts == 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(m.Dir, AccountsDir), 0o700); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	for i := range f.Accounts {
		s, err := signature.GenerateSigner(rand.Reader)
		if err != nil {
			return fmt.Errorf("network: account %d: %w", i, err)
		}
		name := fmt.Sprintf("account-%d", i)
		rel := filepath.Join(AccountsDir, name+".pem")
		err = signature.SaveSignerFile(filepath.Join(m.Dir, rel), s)
		pub := s.Public()
		s.Reset()
		if err != nil {
			return fmt.Errorf("network: account %d: %w", i, err)
		}
		m.Accounts = append(m.Accounts, Account{Name: name, KeyFile: rel, Address: staking.NewAddress(pub)})
	}
	return nil
}

// writeGenesis writes the development genesis document into the network directory and into
// every node's data directory, and records its chain context.
func writeGenesis(m *Manifest, p genesis.DevParams) error {
	doc, err := genesis.DevDocument(p)
	if err != nil {
		return fmt.Errorf("network: genesis: %w", err)
	}
	data, err := doc.EncodeJSON()
	if err != nil {
		return fmt.Errorf("network: genesis: %w", err)
	}
	paths := []string{m.GenesisFile()}
	for i := range m.Nodes {
		paths = append(paths, filepath.Join(m.NodeDir(i), GenesisFile))
	}
	for _, path := range paths {
		if err := writeNewFile(path, data); err != nil {
			return err
		}
	}
	m.ChainContext = doc.ChainContext()
	return nil
}

// writeNewFile writes data to a file that must not exist yet: a genesis document is the
// identity of a chain and is never replaced.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("network: %s already exists; a genesis document is never overwritten", path)
		}
		return fmt.Errorf("network: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("network: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("network: writing %s: %w", path, err)
	}
	return nil
}

// nodeConfig is node i's configuration: its data directory is the configuration file's own
// ("." resolves against it), it listens on loopback only and peers with every other node.
func (f Fixture) nodeConfig(m *Manifest, i int) config.Config {
	cfg := config.Default()
	cfg.DataDir = "."
	cfg.Log.Level = f.LogLevel
	c := &cfg.Consensus
	// Every node loads its consensus key: a full node (Fixture.FullNodes) that is not in the
	// genesis validator set signs nothing until it registers as a validator and joins it.
	c.Validator = true
	c.Moniker = m.Nodes[i].Name
	c.TimeoutCommit = config.Duration(f.TimeoutCommit)
	c.P2P.Listen = "tcp://" + m.Nodes[i].P2PAddress
	// Every node dials every other: a full mesh of persistent peers, so peer exchange adds
	// nothing. A loopback network needs duplicate IPs (DESIGN.md §10); the node never runs a
	// strict address book.
	c.P2P.PEX = false
	c.P2P.AllowDuplicateIP = true
	c.P2P.Peers = []string{}
	for j, peer := range m.Nodes {
		if j != i {
			c.P2P.Peers = append(c.P2P.Peers, peer.P2PID+"@"+peer.P2PAddress)
		}
	}
	c.RPC.Listen = ""
	if m.Nodes[i].RPCAddress != "" {
		c.RPC.Listen = "tcp://" + m.Nodes[i].RPCAddress
	}
	return cfg
}
