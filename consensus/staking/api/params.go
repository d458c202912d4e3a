package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/quantity"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// ThresholdKind is a kind of stake requirement.
type ThresholdKind uint8

const (
	// KindEntity is required of every registered entity.
	KindEntity ThresholdKind = 0
	// KindNodeValidator is required per node with the validator role.
	KindNodeValidator ThresholdKind = 1
	// KindNodeCompute is required per node with the compute role.
	KindNodeCompute ThresholdKind = 2
	// KindNodeStorage is required per node with the storage role.
	KindNodeStorage ThresholdKind = 3
	// KindRuntime is required per runtime an entity owns.
	KindRuntime ThresholdKind = 4

	maxThresholdKind = KindRuntime
)

// String names the kind.
func (k ThresholdKind) String() string {
	switch k {
	case KindEntity:
		return "entity"
	case KindNodeValidator:
		return "node-validator"
	case KindNodeCompute:
		return "node-compute"
	case KindNodeStorage:
		return "node-storage"
	case KindRuntime:
		return "runtime"
	}
	return fmt.Sprintf("unknown(%d)", uint8(k))
}

// Valid reports whether k is a known kind.
func (k ThresholdKind) Valid() bool { return k <= maxThresholdKind }

// StakeThresholds are the escrow amounts each kind of claim requires.
type StakeThresholds struct {
	Entity        quantity.Quantity `json:"entity" cbor:"entity"`
	NodeValidator quantity.Quantity `json:"node_validator" cbor:"node_validator"`
	NodeCompute   quantity.Quantity `json:"node_compute" cbor:"node_compute"`
	NodeStorage   quantity.Quantity `json:"node_storage" cbor:"node_storage"`
	Runtime       quantity.Quantity `json:"runtime" cbor:"runtime"`
}

// Of returns the threshold of kind k (zero for an unknown kind, which Valid rules out).
func (t *StakeThresholds) Of(k ThresholdKind) *quantity.Quantity {
	switch k {
	case KindEntity:
		return &t.Entity
	case KindNodeValidator:
		return &t.NodeValidator
	case KindNodeCompute:
		return &t.NodeCompute
	case KindNodeStorage:
		return &t.NodeStorage
	case KindRuntime:
		return &t.Runtime
	}
	return new(quantity.Quantity)
}

// SlashReason says why stake is slashed.
type SlashReason uint8

const (
	// SlashIncorrectResults punishes a commitment to results the committee outvoted.
	SlashIncorrectResults SlashReason = 0x80
	// SlashEquivocation punishes signing two conflicting statements.
	SlashEquivocation SlashReason = 0x81
	// SlashLiveness punishes repeated liveness failures.
	SlashLiveness SlashReason = 0x82
)

// String names the reason.
func (r SlashReason) String() string {
	switch r {
	case SlashIncorrectResults:
		return "incorrect-results"
	case SlashEquivocation:
		return "equivocation"
	case SlashLiveness:
		return "liveness"
	}
	return fmt.Sprintf("unknown(0x%02x)", uint8(r))
}

// SlashParams are the penalty for one reason.
type SlashParams struct {
	// Amount is taken from the offender's escrow (active and debonding, in proportion).
	Amount quantity.Quantity `json:"amount" cbor:"amount"`
	// FreezeInterval is how many epochs the offending node is frozen for.
	FreezeInterval beacon.EpochTime `json:"freeze_interval" cbor:"freeze_interval"`
}

// SlashingParams are the penalties per reason.
type SlashingParams struct {
	IncorrectResults SlashParams `json:"incorrect_results" cbor:"incorrect_results"`
	Equivocation     SlashParams `json:"equivocation" cbor:"equivocation"`
	Liveness         SlashParams `json:"liveness" cbor:"liveness"`
}

// Of returns the parameters of reason r, or false for an unknown reason.
func (s *SlashingParams) Of(r SlashReason) (*SlashParams, bool) {
	switch r {
	case SlashIncorrectResults:
		return &s.IncorrectResults, true
	case SlashEquivocation:
		return &s.Equivocation, true
	case SlashLiveness:
		return &s.Liveness, true
	}
	return nil, false
}

// Gas cost keys of GasCosts, one per method.
const (
	GasOpTransfer      = "transfer"
	GasOpAddEscrow     = "add_escrow"
	GasOpReclaimEscrow = "reclaim_escrow"
	GasOpAllow         = "allow"
	GasOpWithdraw      = "withdraw"
)

var gasOps = []string{GasOpTransfer, GasOpAddEscrow, GasOpReclaimEscrow, GasOpAllow, GasOpWithdraw}

// ConsensusParameters are the staking service's parameters, fixed in the genesis document.
type ConsensusParameters struct {
	// DebondingInterval is the number of epochs reclaimed escrow waits before release.
	DebondingInterval beacon.EpochTime `json:"debonding_interval" cbor:"debonding_interval"`
	// Thresholds are the stake required per kind of claim.
	Thresholds StakeThresholds `json:"thresholds" cbor:"thresholds"`
	// Slashing are the penalties per reason.
	Slashing SlashingParams `json:"slashing" cbor:"slashing"`
	// GasCosts is the gas each method uses, keyed by GasOp*.
	GasCosts map[string]transaction.Gas `json:"gas_costs" cbor:"gas_costs"`
	// MinGasPrice is the lowest fee per unit of gas: fee.amount ≥ fee.gas × min_gas_price.
	MinGasPrice quantity.Quantity `json:"min_gas_price" cbor:"min_gas_price"`
	// MinDelegation is the smallest escrow deposit.
	MinDelegation quantity.Quantity `json:"min_delegation" cbor:"min_delegation"`
	// MaxAllowances bounds the beneficiaries per account (0 disables allowances).
	MaxAllowances uint32 `json:"max_allowances" cbor:"max_allowances"`
}

// MaxDebondingInterval bounds DebondingInterval.
const MaxDebondingInterval = 1 << 20

// SanityCheck checks the parameters' ranges.
func (p *ConsensusParameters) SanityCheck() error {
	if p.DebondingInterval > MaxDebondingInterval {
		return fmt.Errorf("staking: debonding_interval %d above %d", p.DebondingInterval, MaxDebondingInterval)
	}
	for _, op := range gasOps {
		if _, ok := p.GasCosts[op]; !ok {
			return fmt.Errorf("staking: gas_costs lacks %q", op)
		}
	}
	for op := range p.GasCosts {
		if !knownGasOp(op) {
			return fmt.Errorf("staking: gas_costs has unknown method %q", op)
		}
	}
	return nil
}

func knownGasOp(op string) bool {
	for _, o := range gasOps {
		if o == op {
			return true
		}
	}
	return false
}

// DefaultGasCosts returns 1000 gas for every method.
func DefaultGasCosts() map[string]transaction.Gas {
	m := make(map[string]transaction.Gas, len(gasOps))
	for _, op := range gasOps {
		m[op] = 1000
	}
	return m
}
