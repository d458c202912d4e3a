package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// Names of the files in a network directory.
const (
	// ManifestFile is the Manifest, in the network directory.
	ManifestFile = "network.json"
	// GenesisFile is the genesis document, in the network directory and in every node's.
	GenesisFile = "genesis.json"
	// ConfigFile is a node's configuration, in its data directory.
	ConfigFile = "config.yaml"
	// LogFile receives a node's standard output and error, in its data directory.
	LogFile = "node.log"
	// SocketFile is a node's gRPC Unix socket, in its data directory.
	SocketFile = "atoll.sock"
	// AccountsDir holds the funded accounts' keys.
	AccountsDir = "accounts"
)

// Manifest describes a written network: what Fixture.Write produced and what New runs. Its
// paths are relative to the network directory (Dir), so the directory can be moved.
type Manifest struct {
	// Dir is the network directory; it is not stored (LoadManifest sets it).
	Dir string `json:"-"`
	// ChainID is the genesis document's human name; ChainContext is its hash, which
	// transactions are signed for.
	ChainID      string    `json:"chain_id"`
	ChainContext hash.Hash `json:"chain_context"`
	// EpochInterval is the number of blocks per epoch.
	EpochInterval int64     `json:"epoch_interval"`
	Nodes         []Node    `json:"nodes"`
	Accounts      []Account `json:"accounts"`
}

// Node describes one node of a network.
type Node struct {
	// Name is the node's data directory inside the network directory ("node-0"), and its
	// CometBFT moniker.
	Name string `json:"name"`
	// Validator is set for a node of the genesis validator set.
	Validator bool `json:"validator"`
	// EntityID is the node's entity; Address is its staking account (funded at genesis for
	// a validator, not for a full node).
	EntityID signature.PublicKey `json:"entity_id"`
	Address  staking.Address     `json:"address"`
	// ConsensusKey is the CometBFT validator key; ValidatorAddress is CometBFT's address of
	// it (lowercase hex), as block headers name their proposer (grpcapi.Block.Proposer).
	ConsensusKey     signature.PublicKey `json:"consensus_key"`
	ValidatorAddress string              `json:"validator_address"`
	// P2PID is CometBFT's node ID; P2PAddress the host:port it listens on.
	P2PID      string `json:"p2p_id"`
	P2PAddress string `json:"p2p_address"`
	// RPCAddress is CometBFT's own RPC server (host:port), empty when it is off.
	RPCAddress string `json:"rpc_address,omitempty"`
}

// Account is a funded test account whose key the network directory holds.
type Account struct {
	Name string `json:"name"`
	// KeyFile is the account's signer file, relative to the network directory.
	KeyFile string          `json:"key_file"`
	Address staking.Address `json:"address"`
}

// LoadManifest reads the manifest of the network directory dir.
func LoadManifest(dir string) (*Manifest, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("network: %s holds no network (no %s); write one with Fixture.Write", dir, ManifestFile)
		}
		return nil, fmt.Errorf("network: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("network: decoding %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if len(m.Nodes) == 0 {
		return nil, fmt.Errorf("network: %s lists no nodes", filepath.Join(dir, ManifestFile))
	}
	m.Dir = dir
	return &m, nil
}

func (m *Manifest) write() error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("network: encoding the manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(m.Dir, ManifestFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	return nil
}

// GenesisFile returns the path of the network's genesis document.
func (m *Manifest) GenesisFile() string { return filepath.Join(m.Dir, GenesisFile) }

// NodeDir returns node i's data directory.
func (m *Manifest) NodeDir(i int) string { return filepath.Join(m.Dir, m.Nodes[i].Name) }

// ConfigFile returns the path of node i's configuration file.
func (m *Manifest) ConfigFile(i int) string { return filepath.Join(m.NodeDir(i), ConfigFile) }

// LogFile returns the path of node i's log.
func (m *Manifest) LogFile(i int) string { return filepath.Join(m.NodeDir(i), LogFile) }

// Socket returns the path of node i's gRPC Unix socket.
func (m *Manifest) Socket(i int) string { return filepath.Join(m.NodeDir(i), SocketFile) }

// AccountSigner loads the key of funded account i. The caller owns the signer (Reset it when
// done).
func (m *Manifest) AccountSigner(i int) (*signature.MemorySigner, error) {
	s, err := signature.LoadSignerFile(filepath.Join(m.Dir, m.Accounts[i].KeyFile))
	if err != nil {
		return nil, fmt.Errorf("network: account %d: %w", i, err)
	}
	return s, nil
}
