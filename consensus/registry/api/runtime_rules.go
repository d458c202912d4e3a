package api

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// Fixed bounds of runtime parameters (DESIGN.md §4). The consensus-wide bounds
// (max_runtime_messages, the frame cap, max_deployments, debug_allow_mock_tee) come from
// ConsensusParameters.
const (
	// MinRoundTimeout is the least executor.round_timeout, in blocks.
	MinRoundTimeout = 2
	// MinProposeBatchTimeout is the least txn_scheduler.propose_batch_timeout, in blocks.
	MinProposeBatchTimeout = 1
	// MaxBlockTimeout bounds round_timeout and propose_batch_timeout, so that the pool's
	// deadline arithmetic (height + round_timeout*3/2) cannot overflow.
	MaxBlockTimeout = 1 << 32
	// MinBatchFlushTimeout is the least txn_scheduler.batch_flush_timeout, in milliseconds.
	MinBatchFlushTimeout = 50
	// MinMaxBatchSizeBytes is the least txn_scheduler.max_batch_size_bytes (1 KiB).
	MinMaxBatchSizeBytes = 1 << 10
	// MinMaxApplyWriteLogEntries is the least storage.max_apply_write_log_entries.
	MinMaxApplyWriteLogEntries = 10
	// MinMaxApplyOps is the least storage.max_apply_ops.
	MinMaxApplyOps = 2
	// MaxTEEPolicySize bounds a deployment's tee blob.
	MaxTEEPolicySize = 16 << 10
	// MaxWhitelistedEntities bounds admission_policy.entity_whitelist.entities.
	MaxWhitelistedEntities = 1024
)

// invalidRuntime wraps ErrInvalidRuntime with a message naming field.
func invalidRuntime(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidRuntime, field, fmt.Sprintf(format, args...))
}

// invalidDeployments wraps ErrInvalidDeployments.
func invalidDeployments(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidDeployments, fmt.Sprintf(format, args...))
}

// ValidateRuntime checks the rules of a runtime descriptor that depend only on the descriptor
// and the consensus parameters (DESIGN.md §4): kind, TEE hardware, every parameter bound,
// constraints, admission policy, staking, governance model, and the deployments' count and
// order. Errors wrap ErrInvalidRuntime or ErrInvalidDeployments and name the field and bound.
// The epoch-dependent rules are VerifyRuntimeRegistration's and VerifyRuntimeUpdate's, which
// call this first.
func ValidateRuntime(params *ConsensusParameters, rt *Runtime) error {
	if rt.Kind != KindCompute {
		return invalidRuntime("kind", "%s is not a known kind (want compute = 1)", rt.Kind)
	}
	if rt.EntityID == ([32]byte{}) {
		return invalidRuntime("entity_id", "zero key")
	}
	if err := validateTEEHardware(params, rt); err != nil {
		return err
	}
	for _, check := range []func(*ConsensusParameters, *Runtime) error{
		validateExecutor, validateTxnScheduler, validateStorage,
		validateAdmission, validateStaking, validateGovernance, validateDeployments,
	} {
		if err := check(params, rt); err != nil {
			return err
		}
	}
	return nil
}

func validateTEEHardware(params *ConsensusParameters, rt *Runtime) error {
	switch rt.TEEHardware {
	case node.TEEHardwareNone:
		return nil
	case node.TEEHardwareMock:
		if !params.DebugAllowMockTEE {
			return invalidRuntime("tee_hardware", "mock is accepted only when the genesis sets debug_allow_mock_tee")
		}
		return nil
	case node.TEEHardwareSGX:
		return invalidRuntime("tee_hardware", "sgx is reserved and not supported yet")
	}
	return invalidRuntime("tee_hardware", "%s is not a known TEE (want none = 0 or mock = 1)", rt.TEEHardware)
}

