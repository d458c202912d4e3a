package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// runtimeCase is one named rule of ValidateRuntime: a mutation of validRuntime and either no
// error (want == nil) or an error matching want whose message contains every fragment.
type runtimeCase struct {
	name      string
	params    func(p *ConsensusParameters)
	mutate    func(rt *Runtime)
	want      error
	fragments []string
}

func TestValidateRuntimeChecksEveryParameterBound(t *testing.T) {
	ok := error(nil)
	cases := []runtimeCase{
		{name: "a valid descriptor is accepted", mutate: func(*Runtime) {}, want: ok},

		{name: "unknown kind is rejected", mutate: func(rt *Runtime) { rt.Kind = 2 }, want: ErrInvalidRuntime, fragments: []string{"kind"}},
		{name: "zero entity is rejected", mutate: func(rt *Runtime) { rt.EntityID = signature.PublicKey{} }, want: ErrInvalidRuntime, fragments: []string{"entity_id"}},

		{name: "mock TEE without the genesis flag is rejected", mutate: func(rt *Runtime) { rt.TEEHardware = node.TEEHardwareMock },
			want: ErrInvalidRuntime, fragments: []string{"tee_hardware", "debug_allow_mock_tee"}},
		{name: "mock TEE with the genesis flag is accepted", params: func(p *ConsensusParameters) { p.DebugAllowMockTEE = true },
			mutate: func(rt *Runtime) { rt.TEEHardware = node.TEEHardwareMock }, want: ok},
		{name: "sgx TEE is reserved", params: func(p *ConsensusParameters) { p.DebugAllowMockTEE = true },
			mutate: func(rt *Runtime) { rt.TEEHardware = node.TEEHardwareSGX }, want: ErrInvalidRuntime, fragments: []string{"tee_hardware", "reserved"}},
		{name: "unknown TEE hardware is rejected", mutate: func(rt *Runtime) { rt.TEEHardware = 7 }, want: ErrInvalidRuntime, fragments: []string{"tee_hardware"}},

		{name: "executor group of zero is rejected", mutate: func(rt *Runtime) { rt.Executor.GroupSize, rt.Executor.AllowedStragglers = 0, 0 },
			want: ErrInvalidRuntime, fragments: []string{"executor.group_size", "≥ 1"}},
		{name: "executor group of one is accepted", mutate: func(rt *Runtime) { rt.Executor.GroupSize, rt.Executor.AllowedStragglers = 1, 0 }, want: ok},
		{name: "stragglers above (group_size − 1)/2 are rejected", mutate: func(rt *Runtime) { rt.Executor.AllowedStragglers = 2 },
			want: ErrInvalidRuntime, fragments: []string{"executor.allowed_stragglers", "(group_size − 1)/2 = 1"}},
		{name: "stragglers above (group_size − 1)/2 of an even group are rejected", mutate: func(rt *Runtime) { rt.Executor.GroupSize, rt.Executor.AllowedStragglers = 4, 2 },
			want: ErrInvalidRuntime, fragments: []string{"executor.allowed_stragglers", "= 1"}},
		{name: "stragglers at (group_size − 1)/2 are accepted", mutate: func(rt *Runtime) { rt.Executor.GroupSize, rt.Executor.AllowedStragglers = 5, 2 }, want: ok},
		{name: "any straggler in a group of one is rejected", mutate: func(rt *Runtime) { rt.Executor.GroupSize, rt.Executor.AllowedStragglers = 1, 1 },
			want: ErrInvalidRuntime, fragments: []string{"executor.allowed_stragglers"}},
		{name: "round timeout below 2 blocks is rejected", mutate: func(rt *Runtime) { rt.Executor.RoundTimeout = 1 },
			want: ErrInvalidRuntime, fragments: []string{"executor.round_timeout", "want 2.."}},
		{name: "round timeout of 2 blocks is accepted", mutate: func(rt *Runtime) { rt.Executor.RoundTimeout = 2 }, want: ok},
		{name: "negative round timeout is rejected", mutate: func(rt *Runtime) { rt.Executor.RoundTimeout = -5 }, want: ErrInvalidRuntime, fragments: []string{"executor.round_timeout"}},
		{name: "round timeout beyond the overflow guard is rejected", mutate: func(rt *Runtime) { rt.Executor.RoundTimeout = MaxBlockTimeout + 1 },
			want: ErrInvalidRuntime, fragments: []string{"executor.round_timeout"}},
		{name: "max messages above max_runtime_messages are rejected", mutate: func(rt *Runtime) { rt.Executor.MaxMessages = DefaultMaxRuntimeMessages + 1 },
			want: ErrInvalidRuntime, fragments: []string{"executor.max_messages", "max_runtime_messages = 128"}},
		{name: "max messages at max_runtime_messages are accepted", mutate: func(rt *Runtime) { rt.Executor.MaxMessages = DefaultMaxRuntimeMessages }, want: ok},

		{name: "batch size of zero is rejected", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSize = 0 },
			want: ErrInvalidRuntime, fragments: []string{"txn_scheduler.max_batch_size", "≥ 1"}},
		{name: "batch size above the write-log limit is rejected", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSize = rt.Storage.MaxApplyWriteLogEntries + 1 },
			want: ErrInvalidRuntime, fragments: []string{"txn_scheduler.max_batch_size", "storage.max_apply_write_log_entries = 100000"}},
		{name: "batch size at the write-log limit is accepted", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSize = rt.Storage.MaxApplyWriteLogEntries }, want: ok},
		{name: "batch bytes below 1 KiB are rejected", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSizeBytes = 1023 },
			want: ErrInvalidRuntime, fragments: []string{"txn_scheduler.max_batch_size_bytes", "1 KiB"}},
		{name: "batch bytes of 1 KiB are accepted", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSizeBytes = 1024 }, want: ok},
		{name: "batch bytes above the frame cap / 4 are rejected", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSizeBytes = DefaultMaxFrameSize/4 + 1 },
			want: ErrInvalidRuntime, fragments: []string{"txn_scheduler.max_batch_size_bytes", "frame cap / 4 = 4194304"}},
		{name: "batch bytes at the frame cap / 4 are accepted", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSizeBytes = DefaultMaxFrameSize / 4 }, want: ok},
		{name: "batch bytes follow a smaller frame cap", params: func(p *ConsensusParameters) { p.MaxFrameSize = 1 << 20 },
			mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSizeBytes = 1<<18 + 1 }, want: ErrInvalidRuntime, fragments: []string{"frame cap / 4 = 262144"}},
		{name: "batch flush timeout below 50 ms is rejected", mutate: func(rt *Runtime) { rt.TxnScheduler.BatchFlushTimeout = 49 },
			want: ErrInvalidRuntime, fragments: []string{"txn_scheduler.batch_flush_timeout", "50 ms"}},
		{name: "batch flush timeout of 50 ms is accepted", mutate: func(rt *Runtime) { rt.TxnScheduler.BatchFlushTimeout = 50 }, want: ok},
		{name: "propose batch timeout of zero is rejected", mutate: func(rt *Runtime) { rt.TxnScheduler.ProposeBatchTimeout = 0 },
			want: ErrInvalidRuntime, fragments: []string{"txn_scheduler.propose_batch_timeout", "want 1.."}},
		{name: "propose batch timeout of one block is accepted", mutate: func(rt *Runtime) { rt.TxnScheduler.ProposeBatchTimeout = 1 }, want: ok},

		{name: "storage group of zero is rejected", mutate: func(rt *Runtime) { rt.Storage.GroupSize = 0 },
			want: ErrInvalidRuntime, fragments: []string{"storage.group_size"}},
		{name: "write replication of zero is rejected", mutate: func(rt *Runtime) { rt.Storage.MinWriteReplication = 0 },
			want: ErrInvalidRuntime, fragments: []string{"storage.min_write_replication", "≥ 1"}},
		{name: "write replication above the storage group is rejected", mutate: func(rt *Runtime) { rt.Storage.MinWriteReplication = 3 },
			want: ErrInvalidRuntime, fragments: []string{"storage.min_write_replication", "storage.group_size = 2"}},
		{name: "write replication of one is accepted", mutate: func(rt *Runtime) { rt.Storage.MinWriteReplication = 1 }, want: ok},
		{name: "write-log limit below 10 is rejected", mutate: func(rt *Runtime) { rt.Storage.MaxApplyWriteLogEntries, rt.TxnScheduler.MaxBatchSize = 9, 5 },
			want: ErrInvalidRuntime, fragments: []string{"storage.max_apply_write_log_entries", "below 10"}},
		{name: "write-log limit of 10 is accepted", mutate: func(rt *Runtime) { rt.Storage.MaxApplyWriteLogEntries, rt.TxnScheduler.MaxBatchSize = 10, 10 }, want: ok},
		{name: "apply ops below 2 are rejected", mutate: func(rt *Runtime) { rt.Storage.MaxApplyOps = 1 },
			want: ErrInvalidRuntime, fragments: []string{"storage.max_apply_ops", "below 2"}},

		{name: "no admission policy is rejected", mutate: func(rt *Runtime) { rt.AdmissionPolicy = AdmissionPolicy{} },
			want: ErrInvalidRuntime, fragments: []string{"admission_policy", "exactly one"}},
		{name: "two admission policies are rejected", mutate: func(rt *Runtime) { rt.AdmissionPolicy.EntityWhitelist = &EntityWhitelistPolicy{} },
			want: ErrInvalidRuntime, fragments: []string{"admission_policy", "exactly one"}},
		{name: "an entity whitelist with per-role limits is accepted", mutate: func(rt *Runtime) {
			rt.AdmissionPolicy = AdmissionPolicy{EntityWhitelist: &EntityWhitelistPolicy{Entities: map[signature.PublicKey]EntityWhitelistConfig{
				testKey(t, "entity"): {MaxNodes: map[node.RolesMask]uint16{node.RoleCompute: 3, node.RoleStorage: 1}},
			}}}
		}, want: ok},
		{name: "a whitelist limit keyed by several roles is rejected", mutate: func(rt *Runtime) {
			rt.AdmissionPolicy = AdmissionPolicy{EntityWhitelist: &EntityWhitelistPolicy{Entities: map[signature.PublicKey]EntityWhitelistConfig{
				testKey(t, "entity"): {MaxNodes: map[node.RolesMask]uint16{node.RoleCompute | node.RoleStorage: 3}},
			}}}
		}, want: ErrInvalidRuntime, fragments: []string{"max_nodes", "not a single known role"}},

		{name: "runtime thresholds of an unknown kind are rejected", mutate: func(rt *Runtime) {
			rt.Staking.Thresholds = map[staking.ThresholdKind]quantity.Quantity{99: *quantity.NewFromUint64(1)}
		}, want: ErrInvalidRuntime, fragments: []string{"staking.thresholds", "99"}},
		{name: "runtime thresholds and slashing of known kinds are accepted", mutate: func(rt *Runtime) {
			rt.Staking.Thresholds = map[staking.ThresholdKind]quantity.Quantity{staking.KindNodeCompute: *quantity.NewFromUint64(10)}
			rt.Staking.Slashing = map[staking.SlashReason]staking.SlashParams{staking.SlashEquivocation: {Amount: *quantity.NewFromUint64(5), FreezeInterval: 2}}
		}, want: ok},
		{name: "slashing for an unknown reason is rejected", mutate: func(rt *Runtime) {
			rt.Staking.Slashing = map[staking.SlashReason]staking.SlashParams{0x10: {}}
		}, want: ErrInvalidRuntime, fragments: []string{"staking.slashing", "0x10"}},

		{name: "runtime governance of a compute runtime is accepted", mutate: func(rt *Runtime) { rt.GovernanceModel = GovernanceRuntime }, want: ok},
		{name: "unknown governance model is rejected", mutate: func(rt *Runtime) { rt.GovernanceModel = 3 },
			want: ErrInvalidRuntime, fragments: []string{"governance_model"}},

		{name: "no deployments are rejected", mutate: func(rt *Runtime) { rt.Deployments = nil },
			want: ErrInvalidDeployments, fragments: []string{"0 entries", "max_deployments = 8"}},
		{name: "more deployments than max_deployments are rejected", params: func(p *ConsensusParameters) { p.MaxDeployments = 2 },
			mutate: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(1, 0), dep(2, 5), dep(3, 9)} }, want: ErrInvalidDeployments, fragments: []string{"3 entries", "max_deployments = 2"}},
		{name: "a zero bundle checksum is rejected", mutate: func(rt *Runtime) { rt.Deployments[0].BundleChecksum = hash.Hash{} },
			want: ErrInvalidDeployments, fragments: []string{"bundle_checksum is zero"}},
		{name: "TEE blob on a non-TEE runtime is rejected", mutate: func(rt *Runtime) { rt.Deployments[0].TEE = []byte("policy") },
			want: ErrInvalidDeployments, fragments: []string{"tee blob on a runtime without TEE hardware"}},
		{name: "TEE blob on a mock TEE runtime is accepted", params: func(p *ConsensusParameters) { p.DebugAllowMockTEE = true },
			mutate: func(rt *Runtime) { rt.TEEHardware, rt.Deployments[0].TEE = node.TEEHardwareMock, []byte("policy") }, want: ok},
		{name: "an oversized TEE blob is rejected", params: func(p *ConsensusParameters) { p.DebugAllowMockTEE = true },
			mutate: func(rt *Runtime) {
				rt.TEEHardware, rt.Deployments[0].TEE = node.TEEHardwareMock, make([]byte, MaxTEEPolicySize+1)
			},
			want: ErrInvalidDeployments, fragments: []string{"tee blob of 16385 bytes"}},
		{name: "non-increasing versions are rejected", mutate: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(2, 0), dep(1, 5)} },
			want: ErrInvalidDeployments, fragments: []string{"non-increasing versions", "deployments[1] has version 1.0.0"}},
		{name: "a repeated version is rejected", mutate: func(rt *Runtime) {
			second := dep(1, 5)
			second.BundleChecksum = bundle("other")
			rt.Deployments = []VersionInfo{dep(1, 0), second}
		}, want: ErrInvalidDeployments, fragments: []string{"non-increasing versions"}},
		{name: "an entry that would never be valid is rejected", mutate: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(1, 0), dep(2, 5), dep(3, 5)} },
			want: ErrInvalidDeployments, fragments: []string{"deployments[1] (version 2.0.0, valid_from 5) would never be valid"}},
		{name: "an entry superseded before it starts is rejected", mutate: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(1, 6), dep(2, 5)} },
			want: ErrInvalidDeployments, fragments: []string{"would never be valid"}},
		{name: "increasing versions with increasing valid_from are accepted", mutate: func(rt *Runtime) {
			rt.Deployments = []VersionInfo{dep(1, 0), dep(2, 5), dep(3, 9)}
		}, want: ok},
	}
	runRuntimeCases(t, cases, func(p *ConsensusParameters, rt *Runtime) error { return ValidateRuntime(p, rt) })
}

