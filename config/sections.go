package config

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultSocketName is the name of the gRPC Unix socket in the data directory.
const DefaultSocketName = "atoll.sock"

// maxUnixPathLength is the longest Unix socket path every supported OS accepts (sun_path holds
// 104 bytes on the BSDs, 108 on Linux, both including the terminating zero).
const maxUnixPathLength = 103

// Duration is a time.Duration written in YAML as a Go duration string ("500ms", "1m").
type Duration time.Duration

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as \"500ms\": %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: want a duration such as \"500ms\": %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// LogConfig is the `log` section.
type LogConfig struct {
	// Level is the lowest level logged: debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text (logfmt-like key=value) or json.
	Format string `yaml:"format"`
}

// DefaultLog returns info-level text logs.
func DefaultLog() LogConfig { return LogConfig{Level: "info", Format: "text"} }

// Validate checks the level and format names.
func (c *LogConfig) Validate() error {
	switch c.Level {
	case "debug", "info", "warn", "error":
	default:
		return invalid("level", "%q is not one of debug, info, warn, error", c.Level)
	}
	switch c.Format {
	case "text", "json":
	default:
		return invalid("format", "%q is not one of text, json", c.Format)
	}
	return nil
}

// GenesisConfig is the `genesis` section.
type GenesisConfig struct {
	// File is the genesis document; empty means genesis.json in the data directory.
	File string `yaml:"file"`
}

// DefaultGenesis returns the genesis document in the data directory.
func DefaultGenesis() GenesisConfig { return GenesisConfig{} }

// Validate accepts any path; the node reports a missing file when it starts.
func (c *GenesisConfig) Validate() error { return nil }

// ConsensusConfig is the `consensus` section: the embedded CometBFT node.
type ConsensusConfig struct {
	// Validator loads the consensus key so the node signs blocks when its key is in the
	// validator set. A non-validator node is a full node and never signs.
	Validator bool `yaml:"validator"`
	// Moniker is the node's human-readable name on the P2P network.
	Moniker string `yaml:"moniker"`
	// TimeoutCommit is how long a validator waits after a commit before proposing the next
	// block; with empty blocks on it sets the block interval.
	TimeoutCommit Duration `yaml:"timeout_commit"`
	// PeerGossipSleep is how long each peer's gossip routine sleeps when it has nothing to
	// send. It bounds how fast a node a few blocks behind catches up through consensus
	// gossip: CometBFT's 100 ms makes that about as slow as a short-timeout_commit chain
	// grows, so such a node would trail forever and its votes would come too late to count.
	PeerGossipSleep Duration      `yaml:"peer_gossip_sleep"`
	P2P             P2PConfig     `yaml:"p2p"`
	RPC             CometRPC      `yaml:"rpc"`
	Mempool         MempoolConfig `yaml:"mempool"`
}

// DefaultConsensus returns a validator with CometBFT's one-second commit timeout.
func DefaultConsensus() ConsensusConfig {
	return ConsensusConfig{
		Validator:       true,
		Moniker:         "atoll",
		TimeoutCommit:   Duration(time.Second),
		PeerGossipSleep: Duration(10 * time.Millisecond),
		P2P:             DefaultP2P(),
		RPC:             DefaultCometRPC(),
		Mempool:         DefaultMempool(),
	}
}

// Validate checks the consensus section and its subsections.
func (c *ConsensusConfig) Validate() error {
	if c.Moniker == "" {
		return invalid("moniker", "must not be empty")
	}
	if c.TimeoutCommit <= 0 || time.Duration(c.TimeoutCommit) > time.Minute {
		return invalid("timeout_commit", "must be in (0, 1m], got %s", time.Duration(c.TimeoutCommit))
	}
	if c.PeerGossipSleep <= 0 || time.Duration(c.PeerGossipSleep) > time.Second {
		return invalid("peer_gossip_sleep", "must be in (0, 1s], got %s", time.Duration(c.PeerGossipSleep))
	}
	if err := c.P2P.Validate(); err != nil {
		return inSection("p2p", err)
	}
	if err := c.RPC.Validate(); err != nil {
		return inSection("rpc", err)
	}
	if err := c.Mempool.Validate(); err != nil {
		return inSection("mempool", err)
	}
	return nil
}

