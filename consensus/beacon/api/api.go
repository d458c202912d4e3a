// Package api defines the beacon service's types: epochs, parameters, entropy, events, the
// epoch-change message and queries. It is pure.
//
// The epoch of a block at height h is h / epoch_interval. The epoch changes in BeginBlock of
// the first block whose height gives a new epoch; the first block of the chain always counts
// as a change (from no epoch), so other services see an epoch transition at genesis.
//
// The insecure backend's entropy for an epoch is
// H("atoll/beacon: insecure" || chain_context || u64be(epoch)). It is a function of public
// values only: anyone can compute it ahead of time, and whoever chooses the genesis document
// chooses it. It is NOT random and must not protect anything of value; a VRF backend is the
// production goal.
package api

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
)

// ModuleName is the service's name: its application name, error module and method prefix.
const ModuleName = "beacon"

// BackendInsecure is the dev backend: entropy derived from the chain context alone.
const BackendInsecure = "insecure"

// EpochTime is an epoch number.
type EpochTime uint64

// EpochInvalid is the epoch of nothing (no epoch yet).
const EpochInvalid EpochTime = math.MaxUint64

// EpochAt returns the epoch of the block at height: height / interval. It panics on a
// non-positive interval or negative height, which SanityCheck and CometBFT rule out.
func EpochAt(height int64, interval int64) EpochTime {
	if interval <= 0 || height < 0 {
		panic(fmt.Sprintf("beacon: EpochAt(%d, %d)", height, interval))
	}
	return EpochTime(height / interval)
}

var insecureEntropyContext = []byte("atoll/beacon: insecure")

// InsecureEntropy returns the insecure backend's entropy for epoch on the chain with the given
// chain context. See the package comment: it is predictable and biasable.
func InsecureEntropy(chain hash.Hash, epoch EpochTime) hash.Hash {
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], uint64(epoch))
	return hash.Digest(insecureEntropyContext, chain[:], e[:])
}

// ConsensusParameters are the beacon's parameters, fixed in the genesis document.
type ConsensusParameters struct {
	// Backend names the entropy backend; only BackendInsecure exists.
	Backend string `json:"backend" cbor:"backend"`
	// EpochInterval is the number of blocks per epoch.
	EpochInterval int64 `json:"epoch_interval" cbor:"epoch_interval"`
}

// MaxEpochInterval bounds EpochInterval (about a year of one-second blocks).
const MaxEpochInterval = 1 << 25

// Genesis is the beacon's part of the genesis document.
type Genesis struct {
	Params ConsensusParameters `json:"params" cbor:"params"`
}

// SanityCheck checks the parameters' ranges.
func (g *Genesis) SanityCheck() error {
	if g.Params.Backend != BackendInsecure {
		return fmt.Errorf("beacon: unknown backend %q", g.Params.Backend)
	}
	if g.Params.EpochInterval <= 0 || g.Params.EpochInterval > MaxEpochInterval {
		return fmt.Errorf("beacon: epoch_interval %d out of range 1..%d", g.Params.EpochInterval, MaxEpochInterval)
	}
	return nil
}

// EpochChangedEvent is emitted in BeginBlock when the epoch changes.
type EpochChangedEvent struct {
	Epoch EpochTime `cbor:"epoch"`
	// Height is the height of the epoch's first block.
	Height  int64     `cbor:"height"`
	Entropy hash.Hash `cbor:"entropy"`
}

// EventKind implements consensus.Event.
func (EpochChangedEvent) EventKind() string { return "beacon.EpochChanged" }

// EpochChangedMessage is published to the other applications, in BeginBlock, when the epoch
// changes. Previous is EpochInvalid for the chain's first epoch.
type EpochChangedMessage struct {
	Epoch    EpochTime
	Previous EpochTime
	Entropy  hash.Hash
}

// MessageKindEpochChanged is the kind of EpochChangedMessage.
const MessageKindEpochChanged = "beacon.EpochChanged"

// MessageKind implements consensus.Message.
func (EpochChangedMessage) MessageKind() string { return MessageKindEpochChanged }

// Query methods. Both take no arguments (an empty or nil body).
const (
	// QueryEpoch answers EpochInfo.
	QueryEpoch = "beacon.Epoch"
	// QueryEntropy answers EpochInfo (its Entropy field is what the caller wants).
	QueryEntropy = "beacon.Entropy"
)

// EpochInfo describes the current epoch at the queried height.
type EpochInfo struct {
	Epoch EpochTime `cbor:"epoch"`
	// Height is the height at which the epoch started.
	Height   int64     `cbor:"height"`
	Interval int64     `cbor:"interval"`
	Entropy  hash.Hash `cbor:"entropy"`
}

// ErrNoEpoch is returned by queries before the first block.
var ErrNoEpoch = errors.New(ModuleName, 1, "no epoch yet")
