package genesis

import (
	"fmt"

	"github.com/atoll-project/atoll/consensus/transaction"
)

// Limits on the consensus parameters.
const (
	// MaxChainIDLength bounds Document.ChainID.
	MaxChainIDLength = 64
	// MinBlockBytes is the smallest max_block_bytes allowed.
	MinBlockBytes = 1 << 10
	// MaxBlockBytes is CometBFT's own limit on max_block_bytes (100 MiB).
	MaxBlockBytes = 100 << 20
	// MaxValidators bounds the genesis validator set.
	MaxValidators = 1 << 10
	// MaxPower bounds one validator's power (CometBFT's total-power limit divided by
	// MaxValidators keeps the total in range).
	MaxPower = (1 << 50) / MaxValidators
)

// SanityCheck checks the whole document: the chain ID, time and height, the consensus
// parameters' ranges, the validators (valid power, distinct consensus keys, entities with
// staking accounts) and every service's section (including that the total supply adds up and
// that the genesis escrow covers the registry's stake claims).
func (d *Document) SanityCheck() error {
	if n := len(d.ChainID); n == 0 || n > MaxChainIDLength {
		return fmt.Errorf("genesis: chain_id of %d bytes, want 1..%d", n, MaxChainIDLength)
	}
	for i := 0; i < len(d.ChainID); i++ {
		if c := d.ChainID[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("genesis: chain_id %q is not printable ASCII without spaces", d.ChainID)
		}
	}
	if d.GenesisTime.IsZero() || d.GenesisTime.Nanosecond() != 0 || d.GenesisTime.Unix() < 0 {
		return fmt.Errorf("genesis: genesis_time %s must be set, after 1970, in whole seconds", d.GenesisTime)
	}
	if d.InitialHeight < 1 {
		return fmt.Errorf("genesis: initial_height %d, want ≥ 1", d.InitialHeight)
	}
	if err := d.Consensus.SanityCheck(); err != nil {
		return err
	}
	if err := d.Beacon.SanityCheck(); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	if err := d.Staking.SanityCheck(); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	if err := d.checkValidators(); err != nil {
		return err
	}
	if err := d.checkRegistry(); err != nil {
		return err
	}
	return d.checkRoothash()
}

// SanityCheck checks the consensus parameters' ranges.
func (p *ConsensusParams) SanityCheck() error {
	if p.MaxBlockBytes < MinBlockBytes || p.MaxBlockBytes > MaxBlockBytes {
		return fmt.Errorf("genesis: max_block_bytes %d out of range %d..%d", p.MaxBlockBytes, MinBlockBytes, MaxBlockBytes)
	}
	if p.MaxBlockGas == 0 || p.MaxBlockGas > 1<<62 {
		return fmt.Errorf("genesis: max_block_gas %d out of range 1..2^62", p.MaxBlockGas)
	}
	if p.MaxTxBytes <= 0 || p.MaxTxBytes > p.MaxBlockBytes || p.MaxTxBytes > transaction.MaxSize {
		return fmt.Errorf("genesis: max_tx_bytes %d out of range 1..min(max_block_bytes, %d)", p.MaxTxBytes, transaction.MaxSize)
	}
	return nil
}

func (d *Document) checkValidators() error {
	if len(d.Validators) == 0 || len(d.Validators) > MaxValidators {
		return fmt.Errorf("genesis: %d validators, want 1..%d", len(d.Validators), MaxValidators)
	}
	seen := make(map[[32]byte]bool, len(d.Validators))
	for i := range d.Validators {
		v := &d.Validators[i]
		if v.Power <= 0 || v.Power > MaxPower {
			return fmt.Errorf("genesis: validator %d: power %d out of range 1..%d", i, v.Power, MaxPower)
		}
		if seen[v.ConsensusKey] {
			return fmt.Errorf("genesis: validator %d: consensus key %s repeated", i, v.ConsensusKey)
		}
		seen[v.ConsensusKey] = true
		if !d.Staking.HasAccount(v.EntityAddress()) {
			return fmt.Errorf("genesis: validator %d: entity %s has no staking account", i, v.EntityID)
		}
	}
	return nil
}
