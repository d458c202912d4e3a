package api

import (
	"fmt"

	"github.com/atoll-project/atoll/consensus/transaction"
)

// Gas cost keys of ConsensusParameters.GasCosts.
const (
	// GasOpComputeCommit is charged per commitment of an ExecutorCommit.
	GasOpComputeCommit = "compute_commit"
	// GasOpProposerTimeout is charged per ProposerTimeout.
	GasOpProposerTimeout = "proposer_timeout"
	// GasOpEvidence is charged per SubmitEvidence.
	GasOpEvidence = "evidence"
)

var gasOps = []string{GasOpComputeCommit, GasOpProposerTimeout, GasOpEvidence}

// ConsensusParameters are the roothash service's parameters, fixed in the genesis document.
// Per-runtime parameters (timeouts, committee sizes, max_messages) live in the runtime
// descriptor; the consensus-wide bound on max_messages is the registry's
// max_runtime_messages.
type ConsensusParameters struct {
	// MaxEvidenceAge is how many rounds back equivocation evidence is accepted.
	MaxEvidenceAge uint64 `json:"max_evidence_age" cbor:"max_evidence_age"`
	// MaxPastRootsStored is how many of each runtime's latest blocks stay queryable by
	// round (the latest block always is).
	MaxPastRootsStored uint64 `json:"max_past_roots_stored" cbor:"max_past_roots_stored"`
	// GasCosts is the gas each method uses, keyed by GasOp*.
	GasCosts map[string]transaction.Gas `json:"gas_costs" cbor:"gas_costs"`
}

// Defaults and bounds of the parameters.
const (
	DefaultMaxEvidenceAge     = 100
	DefaultMaxPastRootsStored = 1200
	// MaxMaxPastRootsStored bounds max_past_roots_stored.
	MaxMaxPastRootsStored = 1 << 20
	// MaxMaxEvidenceAge bounds max_evidence_age.
	MaxMaxEvidenceAge = 1 << 20
)

// DefaultConsensusParameters returns max_evidence_age 100, max_past_roots_stored 1200 and
// 1000 gas per method.
func DefaultConsensusParameters() ConsensusParameters {
	return ConsensusParameters{
		MaxEvidenceAge:     DefaultMaxEvidenceAge,
		MaxPastRootsStored: DefaultMaxPastRootsStored,
		GasCosts:           DefaultGasCosts(),
	}
}

// DefaultGasCosts returns 1000 gas for every method.
func DefaultGasCosts() map[string]transaction.Gas {
	m := make(map[string]transaction.Gas, len(gasOps))
	for _, op := range gasOps {
		m[op] = 1000
	}
	return m
}

// SanityCheck checks the parameters' ranges.
func (p *ConsensusParameters) SanityCheck() error {
	switch {
	case p.MaxEvidenceAge > MaxMaxEvidenceAge:
		return fmt.Errorf("roothash: max_evidence_age %d above %d", p.MaxEvidenceAge, MaxMaxEvidenceAge)
	case p.MaxPastRootsStored < 1 || p.MaxPastRootsStored > MaxMaxPastRootsStored:
		return fmt.Errorf("roothash: max_past_roots_stored %d out of range 1..%d", p.MaxPastRootsStored, MaxMaxPastRootsStored)
	case len(p.GasCosts) != len(gasOps):
		return fmt.Errorf("roothash: gas_costs has %d entries, want exactly %v", len(p.GasCosts), gasOps)
	}
	for _, op := range gasOps {
		if _, ok := p.GasCosts[op]; !ok {
			return fmt.Errorf("roothash: gas_costs lacks %q", op)
		}
	}
	return nil
}

// Genesis is the roothash section of the genesis document. Runtimes get their genesis blocks
// from their descriptors in the registry section.
type Genesis struct {
	Params ConsensusParameters `json:"params" cbor:"params"`
}

// SanityCheck checks the section.
func (g *Genesis) SanityCheck() error { return g.Params.SanityCheck() }