// P2PConfig is the `consensus.p2p` section: CometBFT's peer-to-peer network.
type P2PConfig struct {
	// Listen is the P2P listen address, tcp://host:port.
	Listen string `yaml:"listen"`
	// ExternalAddress is the address advertised to peers (host:port); empty means the listen
	// address.
	ExternalAddress string `yaml:"external_address"`
	// Peers are persistent peers, each "node_id@host:port", where node_id is the hex P2P ID
	// that `atoll keys show` prints.
	Peers []string `yaml:"peers"`
	// PEX turns on peer exchange.
	PEX bool `yaml:"pex"`
	// AllowDuplicateIP accepts several peers from one IP address, which several nodes on one
	// host (a devnet) need.
	AllowDuplicateIP bool `yaml:"allow_duplicate_ip"`
}

// DefaultP2P listens on all interfaces on CometBFT's usual port.
func DefaultP2P() P2PConfig {
	return P2PConfig{Listen: "tcp://0.0.0.0:26656", Peers: []string{}, PEX: true}
}

// Validate checks the addresses and peer strings.
func (c *P2PConfig) Validate() error {
	if err := validTCPAddress(c.Listen, true); err != nil {
		return invalid("listen", "%v", err)
	}
	if c.ExternalAddress != "" {
		if err := validTCPAddress(c.ExternalAddress, false); err != nil {
			return invalid("external_address", "%v", err)
		}
	}
	for i, p := range c.Peers {
		id, addr, ok := strings.Cut(p, "@")
		if !ok {
			return invalid(fmt.Sprintf("peers[%d]", i), "%q is not node_id@host:port", p)
		}
		if b, err := hex.DecodeString(id); err != nil || len(b) != 20 || strings.ToLower(id) != id {
			return invalid(fmt.Sprintf("peers[%d]", i), "%q: node ID must be 40 lowercase hex characters", p)
		}
		if err := validTCPAddress(addr, false); err != nil {
			return invalid(fmt.Sprintf("peers[%d]", i), "%q: %v", p, err)
		}
	}
	return nil
}

// CometRPC is the `consensus.rpc` section: CometBFT's own RPC server, for its tools, light
// clients and explorers.
type CometRPC struct {
	// Listen is the RPC listen address, tcp://host:port; empty disables the server.
	Listen string `yaml:"listen"`
}

// DefaultCometRPC listens on loopback only.
func DefaultCometRPC() CometRPC { return CometRPC{Listen: "tcp://127.0.0.1:26657"} }

// Validate checks the address.
func (c *CometRPC) Validate() error {
	if c.Listen == "" {
		return nil
	}
	if err := validTCPAddress(c.Listen, true); err != nil {
		return invalid("listen", "%v", err)
	}
	return nil
}

// MempoolConfig is the `consensus.mempool` section.
type MempoolConfig struct {
	// Size is the most transactions the mempool holds.
	Size int `yaml:"size"`
	// MaxTxsBytes is the most bytes the mempool holds, all transactions together.
	MaxTxsBytes int64 `yaml:"max_txs_bytes"`
	// MaxTxBytes is the largest transaction accepted.
	MaxTxBytes int `yaml:"max_tx_bytes"`
	// CacheSize is how many recently seen transaction hashes are kept to drop duplicates.
	CacheSize int `yaml:"cache_size"`
	// Recheck re-runs CheckTx on the pending transactions after every block.
	Recheck bool `yaml:"recheck"`
}

// DefaultMempool sizes the mempool for the throughput targets (DESIGN.md §11): CometBFT's
// default of 5,000 transactions would cap a block.
func DefaultMempool() MempoolConfig {
	return MempoolConfig{
		Size:        50_000,
		MaxTxsBytes: 50_000 * 4096,
		MaxTxBytes:  1 << 20,
		CacheSize:   100_000,
		Recheck:     true,
	}
}