func runRuntimeCases(t *testing.T, cases []runtimeCase, check func(*ConsensusParameters, *Runtime) error) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams()
			if tc.params != nil {
				tc.params(p)
			}
			rt := validRuntime(t)
			tc.mutate(rt)
			assertRuleError(t, check(p, rt), tc.want, tc.fragments)
		})
	}
}

// assertRuleError checks err against a case's expectation: nil, or a match of want whose
// message names every fragment.
func assertRuleError(t *testing.T, err, want error, fragments []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("rejected: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not say %q", err, f)
		}
	}
}

func TestActiveAndNextDeploymentFollowValidFrom(t *testing.T) {
	rt := validRuntime(t)
	rt.Deployments = []VersionInfo{dep(1, 3), dep(2, 7), dep(3, 12)}
	for _, tc := range []struct {
		epoch        uint64
		active, next uint16 // 0 = none
	}{
		{0, 0, 1}, {2, 0, 1}, {3, 1, 2}, {6, 1, 2}, {7, 2, 3}, {11, 2, 3}, {12, 3, 0}, {1000, 3, 0},
	} {
		a, n := rt.ActiveDeployment(epochT(tc.epoch)), rt.NextDeployment(epochT(tc.epoch))
		if got := majorOf(a); got != tc.active {
			t.Errorf("epoch %d: active version %d, want %d", tc.epoch, got, tc.active)
		}
		if got := majorOf(n); got != tc.next {
			t.Errorf("epoch %d: next version %d, want %d", tc.epoch, got, tc.next)
		}
	}
	if d := rt.DeploymentForVersion(v(2)); d == nil || d.ValidFrom != 7 {
		t.Errorf("DeploymentForVersion(2) = %+v", d)
	}
	if rt.DeploymentForVersion(v(9)) != nil {
		t.Error("DeploymentForVersion found a version that is not there")
	}
}

func majorOf(d *VersionInfo) uint16 {
	if d == nil {
		return 0
	}
	return d.Version.Major
}

func TestMinPoolIsTheGroupSizeUnlessLarger(t *testing.T) {
	if got := (RoleConstraints{}).MinPool(3); got != 3 {
		t.Errorf("min_pool_size 0: %d, want 3", got)
	}
	if got := (RoleConstraints{MinPoolSize: 5}).MinPool(3); got != 5 {
		t.Errorf("min_pool_size 5: %d, want 5", got)
	}
	if got := (RoleConstraints{MinPoolSize: 2}).MinPool(3); got != 3 {
		t.Errorf("min_pool_size 2 below the group: %d, want 3", got)
	}
}

func TestRuntimeStakingAddressFollowsTheGovernanceModel(t *testing.T) {
	rt := validRuntime(t)
	if rt.StakingAddress() != staking.NewAddress(rt.EntityID) {
		t.Error("an entity-governed runtime is backed by its entity's account")
	}
	rt.GovernanceModel = GovernanceRuntime
	if rt.StakingAddress() != staking.NewRuntimeAddress(rt.ID) {
		t.Error("a runtime-governed runtime is backed by its own account")
	}
}
