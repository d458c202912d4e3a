package cometbft

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
)

// ErrNoKeys is returned when the consensus or P2P key is missing from the home directory.
var ErrNoKeys = errors.New("cometbft: keys missing")

// File layout inside the home directory: CometBFT's own.
const (
	configDir        = "config"
	dataDir          = "data"
	privValKeyName   = "priv_validator_key.json"
	privValStateName = "priv_validator_state.json"
	nodeKeyName      = "node_key.json"
)

// PublicKeys are the public halves of a node's CometBFT keys.
type PublicKeys struct {
	// Consensus is the Ed25519 validator (consensus) public key.
	Consensus [32]byte
	// P2PID is the node's P2P ID, the hex string peers put before "@host:port".
	P2PID string
}

func keyPaths(home string) (pvKey, pvState, nodeKey string) {
	return filepath.Join(home, configDir, privValKeyName),
		filepath.Join(home, dataDir, privValStateName),
		filepath.Join(home, configDir, nodeKeyName)
}

// GenerateKeys writes a new consensus key in CometBFT's FilePV format (key and double-sign
// protection state) and a new P2P node key into the home directory, all with mode 0600. It
// refuses to overwrite any existing key file.
func GenerateKeys(home string) (PublicKeys, error) {
	pvKey, pvState, nodeKey := keyPaths(home)
	for _, p := range []string{pvKey, pvState, nodeKey} {
		if _, err := os.Lstat(p); err == nil {
			return PublicKeys{}, fmt.Errorf("cometbft: %s already exists; keys are never overwritten", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return PublicKeys{}, fmt.Errorf("cometbft: %w", err)
		}
	}
	for _, d := range []string{filepath.Join(home, configDir), filepath.Join(home, dataDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return PublicKeys{}, fmt.Errorf("cometbft: %w", err)
		}
	}
	nk := &p2p.NodeKey{PrivKey: ed25519.GenPrivKey()}
	if err := nk.SaveAs(nodeKey); err != nil {
		return PublicKeys{}, fmt.Errorf("cometbft: saving node key: %w", err)
	}
	pv := privval.GenFilePV(pvKey, pvState)
	if err := savePV(pv); err != nil {
		return PublicKeys{}, err
	}
	return ReadPublicKeys(home)
}

// savePV saves a FilePV, turning CometBFT's panics on I/O errors into an error.
func savePV(pv *privval.FilePV) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cometbft: saving consensus key: %v", r)
		}
	}()
	pv.Save()
	return nil
}

// ReadPublicKeys reads the public keys of the keys in the home directory.
func ReadPublicKeys(home string) (PublicKeys, error) {
	pvKeyPath, _, nodeKeyPath := keyPaths(home)
	var pvKey privval.FilePVKey
	if err := readKeyJSON(pvKeyPath, &pvKey); err != nil {
		return PublicKeys{}, err
	}
	var nk p2p.NodeKey
	if err := readKeyJSON(nodeKeyPath, &nk); err != nil {
		return PublicKeys{}, err
	}
	var out PublicKeys
	pub, ok := pvKey.PrivKey.PubKey().(ed25519.PubKey)
	if !ok || len(pub) != len(out.Consensus) {
		return PublicKeys{}, fmt.Errorf("cometbft: %s: consensus key is %s, want ed25519", pvKeyPath, pvKey.PrivKey.Type())
	}
	copy(out.Consensus[:], pub)
	out.P2PID = string(nk.ID())
	return out, nil
}

// loadPrivValidator opens the FilePV of the home directory. CometBFT's loader exits the
// process on a missing or malformed file, so both files are checked here first.
func loadPrivValidator(home string) (*privval.FilePV, error) {
	pvKeyPath, pvStatePath, _ := keyPaths(home)
	var key privval.FilePVKey
	if err := readKeyJSON(pvKeyPath, &key); err != nil {
		return nil, err
	}
	var state privval.FilePVLastSignState
	if err := readKeyJSON(pvStatePath, &state); err != nil {
		if errors.Is(err, ErrNoKeys) {
			return nil, fmt.Errorf("%w: the double-sign protection state %s is missing while the key exists; "+
				"restore it from a backup (starting without it risks double signing)", ErrNoKeys, pvStatePath)
		}
		return nil, err
	}
	return privval.LoadFilePV(pvKeyPath, pvStatePath), nil
}

func loadNodeKey(home string) (*p2p.NodeKey, error) {
	_, _, path := keyPaths(home)
	var nk p2p.NodeKey
	if err := readKeyJSON(path, &nk); err != nil {
		return nil, err
	}
	return &nk, nil
}

// readKeyJSON decodes a CometBFT key file, refusing files that group or others can read.
func readKeyJSON(path string, v any) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s does not exist", ErrNoKeys, path)
	} else if err != nil {
		return fmt.Errorf("cometbft: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("cometbft: %s has mode %04o; run chmod 600 on it", path, perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cometbft: %w", err)
	}
	if err := cmtjson.Unmarshal(data, v); err != nil {
		return fmt.Errorf("cometbft: malformed key file %s: %w", path, err)
	}
	return nil
}