func validateExecutor(params *ConsensusParameters, rt *Runtime) error {
	e := &rt.Executor
	switch {
	case e.GroupSize < 1:
		return invalidRuntime("executor.group_size", "%d, want ≥ 1", e.GroupSize)
	case e.AllowedStragglers > (e.GroupSize-1)/2:
		return invalidRuntime("executor.allowed_stragglers", "%d above (group_size − 1)/2 = %d", e.AllowedStragglers, (e.GroupSize-1)/2)
	case e.RoundTimeout < MinRoundTimeout || e.RoundTimeout > MaxBlockTimeout:
		return invalidRuntime("executor.round_timeout", "%d blocks, want %d..%d", e.RoundTimeout, MinRoundTimeout, int64(MaxBlockTimeout))
	case e.MaxMessages > params.MaxRuntimeMessages:
		return invalidRuntime("executor.max_messages", "%d above max_runtime_messages = %d", e.MaxMessages, params.MaxRuntimeMessages)
	}
	return nil
}

func validateTxnScheduler(params *ConsensusParameters, rt *Runtime) error {
	s := &rt.TxnScheduler
	maxBytes := params.MaxFrameSize / 4
	switch {
	case s.MaxBatchSize < 1:
		return invalidRuntime("txn_scheduler.max_batch_size", "%d, want ≥ 1", s.MaxBatchSize)
	case s.MaxBatchSize > rt.Storage.MaxApplyWriteLogEntries:
		return invalidRuntime("txn_scheduler.max_batch_size", "%d above storage.max_apply_write_log_entries = %d", s.MaxBatchSize, rt.Storage.MaxApplyWriteLogEntries)
	case s.MaxBatchSizeBytes < MinMaxBatchSizeBytes:
		return invalidRuntime("txn_scheduler.max_batch_size_bytes", "%d below %d (1 KiB)", s.MaxBatchSizeBytes, MinMaxBatchSizeBytes)
	case s.MaxBatchSizeBytes > maxBytes:
		return invalidRuntime("txn_scheduler.max_batch_size_bytes", "%d above the frame cap / 4 = %d", s.MaxBatchSizeBytes, maxBytes)
	case s.BatchFlushTimeout < MinBatchFlushTimeout:
		return invalidRuntime("txn_scheduler.batch_flush_timeout", "%d ms below %d ms", s.BatchFlushTimeout, MinBatchFlushTimeout)
	case s.ProposeBatchTimeout < MinProposeBatchTimeout || s.ProposeBatchTimeout > MaxBlockTimeout:
		return invalidRuntime("txn_scheduler.propose_batch_timeout", "%d blocks, want %d..%d", s.ProposeBatchTimeout, MinProposeBatchTimeout, int64(MaxBlockTimeout))
	}
	return nil
}

func validateStorage(_ *ConsensusParameters, rt *Runtime) error {
	s := &rt.Storage
	switch {
	case s.GroupSize < 1:
		return invalidRuntime("storage.group_size", "%d, want ≥ 1", s.GroupSize)
	case s.MinWriteReplication < 1:
		return invalidRuntime("storage.min_write_replication", "%d, want ≥ 1", s.MinWriteReplication)
	case s.MinWriteReplication > s.GroupSize:
		return invalidRuntime("storage.min_write_replication", "%d above storage.group_size = %d", s.MinWriteReplication, s.GroupSize)
	case s.MaxApplyWriteLogEntries < MinMaxApplyWriteLogEntries:
		return invalidRuntime("storage.max_apply_write_log_entries", "%d below %d", s.MaxApplyWriteLogEntries, MinMaxApplyWriteLogEntries)
	case s.MaxApplyOps < MinMaxApplyOps:
		return invalidRuntime("storage.max_apply_ops", "%d below %d", s.MaxApplyOps, MinMaxApplyOps)
	}
	return nil
}

