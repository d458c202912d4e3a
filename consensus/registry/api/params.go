package api

import (
	"fmt"
	"sort"

	"github.com/atoll-project/atoll/common/cbor"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// Gas cost keys of ConsensusParameters.GasCosts, one per method.
const (
	GasOpRegisterEntity   = "register_entity"
	GasOpDeregisterEntity = "deregister_entity"
	GasOpRegisterNode     = "register_node"
	GasOpRegisterRuntime  = "register_runtime"
)

var gasOps = []string{GasOpRegisterEntity, GasOpDeregisterEntity, GasOpRegisterNode, GasOpRegisterRuntime}

// ConsensusParameters are the registry's parameters, fixed in the genesis document.
type ConsensusParameters struct {
	// MaxNodeExpiration bounds how far ahead a node registers: expiration ≤ epoch + this.
	MaxNodeExpiration beacon.EpochTime `json:"max_node_expiration" cbor:"max_node_expiration"`
	// MinDeploymentNotice is the least number of epochs between a new or changed deployment
	// entry's transaction and its valid_from (≥ 2, so nodes can pre-warm and register).
	MinDeploymentNotice beacon.EpochTime `json:"min_deployment_notice" cbor:"min_deployment_notice"`
	// MaxDeployments bounds a runtime descriptor's deployments.
	MaxDeployments uint16 `json:"max_deployments" cbor:"max_deployments"`
	// MaxRuntimeMessages bounds every runtime's executor.max_messages.
	MaxRuntimeMessages uint32 `json:"max_runtime_messages" cbor:"max_runtime_messages"`
	// MaxFrameSize is the Runtime Host Protocol's frame cap in bytes; a runtime's
	// max_batch_size_bytes may be at most a quarter of it.
	MaxFrameSize uint64 `json:"max_frame_size" cbor:"max_frame_size"`
	// DebugAllowMockTEE admits runtimes with tee_hardware = mock. INSECURE; development
	// networks only.
	DebugAllowMockTEE bool `json:"debug_allow_mock_tee,omitempty" cbor:"debug_allow_mock_tee,omitempty"`
	// EpochMaintenanceGas is the gas a node registration pays per runtime and per epoch paid
	// ahead (MaintenanceFee).
	EpochMaintenanceGas transaction.Gas `json:"epoch_maintenance_gas" cbor:"epoch_maintenance_gas"`
	// GasCosts is the gas each method uses, keyed by GasOp*.
	GasCosts map[string]transaction.Gas `json:"gas_costs" cbor:"gas_costs"`
}

// Defaults and ranges of the parameters.
const (
	DefaultMaxNodeExpiration   beacon.EpochTime = 10
	DefaultMinDeploymentNotice beacon.EpochTime = 2
	DefaultMaxDeployments                       = 8
	DefaultMaxRuntimeMessages                   = 128
	DefaultMaxFrameSize                         = 16 << 20
	DefaultEpochMaintenanceGas transaction.Gas  = 1000

	// MinMinDeploymentNotice is the least min_deployment_notice a genesis may set.
	MinMinDeploymentNotice beacon.EpochTime = 2
	// MaxEpochParameter bounds the epoch-valued parameters, so that epoch + parameter never
	// overflows in practice and genesis typos are caught.
	MaxEpochParameter beacon.EpochTime = 1 << 20
	// MinMaxDeployments is the least max_deployments: an active entry and one future entry.
	MinMaxDeployments = 2
	// MaxMaxDeployments bounds max_deployments.
	MaxMaxDeployments = 64
	// MaxMaxRuntimeMessages bounds max_runtime_messages.
	MaxMaxRuntimeMessages = 1 << 16
	// MinMaxFrameSize is the least frame cap: it leaves room for the 1 KiB minimum of
	// max_batch_size_bytes.
	MinMaxFrameSize = 4 * MinMaxBatchSizeBytes
	// MaxMaxFrameSize is the largest frame cap: what the strict CBOR decoder accepts.
	MaxMaxFrameSize = cbor.MaxSize
)

// DefaultConsensusParameters returns the defaults: max_node_expiration 10,
// min_deployment_notice 2, max_deployments 8, max_runtime_messages 128, a 16 MiB frame cap,
// no mock TEE, 1000 maintenance gas per runtime-epoch and 1000 gas per method.
func DefaultConsensusParameters() ConsensusParameters {
	return ConsensusParameters{
		MaxNodeExpiration:   DefaultMaxNodeExpiration,
		MinDeploymentNotice: DefaultMinDeploymentNotice,
		MaxDeployments:      DefaultMaxDeployments,
		MaxRuntimeMessages:  DefaultMaxRuntimeMessages,
		MaxFrameSize:        DefaultMaxFrameSize,
		EpochMaintenanceGas: DefaultEpochMaintenanceGas,
		GasCosts:            DefaultGasCosts(),
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

// SanityCheck checks the parameters' ranges; errors wrap ErrInvalidParameters.
func (p *ConsensusParameters) SanityCheck() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidParameters}, args...)...)
	}
	switch {
	case p.MaxNodeExpiration < 1 || p.MaxNodeExpiration > MaxEpochParameter:
		return bad("max_node_expiration %d out of range 1..%d", p.MaxNodeExpiration, MaxEpochParameter)
	case p.MinDeploymentNotice < MinMinDeploymentNotice || p.MinDeploymentNotice > MaxEpochParameter:
		return bad("min_deployment_notice %d out of range %d..%d epochs", p.MinDeploymentNotice, MinMinDeploymentNotice, MaxEpochParameter)
	case p.MaxDeployments < MinMaxDeployments || p.MaxDeployments > MaxMaxDeployments:
		return bad("max_deployments %d out of range %d..%d", p.MaxDeployments, MinMaxDeployments, MaxMaxDeployments)
	case p.MaxRuntimeMessages > MaxMaxRuntimeMessages:
		return bad("max_runtime_messages %d above %d", p.MaxRuntimeMessages, MaxMaxRuntimeMessages)
	case p.MaxFrameSize < MinMaxFrameSize || p.MaxFrameSize > MaxMaxFrameSize:
		return bad("max_frame_size %d out of range %d..%d bytes", p.MaxFrameSize, MinMaxFrameSize, MaxMaxFrameSize)
	}
	for _, op := range gasOps {
		if _, ok := p.GasCosts[op]; !ok {
			return bad("gas_costs lacks %q", op)
		}
	}
	if len(p.GasCosts) != len(gasOps) {
		var unknown []string
		for op := range p.GasCosts {
			if !knownGasOp(op) {
				unknown = append(unknown, op)
			}
		}
		sort.Strings(unknown)
		return bad("gas_costs has unknown methods %q", unknown)
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
