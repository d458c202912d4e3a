package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// GenesisRuntimeSignatureContext signs a runtime descriptor inside the genesis document, by
// its entity's key; it is not chain-bound. A runtime registered by transaction is not signed
// separately: the transaction's signer authorises it (AuthorizeRuntimeTx).
var GenesisRuntimeSignatureContext = signature.NewContext("atoll/registry: genesis runtime", signature.WithoutChainSeparation())

// Runtime is a runtime descriptor (DESIGN.md §4).
type Runtime struct {
	// ID is the runtime's namespace; immutable.
	ID namespace.Namespace `json:"id" cbor:"id"`
	// EntityID is the owning entity; immutable. Its stake backs the runtime, and under
	// entity governance it alone may update the descriptor.
	EntityID signature.PublicKey `json:"entity_id" cbor:"entity_id"`
	// Genesis is the runtime's initial state; immutable.
	Genesis RuntimeGenesis `json:"genesis" cbor:"genesis"`
	// Kind is the kind of runtime; immutable.
	Kind RuntimeKind `json:"kind" cbor:"kind"`
	// TEEHardware is the TEE the runtime's executors must run in.
	TEEHardware node.TEEHardware `json:"tee_hardware" cbor:"tee_hardware"`
	// Executor configures the executor committee.
	Executor ExecutorParameters `json:"executor" cbor:"executor"`
	// TxnScheduler configures batching.
	TxnScheduler TxnSchedulerParameters `json:"txn_scheduler" cbor:"txn_scheduler"`
	// Storage configures the storage committee and its limits.
	Storage StorageParameters `json:"storage" cbor:"storage"`
	// Constraints limit committee composition.
	Constraints Constraints `json:"constraints" cbor:"constraints"`
	// AdmissionPolicy says which nodes may register for the runtime.
	AdmissionPolicy AdmissionPolicy `json:"admission_policy" cbor:"admission_policy"`
	// Staking are the runtime's extra stake requirements and slashing penalties.
	Staking RuntimeStakingParameters `json:"staking" cbor:"staking"`
	// GovernanceModel says who may update the descriptor.
	GovernanceModel GovernanceModel `json:"governance_model" cbor:"governance_model"`
	// Deployments are the runtime's versions, ordered by version and valid_from (ADR 0013).
	Deployments []VersionInfo `json:"deployments" cbor:"deployments"`
}

// RuntimeGenesis is the state a runtime starts from.
type RuntimeGenesis struct {
	StateRoot hash.Hash `json:"state_root" cbor:"state_root"`
	Round     uint64    `json:"round" cbor:"round"`
}

// RuntimeKind is the kind of a runtime.
type RuntimeKind uint8

// KindCompute is a runtime executed by compute committees; it is the only kind.
const KindCompute RuntimeKind = 1

// String names the kind.
func (k RuntimeKind) String() string {
	if k == KindCompute {
		return "compute"
	}
	return fmt.Sprintf("unknown(%d)", uint8(k))
}

// GovernanceModel says who may update a runtime descriptor.
type GovernanceModel uint8

const (
	// GovernanceEntity: the owning entity updates the descriptor by transaction.
	GovernanceEntity GovernanceModel = 1
	// GovernanceRuntime: the runtime updates its own descriptor by a runtime message.
	GovernanceRuntime GovernanceModel = 2
)

// String names the model.
func (g GovernanceModel) String() string {
	switch g {
	case GovernanceEntity:
		return "entity"
	case GovernanceRuntime:
		return "runtime"
	}
	return fmt.Sprintf("unknown(%d)", uint8(g))
}

// ExecutorParameters configure the executor committee and rounds.
type ExecutorParameters struct {
	// GroupSize is the number of workers.
	GroupSize uint16 `json:"group_size" cbor:"group_size"`
	// GroupBackupSize is the number of backups; discrepancies need GroupBackupSize/2 + 1
	// agreeing backup votes.
	GroupBackupSize uint16 `json:"group_backup_size" cbor:"group_backup_size"`
	// AllowedStragglers is how many workers may miss a round's timeout without a discrepancy.
	AllowedStragglers uint16 `json:"allowed_stragglers" cbor:"allowed_stragglers"`
	// RoundTimeout is in consensus blocks.
	RoundTimeout int64 `json:"round_timeout" cbor:"round_timeout"`
	// MaxMessages bounds the runtime messages of one round.
	MaxMessages uint32 `json:"max_messages" cbor:"max_messages"`
}

