package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/cometbft"
)

// Layout of the data directory.
const (
	// EntityKeyFile, NodeKeyFile and TLSKeyFile are the signature key files (mode 0600).
	EntityKeyFile = "entity.pem"
	NodeKeyFile   = "node.pem"
	TLSKeyFile    = "tls.pem"
	// ConsensusDir is CometBFT's home: the consensus key in CometBFT's FilePV format with its
	// double-sign protection state, the P2P key, CometBFT's databases.
	ConsensusDir = "consensus"
	// AppDir is the consensus application's own directory (its state database).
	AppDir = "app"
)

// ErrNoIdentity is returned when the data directory holds no keys.
var ErrNoIdentity = errors.New("node: no keys in the data directory")

// Identity is a node's keys. The signers hold private keys: do not log or copy them.
type Identity struct {
	Entity *signature.MemorySigner
	Node   *signature.MemorySigner
	TLS    *signature.MemorySigner
	// Public holds the public halves of every key, the consensus and P2P keys included.
	Public PublicIdentity
}

// PublicIdentity is the public halves of a node's keys, as `atoll keys show` prints them.
type PublicIdentity struct {
	Entity signature.PublicKey `cbor:"entity" json:"entity"`
	Node   signature.PublicKey `cbor:"node" json:"node"`
	TLS    signature.PublicKey `cbor:"tls" json:"tls"`
	// Consensus is the Ed25519 validator key of CometBFT.
	Consensus signature.PublicKey `cbor:"consensus" json:"consensus"`
	// P2PID is CometBFT's node ID, for peers' `id@host:port`.
	P2PID string `cbor:"p2p_id" json:"p2p_id"`
}

// TLSPrivateKey returns the TLS key as a crypto/ed25519 key, for certificates.
func (id *Identity) TLSPrivateKey() ed25519.PrivateKey {
	seed := id.TLS.Seed()
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed)
}

func signerPaths(dataDir string) []string {
	return []string{
		filepath.Join(dataDir, EntityKeyFile),
		filepath.Join(dataDir, NodeKeyFile),
		filepath.Join(dataDir, TLSKeyFile),
	}
}

// GenerateIdentity creates the data directory (mode 0700) if needed and writes new entity,
// node, TLS, consensus and P2P keys into it, each file with mode 0600. It refuses to touch a
// directory that already holds any of them.
func GenerateIdentity(dataDir string) (PublicIdentity, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return PublicIdentity{}, fmt.Errorf("node: %w", err)
	}
	for _, p := range signerPaths(dataDir) {
		if _, err := os.Lstat(p); err == nil {
			return PublicIdentity{}, fmt.Errorf("node: %s already exists; keys are never overwritten (`atoll keys show` prints them)", p)
		}
	}
	if _, err := cometbft.ReadPublicKeys(filepath.Join(dataDir, ConsensusDir)); !errors.Is(err, cometbft.ErrNoKeys) {
		return PublicIdentity{}, fmt.Errorf("node: consensus keys already exist in %s; keys are never overwritten", filepath.Join(dataDir, ConsensusDir))
	}
	for _, p := range signerPaths(dataDir) {
		s, err := signature.GenerateSigner(rand.Reader)
		if err != nil {
			return PublicIdentity{}, fmt.Errorf("node: %w", err)
		}
		err = signature.SaveSignerFile(p, s)
		s.Reset()
		if err != nil {
			return PublicIdentity{}, fmt.Errorf("node: %w", err)
		}
	}
	if _, err := cometbft.GenerateKeys(filepath.Join(dataDir, ConsensusDir)); err != nil {
		return PublicIdentity{}, fmt.Errorf("node: %w", err)
	}
	id, err := LoadIdentity(dataDir)
	if err != nil {
		return PublicIdentity{}, err
	}
	defer id.Reset()
	return id.Public, nil
}

// LoadIdentity opens the keys of the data directory.
func LoadIdentity(dataDir string) (*Identity, error) {
	paths := signerPaths(dataDir)
	signers := make([]*signature.MemorySigner, len(paths))
	for i, p := range paths {
		s, err := signature.LoadSignerFile(p)
		if err != nil {
			for _, o := range signers[:i] {
				o.Reset()
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: %s is missing; run `atoll keys generate --datadir %s`", ErrNoIdentity, p, dataDir)
			}
			return nil, fmt.Errorf("node: %w", err)
		}
		signers[i] = s
	}
	id := &Identity{Entity: signers[0], Node: signers[1], TLS: signers[2]}
	cons, err := cometbft.ReadPublicKeys(filepath.Join(dataDir, ConsensusDir))
	if err != nil {
		id.Reset()
		if errors.Is(err, cometbft.ErrNoKeys) {
			return nil, fmt.Errorf("%w: %w", ErrNoIdentity, err)
		}
		return nil, fmt.Errorf("node: %w", err)
	}
	id.Public = PublicIdentity{
		Entity:    id.Entity.Public(),
		Node:      id.Node.Public(),
		TLS:       id.TLS.Public(),
		Consensus: signature.PublicKey(cons.Consensus),
		P2PID:     cons.P2PID,
	}
	return id, nil
}

// Reset wipes the private keys from memory.
func (id *Identity) Reset() {
	id.Entity.Reset()
	id.Node.Reset()
	id.TLS.Reset()
}
