// Package genesis defines the genesis document: the JSON file every node of a chain starts
// from, its strict decoding, its chain context and its SanityCheck.
//
// The chain context is H(canonical CBOR of the decoded document), so the file's formatting
// does not matter but every value does. CometBFT's chain_id is the first 50 hex characters of
// the chain context (CometBFT's limit); the genesis time and initial height come from the
// document.
//
// Each service owns one section (its parameters and initial state), typed by the service's
// api package; the roothash section is an extension point its service fills in. Descriptors
// inside the document are signed with their services' non-chain-bound contexts, since they
// cannot sign the hash of the document containing them.
//
// The package is pure: it reads and writes bytes, never files.
package genesis

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// MaxDocumentSize caps a genesis file.
const MaxDocumentSize = 64 << 20

// CometBFTChainIDLength is the length of CometBFT's chain_id: the first hex characters of the
// chain context.
const CometBFTChainIDLength = 50

// Document is the genesis document.
type Document struct {
	// ChainID is a human name for the chain ("atoll-devnet"); it is part of the chain context
	// but is not CometBFT's chain_id (see CometBFTChainID).
	ChainID string `json:"chain_id" cbor:"chain_id"`
	// GenesisTime is the time of the first block, in whole seconds.
	GenesisTime time.Time `json:"genesis_time" cbor:"genesis_time"`
	// InitialHeight is the height of the first block (≥ 1).
	InitialHeight int64 `json:"initial_height" cbor:"initial_height"`
	// Consensus are the consensus layer's own parameters.
	Consensus ConsensusParams `json:"consensus" cbor:"consensus"`
	// Validators are the initial validator set; each validator's entity is paid its
	// proposals' fees.
	Validators []Validator     `json:"validators" cbor:"validators"`
	Beacon     beacon.Genesis  `json:"beacon" cbor:"beacon"`
	Staking    staking.Genesis `json:"staking" cbor:"staking"`
	// Registry is the registry's section: parameters and the genesis entities, runtimes and
	// nodes. Absent, the registry starts empty with registry.DefaultConsensusParameters.
	Registry *registry.Genesis `json:"registry,omitempty" cbor:"registry,omitempty"`
	// Scheduler is the scheduler's section; absent, it has its (empty) default parameters.
	Scheduler *scheduler.Genesis `json:"scheduler,omitempty" cbor:"scheduler,omitempty"`
	Roothash  *RoothashGenesis   `json:"roothash,omitempty" cbor:"roothash,omitempty"`
}

// ConsensusParams are the consensus layer's own parameters.
type ConsensusParams struct {
	// MaxBlockBytes is CometBFT's block size limit.
	MaxBlockBytes int64 `json:"max_block_bytes" cbor:"max_block_bytes"`
	// MaxBlockGas bounds the sum of the transactions' fee.gas in a block.
	MaxBlockGas transaction.Gas `json:"max_block_gas" cbor:"max_block_gas"`
	// MaxTxBytes bounds one signed transaction.
	MaxTxBytes int64 `json:"max_tx_bytes" cbor:"max_tx_bytes"`
}

// Validator is a genesis validator.
type Validator struct {
	// EntityID is the public key of the entity operating the validator; fees go to its
	// staking account.
	EntityID signature.PublicKey `json:"entity_id" cbor:"entity_id"`
	// ConsensusKey is the validator's Ed25519 CometBFT key.
	ConsensusKey signature.PublicKey `json:"consensus_key" cbor:"consensus_key"`
	// Power is the voting power.
	Power int64 `json:"power" cbor:"power"`
}

// Decode strictly decodes a JSON genesis document: at most MaxDocumentSize bytes, exactly one
// JSON value, no unknown fields. It does not run SanityCheck.
func Decode(data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("genesis: document of %d bytes, limit %d", len(data), MaxDocumentSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("genesis: decoding: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("genesis: trailing data after the document")
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("genesis: trailing data after the document")
	}
	return &d, nil
}

// Load decodes a JSON genesis document and sanity-checks it.
func Load(data []byte) (*Document, error) {
	d, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := d.SanityCheck(); err != nil {
		return nil, err
	}
	return d, nil
}

// EncodeJSON returns the document as indented JSON.
func (d *Document) EncodeJSON() ([]byte, error) {
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("genesis: encoding: %w", err)
	}
	return append(out, '\n'), nil
}

// ChainContext returns H(canonical CBOR of the document), the value every chain-bound
// signature is bound to.
func (d *Document) ChainContext() hash.Hash {
	return hash.DigestCBOR(d)
}

// CometBFTChainID returns CometBFT's chain_id: the first 50 hex characters of the chain
// context.
func (d *Document) CometBFTChainID() string {
	cc := d.ChainContext()
	return hex.EncodeToString(cc[:])[:CometBFTChainIDLength]
}

// EntityAddress returns the staking account of a validator's entity.
func (v *Validator) EntityAddress() staking.Address { return staking.NewAddress(v.EntityID) }