func validateAdmission(_ *ConsensusParameters, rt *Runtime) error {
	a := &rt.AdmissionPolicy
	switch {
	case (a.AnyNode == nil) == (a.EntityWhitelist == nil):
		return invalidRuntime("admission_policy", "exactly one of any_node and entity_whitelist must be set")
	case a.EntityWhitelist == nil:
		return nil
	case len(a.EntityWhitelist.Entities) > MaxWhitelistedEntities:
		return invalidRuntime("admission_policy.entity_whitelist.entities", "%d entries, limit %d", len(a.EntityWhitelist.Entities), MaxWhitelistedEntities)
	}
	for _, id := range sortedKeys(a.EntityWhitelist.Entities) {
		for _, role := range sortedInts(a.EntityWhitelist.Entities[id].MaxNodes) {
			if !role.IsSingleRole() {
				return invalidRuntime("admission_policy.entity_whitelist.entities["+id.String()+"].max_nodes", "key %#x is not a single known role", uint32(role))
			}
		}
	}
	return nil
}

func validateStaking(_ *ConsensusParameters, rt *Runtime) error {
	for _, kind := range sortedInts(rt.Staking.Thresholds) {
		if !kind.Valid() {
			return invalidRuntime("staking.thresholds", "unknown threshold kind %d", kind)
		}
	}
	var known staking.SlashingParams
	for _, reason := range sortedInts(rt.Staking.Slashing) {
		if _, ok := known.Of(reason); !ok {
			return invalidRuntime("staking.slashing", "unknown slash reason 0x%02x", uint8(reason))
		}
	}
	return nil
}

func validateGovernance(_ *ConsensusParameters, rt *Runtime) error {
	switch rt.GovernanceModel {
	case GovernanceEntity:
		return nil
	case GovernanceRuntime:
		if rt.Kind != KindCompute {
			return invalidRuntime("governance_model", "runtime governance is only for compute runtimes, kind is %s", rt.Kind)
		}
		return nil
	}
	return invalidRuntime("governance_model", "%s is not a known model (want entity = 1 or runtime = 2)", rt.GovernanceModel)
}

// validateDeployments checks count, checksums, TEE blobs and order. Entries must be sorted
// by version, strictly increasing, and their valid_from must increase strictly too: an entry
// whose successor is valid no later than it would never be the active one.
func validateDeployments(params *ConsensusParameters, rt *Runtime) error {
	n := len(rt.Deployments)
	if n < 1 || n > int(params.MaxDeployments) {
		return invalidDeployments("%d entries, want 1..max_deployments = %d", n, params.MaxDeployments)
	}
	for i := range rt.Deployments {
		d := &rt.Deployments[i]
		switch {
		case d.BundleChecksum == (hash.Hash{}):
			return invalidDeployments("deployments[%d] (version %s): bundle_checksum is zero", i, d.Version)
		case len(d.TEE) > 0 && !rt.IsTEE():
			return invalidDeployments("deployments[%d] (version %s): a tee blob on a runtime without TEE hardware", i, d.Version)
		case len(d.TEE) > MaxTEEPolicySize:
			return invalidDeployments("deployments[%d] (version %s): tee blob of %d bytes, limit %d", i, d.Version, len(d.TEE), MaxTEEPolicySize)
		}
		if i == 0 {
			continue
		}
		prev := &rt.Deployments[i-1]
		if d.Version.Compare(prev.Version) <= 0 {
			return invalidDeployments("non-increasing versions: deployments[%d] has version %s, not above deployments[%d]'s %s", i, d.Version, i-1, prev.Version)
		}
		if d.ValidFrom <= prev.ValidFrom {
			return invalidDeployments("deployments[%d] (version %s, valid_from %d) would never be valid: deployments[%d] (version %s) is valid from %d", i-1, prev.Version, prev.ValidFrom, i, d.Version, d.ValidFrom)
		}
	}
	return nil
}

// sortedKeys returns the keys of m in bytewise order, so that errors do not depend on map
// iteration order.
func sortedKeys[V any](m map[signature.PublicKey]V) []signature.PublicKey {
	keys := make([]signature.PublicKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i][:], keys[j][:]) < 0 })
	return keys
}

// sortedInts returns the keys of m in increasing order.
func sortedInts[K ~uint8 | ~uint32, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