// Validate checks that the limits are positive and consistent.
func (c *MempoolConfig) Validate() error {
	switch {
	case c.Size <= 0:
		return invalid("size", "must be positive, got %d", c.Size)
	case c.MaxTxBytes <= 0:
		return invalid("max_tx_bytes", "must be positive, got %d", c.MaxTxBytes)
	case c.MaxTxsBytes < int64(c.MaxTxBytes):
		return invalid("max_txs_bytes", "must be at least max_tx_bytes (%d), got %d", c.MaxTxBytes, c.MaxTxsBytes)
	case c.CacheSize < 0:
		return invalid("cache_size", "must not be negative, got %d", c.CacheSize)
	}
	return nil
}

// GRPCConfig is the `grpc` section: the node's gRPC API.
type GRPCConfig struct {
	Unix UnixConfig `yaml:"unix"`
	TCP  TCPConfig  `yaml:"tcp"`
}

// DefaultGRPC serves on the Unix socket only.
func DefaultGRPC() GRPCConfig { return GRPCConfig{Unix: UnixConfig{Enabled: true}} }

// Validate checks both listeners.
func (c *GRPCConfig) Validate() error {
	if len(c.Unix.Path) > maxUnixPathLength {
		return invalid("unix.path", "%q is longer than %d bytes, the limit of Unix socket paths; choose a shorter path", c.Unix.Path, maxUnixPathLength)
	}
	if c.TCP.Listen == "" {
		if c.TCP.TLS.CertFile != "" || c.TCP.TLS.KeyFile != "" {
			return invalid("tcp.tls", "set without tcp.listen")
		}
		return nil
	}
	if err := validHostPort(c.TCP.Listen); err != nil {
		return invalid("tcp.listen", "%v", err)
	}
	if (c.TCP.TLS.CertFile == "") != (c.TCP.TLS.KeyFile == "") {
		return invalid("tcp.tls", "cert_file and key_file must be set together")
	}
	return nil
}

// UnixConfig is the `grpc.unix` section: the local, trusted socket.
type UnixConfig struct {
	// Enabled serves the gRPC API on a Unix socket.
	Enabled bool `yaml:"enabled"`
	// Path is the socket; empty means atoll.sock in the data directory.
	Path string `yaml:"path"`
}

// TCPConfig is the `grpc.tcp` section: the optional TLS listener for remote clients.
type TCPConfig struct {
	// Listen is host:port; empty disables the TCP listener.
	Listen string    `yaml:"listen"`
	TLS    TLSConfig `yaml:"tls"`
}

// TLSConfig is the `grpc.tcp.tls` section.
type TLSConfig struct {
	// CertFile and KeyFile are a PEM certificate and key. Both empty means a self-signed
	// certificate for the node's TLS key (tls.pem in the data directory), which clients pin.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// MetricsConfig is the `metrics` section.
type MetricsConfig struct {
	// Listen is host:port of the Prometheus endpoint (/metrics); empty disables it.
	Listen string `yaml:"listen"`
}

// DefaultMetrics disables the endpoint, so that nodes sharing a host do not collide.
func DefaultMetrics() MetricsConfig { return MetricsConfig{} }

// Validate checks the address.
func (c *MetricsConfig) Validate() error {
	if c.Listen == "" {
		return nil
	}
	if err := validHostPort(c.Listen); err != nil {
		return invalid("listen", "%v", err)
	}
	return nil
}

// validTCPAddress checks a CometBFT address, host:port with an optional tcp:// scheme.
func validTCPAddress(s string, schemeAllowed bool) error {
	hostPort := s
	if rest, ok := strings.CutPrefix(s, "tcp://"); ok {
		if !schemeAllowed {
			return fmt.Errorf("%q: want host:port without a scheme", s)
		}
		hostPort = rest
	} else if strings.Contains(s, "://") {
		return fmt.Errorf("%q: only tcp:// is supported", s)
	}
	return validHostPort(hostPort)
}

func validHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q: want host:port: %w", s, err)
	}
	if host == "" {
		return fmt.Errorf("%q: the host is missing (use 0.0.0.0 for all interfaces)", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q: port must be a number in 0..65535", s)
	}
	return nil
}