// TxnSchedulerParameters configure batching.
type TxnSchedulerParameters struct {
	// MaxBatchSize bounds the transactions of a batch.
	MaxBatchSize uint64 `json:"max_batch_size" cbor:"max_batch_size"`
	// MaxBatchSizeBytes bounds the bytes of a batch.
	MaxBatchSizeBytes uint64 `json:"max_batch_size_bytes" cbor:"max_batch_size_bytes"`
	// BatchFlushTimeout is in milliseconds; only the scheduler node uses it.
	BatchFlushTimeout int64 `json:"batch_flush_timeout" cbor:"batch_flush_timeout"`
	// ProposeBatchTimeout is in consensus blocks.
	ProposeBatchTimeout int64 `json:"propose_batch_timeout" cbor:"propose_batch_timeout"`
}

// StorageParameters configure the storage committee and the limits of storage operations.
type StorageParameters struct {
	GroupSize               uint16 `json:"group_size" cbor:"group_size"`
	MinWriteReplication     uint16 `json:"min_write_replication" cbor:"min_write_replication"`
	MaxApplyWriteLogEntries uint64 `json:"max_apply_write_log_entries" cbor:"max_apply_write_log_entries"`
	MaxApplyOps             uint64 `json:"max_apply_ops" cbor:"max_apply_ops"`
}

// Constraints limit committee composition per committee kind.
type Constraints struct {
	Executor RoleConstraints `json:"executor" cbor:"executor"`
	Storage  RoleConstraints `json:"storage" cbor:"storage"`
}

// RoleConstraints limit one committee.
type RoleConstraints struct {
	// MaxNodesPerEntity bounds the members one entity contributes; 0 means no limit.
	MaxNodesPerEntity uint16 `json:"max_nodes_per_entity" cbor:"max_nodes_per_entity"`
	// MinPoolSize is the least number of eligible candidates for an election; 0 means the
	// group size.
	MinPoolSize uint16 `json:"min_pool_size" cbor:"min_pool_size"`
}

// MinPool returns the least number of eligible candidates for a committee of groupSize:
// max(groupSize, MinPoolSize).
func (c RoleConstraints) MinPool(groupSize uint16) int {
	return max(int(groupSize), int(c.MinPoolSize))
}

// AdmissionPolicy says which nodes may register for a runtime. Exactly one field is set.
type AdmissionPolicy struct {
	AnyNode         *AnyNodePolicy         `json:"any_node,omitempty" cbor:"any_node,omitempty"`
	EntityWhitelist *EntityWhitelistPolicy `json:"entity_whitelist,omitempty" cbor:"entity_whitelist,omitempty"`
}

// AnyNodePolicy admits every node.
type AnyNodePolicy struct{}

// EntityWhitelistPolicy admits only the nodes of the listed entities, within their limits.
type EntityWhitelistPolicy struct {
	Entities map[signature.PublicKey]EntityWhitelistConfig `json:"entities" cbor:"entities"`
}

// EntityWhitelistConfig limits one whitelisted entity. With MaxNodes empty the entity may
// register any number of nodes; otherwise every role of a node must have an entry here, and
// the entity may have at most that many nodes with the role registered for the runtime.
type EntityWhitelistConfig struct {
	MaxNodes map[node.RolesMask]uint16 `json:"max_nodes,omitempty" cbor:"max_nodes,omitempty"`
}

// RuntimeStakingParameters are a runtime's stake requirements and penalties.
type RuntimeStakingParameters struct {
	// Thresholds are added to the global thresholds of the same kind for nodes registered
	// for the runtime; a node must meet the largest over its runtimes (NodeRuntimeStake).
	Thresholds map[staking.ThresholdKind]quantity.Quantity `json:"thresholds,omitempty" cbor:"thresholds,omitempty"`
	// Slashing overrides the global penalties for offences in this runtime.
	Slashing map[staking.SlashReason]staking.SlashParams `json:"slashing,omitempty" cbor:"slashing,omitempty"`
}

// VersionInfo is one deployment of a runtime (ADR 0013).
type VersionInfo struct {
	// Version is the runtime version.
	Version version.Version `json:"version" cbor:"version"`
	// ValidFrom is the first epoch in which this version is the active one.
	ValidFrom beacon.EpochTime `json:"valid_from" cbor:"valid_from"`
	// TEE is the TEE policy of this version in the hardware's format; empty without a TEE.
	TEE []byte `json:"tee,omitempty" cbor:"tee,omitempty"`
	// BundleChecksum is the SHA-256 of the version's bundle manifest; it ties the version
	// number to one binary.
	BundleChecksum hash.Hash `json:"bundle_checksum" cbor:"bundle_checksum"`
}

// Equal reports whether v and o are the same entry, field by field.
func (v *VersionInfo) Equal(o *VersionInfo) bool {
	return v.Version == o.Version && v.ValidFrom == o.ValidFrom && v.BundleChecksum == o.BundleChecksum && string(v.TEE) == string(o.TEE)
}

// ActiveDeployment returns the deployment with the greatest valid_from ≤ epoch, or nil when
// none is valid yet.
func (rt *Runtime) ActiveDeployment(epoch beacon.EpochTime) *VersionInfo {
	var best *VersionInfo
	for i := range rt.Deployments {
		d := &rt.Deployments[i]
		if d.ValidFrom <= epoch && (best == nil || d.ValidFrom > best.ValidFrom) {
			best = d
		}
	}
	return best
}

// NextDeployment returns the deployment with the least valid_from > epoch, or nil.
func (rt *Runtime) NextDeployment(epoch beacon.EpochTime) *VersionInfo {
	var best *VersionInfo
	for i := range rt.Deployments {
		d := &rt.Deployments[i]
		if d.ValidFrom > epoch && (best == nil || d.ValidFrom < best.ValidFrom) {
			best = d
		}
	}
	return best
}

// DeploymentForVersion returns the deployment of version v, or nil.
func (rt *Runtime) DeploymentForVersion(v version.Version) *VersionInfo {
	for i := range rt.Deployments {
		if rt.Deployments[i].Version == v {
			return &rt.Deployments[i]
		}
	}
	return nil
}

// IsTEE reports whether the runtime's executors run in a TEE.
func (rt *Runtime) IsTEE() bool { return rt.TEEHardware != node.TEEHardwareNone }

// StakingAddress returns the account whose stake backs the runtime: the owning entity's, or
// the runtime's own account under runtime governance.
func (rt *Runtime) StakingAddress() staking.Address {
	if rt.GovernanceModel == GovernanceRuntime {
		return staking.NewRuntimeAddress(rt.ID)
	}
	return staking.NewAddress(rt.EntityID)
}

// DecodeRuntime strictly and canonically decodes an untrusted runtime descriptor (a
// registry.RegisterRuntime body or a runtime's update_runtime message). It checks the
// encoding only; run ValidateRuntime and the registration or update rules next.
func DecodeRuntime(data []byte) (*Runtime, error) {
	var rt Runtime
	if err := cbor.UnmarshalCanonical(data, &rt); err != nil {
		return nil, fmt.Errorf("%w: runtime descriptor: %w", ErrInvalidArgument, err)
	}
	return &rt, nil
}

// SignGenesisRuntime signs rt for the genesis document with signer, which must hold
// rt.EntityID.
func SignGenesisRuntime(signer signature.Signer, rt *Runtime) (*signature.Signed, error) {
	if signer.Public() != rt.EntityID {
		return nil, fmt.Errorf("%w: signer %s, runtime entity %s", ErrInvalidSignature, signer.Public(), rt.EntityID)
	}
	return signature.SignBlob(signer, GenesisRuntimeSignatureContext.Unbound(), rt)
}

// OpenGenesisRuntime verifies a genesis runtime descriptor, decodes it strictly and
// canonically and checks that its entity signed it. It does not run ValidateRuntime.
func OpenGenesisRuntime(s *signature.Signed) (*Runtime, error) {
	var rt Runtime
	if err := openSigned(s, GenesisRuntimeSignatureContext.Unbound(), &rt); err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	if s.Signature.PublicKey != rt.EntityID {
		return nil, fmt.Errorf("%w: runtime %s of entity %s signed by %s", ErrInvalidSignature, rt.ID, rt.EntityID, s.Signature.PublicKey)
	}
	return &rt, nil
}
