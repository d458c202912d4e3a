package api

import (
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/version"
)

func TestVerifyRuntimeRegistrationNeedsNoticeOutsideGenesis(t *testing.T) {
	const epoch = 10 // min_deployment_notice is 2: a transaction's first entry needs valid_from ≥ 12
	for _, tc := range []struct {
		name      string
		genesis   bool
		deps      []VersionInfo
		want      error
		fragments []string
	}{
		{"genesis runtime valid from epoch 0 is accepted", true, []VersionInfo{dep(1, 0)}, nil, nil},
		{"genesis runtime valid from a later epoch is accepted", true, []VersionInfo{dep(1, 20)}, nil, nil},
		{"genesis runtime with an active and one future entry is accepted", true, []VersionInfo{dep(1, 0), dep(2, 20)}, nil, nil},
		{"genesis runtime with two future entries is rejected", true, []VersionInfo{dep(1, 0), dep(2, 20), dep(3, 30)},
			ErrInvalidDeployments, []string{"two future entries", "deployments[1] (version 2.0.0)", "deployments[2] (version 3.0.0)"}},
		{"transaction runtime at exactly min_deployment_notice is accepted", false, []VersionInfo{dep(1, 12)}, nil, nil},
		{"transaction runtime later than the notice is accepted", false, []VersionInfo{dep(1, 40)}, nil, nil},
		{"transaction runtime valid from epoch 0 is retroactive", false, []VersionInfo{dep(1, 0)},
			ErrInvalidDeployments, []string{"retroactive entry", "valid_from 0", "current epoch 10"}},
		{"transaction runtime valid from the current epoch is retroactive", false, []VersionInfo{dep(1, 10)},
			ErrInvalidDeployments, []string{"retroactive entry"}},
		{"transaction runtime sooner than min_deployment_notice is rejected", false, []VersionInfo{dep(1, 11)},
			ErrInvalidDeployments, []string{"valid_from 11 is sooner than epoch 10 + min_deployment_notice 2 = 12"}},
		{"transaction runtime with two entries has two future entries", false, []VersionInfo{dep(1, 12), dep(2, 13)},
			ErrInvalidDeployments, []string{"two future entries"}},
		{"transaction runtime breaking a parameter bound is rejected", false, nil, ErrInvalidRuntime, []string{"executor.group_size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := validRuntime(t)
			rt.Deployments = tc.deps
			if tc.deps == nil {
				rt.Deployments = []VersionInfo{dep(1, 12)}
				rt.Executor.GroupSize, rt.Executor.AllowedStragglers = 0, 0
			}
			assertRuleError(t, VerifyRuntimeRegistration(testParams(), rt, epoch, tc.genesis), tc.want, tc.fragments)
		})
	}
}

// The update cases run in epoch 10 with min_deployment_notice 2 against a current
// descriptor whose deployments are v1 (valid from 2, superseded), v2 (valid from 5, active)
// and v3 (valid from 13, pending). New or changed entries need valid_from ≥ 12.
const updateEpoch = 10

func updateOld(t testing.TB) *Runtime {
	rt := validRuntime(t)
	rt.Deployments = []VersionInfo{dep(1, 2), dep(2, 5), dep(3, 13)}
	return rt
}

type updateCase struct {
	name      string
	params    func(p *ConsensusParameters)
	old       func(rt *Runtime)
	mutate    func(rt *Runtime)
	announced AnnouncedVersions
	want      error
	fragments []string
}

func TestVerifyRuntimeUpdateAppliesTheADR0013Rules(t *testing.T) {
	ok := error(nil)
	withdrawnV4 := AnnouncedVersions{{Version: v(4), BundleChecksum: bundle("4.0.0")}}
	for _, tc := range []updateCase{
		{name: "an unchanged descriptor is accepted", mutate: func(*Runtime) {}, want: ok},
		{name: "a parameter change is accepted", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSize = 500 }, want: ok},

		{name: "retroactive entry is rejected", mutate: func(rt *Runtime) { rt.Deployments[2].ValidFrom = 9 },
			want: ErrInvalidDeployments, fragments: []string{"retroactive entry", "deployments[2] (version 3.0.0) valid_from 9"}},
		{name: "entry valid from the current epoch is retroactive", mutate: func(rt *Runtime) { rt.Deployments[2].ValidFrom = updateEpoch },
			want: ErrInvalidDeployments, fragments: []string{"retroactive entry"}},
		{name: "entry sooner than min_deployment_notice is rejected", mutate: func(rt *Runtime) { rt.Deployments[2].ValidFrom = 11 },
			want: ErrInvalidDeployments, fragments: []string{"valid_from 11 is sooner than epoch 10 + min_deployment_notice 2 = 12"}},
		{name: "entry sooner than a longer min_deployment_notice is rejected", params: func(p *ConsensusParameters) { p.MinDeploymentNotice = 5 },
			mutate: func(rt *Runtime) { rt.Deployments[2].ValidFrom = 14 }, want: ErrInvalidDeployments, fragments: []string{"min_deployment_notice 5 = 15"}},
		{name: "changed active entry is rejected", mutate: func(rt *Runtime) { rt.Deployments[1].ValidFrom = 4 },
			want: ErrInvalidDeployments, fragments: []string{"changed active entry", "version 2.0.0"}},
		{name: "active entry with another bundle is rejected", mutate: func(rt *Runtime) { rt.Deployments[1].BundleChecksum = bundle("evil") },
			want: ErrInvalidDeployments, fragments: []string{"changed active entry"}},
		{name: "removed active entry is rejected", mutate: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(3, 13)} },
			want: ErrInvalidDeployments, fragments: []string{"active entry (version 2.0.0, valid_from 5) was removed"}},
		{name: "changed entry older than the active one is retroactive", mutate: func(rt *Runtime) { rt.Deployments[0].ValidFrom = 3 },
			want: ErrInvalidDeployments, fragments: []string{"retroactive entry", "deployments[0] (version 1.0.0)"}},
		{name: "two future entries are rejected", mutate: func(rt *Runtime) { rt.Deployments = append(rt.Deployments, dep(4, 20)) },
			want: ErrInvalidDeployments, fragments: []string{"two future entries", "version 3.0.0", "version 4.0.0"}},
		{name: "non-increasing versions are rejected", mutate: func(rt *Runtime) {
			rt.Deployments[2] = VersionInfo{Version: version.Version{Major: 1, Minor: 5}, ValidFrom: 13, BundleChecksum: bundle("1.5")}
		},
			want: ErrInvalidDeployments, fragments: []string{"non-increasing versions", "1.5.0"}},
		{name: "entry that would never be valid is rejected", mutate: func(rt *Runtime) { rt.Deployments = append(rt.Deployments, dep(4, 13)) },
			want: ErrInvalidDeployments, fragments: []string{"deployments[2] (version 3.0.0, valid_from 13) would never be valid"}},
		{name: "amend pending entry's valid_from is accepted", mutate: func(rt *Runtime) { rt.Deployments[2].ValidFrom = 20 }, want: ok},
		{name: "amend pending entry to the earliest notice epoch is accepted", mutate: func(rt *Runtime) { rt.Deployments[2].ValidFrom = 12 }, want: ok},
		{name: "amend pending entry to a new version is accepted", mutate: func(rt *Runtime) { rt.Deployments[2] = dep(4, 14) }, want: ok},
		{name: "amend pending entry with another bundle under its version is rejected", mutate: func(rt *Runtime) { rt.Deployments[2].BundleChecksum = bundle("rebuilt") },
			want: ErrVersionReused, fragments: []string{"version 3.0.0", "announced with bundle " + bundle("3.0.0").String()}},
		{name: "withdraw pending entry is accepted", mutate: func(rt *Runtime) { rt.Deployments = rt.Deployments[:2] }, want: ok},
		{name: "drop entries older than the active one is accepted", mutate: func(rt *Runtime) { rt.Deployments = rt.Deployments[1:] }, want: ok},
		{name: "a pending entry kept as is may be closer than the notice", old: func(rt *Runtime) { rt.Deployments[2].ValidFrom = 11 },
			mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSize = 50 }, want: ok},
		{name: "a version number reused for another bundle is rejected", announced: withdrawnV4,
			mutate: func(rt *Runtime) {
				rt.Deployments[2] = dep(4, 14)
				rt.Deployments[2].BundleChecksum = bundle("another v4")
			}, want: ErrVersionReused, fragments: []string{"version 4.0.0", "announced with bundle " + bundle("4.0.0").String()}},
		{name: "a withdrawn version announced again with its bundle is accepted", announced: withdrawnV4,
			mutate: func(rt *Runtime) { rt.Deployments[2] = dep(4, 14) }, want: ok},
		{name: "a runtime with no active entry may move its only entry", old: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(1, 13)} },
			mutate: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(1, 15)} }, want: ok},
		{name: "a runtime with no active entry may not make it active at once", old: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(1, 13)} },
			mutate: func(rt *Runtime) { rt.Deployments = []VersionInfo{dep(1, 10)} }, want: ErrInvalidDeployments, fragments: []string{"retroactive entry"}},

		{name: "immutable id", mutate: func(rt *Runtime) { rt.ID = testRuntimeID("other") }, want: ErrRuntimeUpdateNotAllowed, fragments: []string{"id is immutable"}},
		{name: "immutable kind", mutate: func(rt *Runtime) { rt.Kind = 2 }, want: ErrRuntimeUpdateNotAllowed, fragments: []string{"kind is immutable"}},
		{name: "immutable genesis state root", mutate: func(rt *Runtime) { rt.Genesis.StateRoot = hash.Digest([]byte("x")) },
			want: ErrRuntimeUpdateNotAllowed, fragments: []string{"genesis is immutable"}},
		{name: "immutable genesis round", mutate: func(rt *Runtime) { rt.Genesis.Round = 7 }, want: ErrRuntimeUpdateNotAllowed, fragments: []string{"genesis is immutable"}},
		{name: "immutable entity", mutate: func(rt *Runtime) { rt.EntityID = testKey(t, "other entity") }, want: ErrRuntimeUpdateNotAllowed, fragments: []string{"entity_id is immutable"}},
		{name: "immutable TEE hardware", params: func(p *ConsensusParameters) { p.DebugAllowMockTEE = true },
			mutate: func(rt *Runtime) { rt.TEEHardware = node.TEEHardwareMock }, want: ErrRuntimeUpdateNotAllowed, fragments: []string{"tee_hardware is immutable"}},
		{name: "governance change from entity to runtime is accepted", mutate: func(rt *Runtime) { rt.GovernanceModel = GovernanceRuntime }, want: ok},
		{name: "governance change from runtime to entity is rejected", old: func(rt *Runtime) { rt.GovernanceModel = GovernanceRuntime },
			mutate: func(rt *Runtime) { rt.GovernanceModel = GovernanceEntity }, want: ErrRuntimeUpdateNotAllowed, fragments: []string{"from runtime to entity"}},
		{name: "governance change to an unknown model is rejected", mutate: func(rt *Runtime) { rt.GovernanceModel = 3 },
			want: ErrRuntimeUpdateNotAllowed, fragments: []string{"governance_model may only change from entity to runtime"}},

		{name: "TEE blob on a non-TEE runtime is rejected", mutate: func(rt *Runtime) { rt.Deployments[2].TEE = []byte("policy") },
			want: ErrInvalidDeployments, fragments: []string{"tee blob on a runtime without TEE hardware"}},
		{name: "mock TEE without the genesis flag is rejected", old: func(rt *Runtime) { rt.TEEHardware = node.TEEHardwareMock },
			mutate: func(rt *Runtime) {}, want: ErrInvalidRuntime, fragments: []string{"debug_allow_mock_tee"}},
		{name: "stragglers against the group size", mutate: func(rt *Runtime) { rt.Executor.AllowedStragglers = 2 },
			want: ErrInvalidRuntime, fragments: []string{"executor.allowed_stragglers"}},
		{name: "batch size against the write-log limit", mutate: func(rt *Runtime) { rt.Storage.MaxApplyWriteLogEntries = 50 },
			want: ErrInvalidRuntime, fragments: []string{"txn_scheduler.max_batch_size", "storage.max_apply_write_log_entries = 50"}},
		{name: "batch bytes against the frame cap", mutate: func(rt *Runtime) { rt.TxnScheduler.MaxBatchSizeBytes = 8 << 20 },
			want: ErrInvalidRuntime, fragments: []string{"frame cap / 4"}},
		{name: "write replication against the storage group", mutate: func(rt *Runtime) { rt.Storage.GroupSize = 1 },
			want: ErrInvalidRuntime, fragments: []string{"storage.min_write_replication", "storage.group_size = 1"}},
		{name: "max messages against max_runtime_messages", params: func(p *ConsensusParameters) { p.MaxRuntimeMessages = 16 },
			mutate: func(rt *Runtime) {}, want: ErrInvalidRuntime, fragments: []string{"executor.max_messages", "= 16"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams()
			if tc.params != nil {
				tc.params(p)
			}
			old := updateOld(t)
			if tc.old != nil {
				tc.old(old)
			}
			next := cloneRuntime(t, old)
			tc.mutate(next)
			assertRuleError(t, VerifyRuntimeUpdate(p, old, next, updateEpoch, tc.announced), tc.want, tc.fragments)
		})
	}
}

func TestAnnouncedVersionsRememberEveryVersionSorted(t *testing.T) {
	var a AnnouncedVersions
	rt := validRuntime(t)
	rt.Deployments = []VersionInfo{dep(3, 1), dep(5, 2)}
	a = a.With(rt)
	rt.Deployments = []VersionInfo{dep(1, 1), dep(3, 2)}
	rt.Deployments[1].BundleChecksum = bundle("not kept")
	a = a.With(rt)
	if len(a) != 3 || a[0].Version != v(1) || a[1].Version != v(3) || a[2].Version != v(5) {
		t.Fatalf("record %+v, want versions 1, 3, 5", a)
	}
	if sum, ok := a.Lookup(v(3)); !ok || sum != bundle("3.0.0") {
		t.Errorf("version 3 kept bundle %s, %v; the first announcement wins", sum, ok)
	}
	if _, ok := a.Lookup(v(4)); ok {
		t.Error("Lookup found a version never announced")
	}
	before := len(a)
	_ = a.With(validRuntime(t))
	if len(a) != before {
		t.Error("With modified its receiver")
	}
}

func TestAuthorizeRuntimeTxAndMessageFollowGovernance(t *testing.T) {
	entity, other := testKey(t, "entity"), testKey(t, "other")
	rt := validRuntime(t)
	runtimeGoverned := validRuntime(t)
	runtimeGoverned.GovernanceModel = GovernanceRuntime
	for _, tc := range []struct {
		name   string
		old    *Runtime
		signer [32]byte
		want   error
	}{
		{"the entity registers its new runtime", nil, entity, nil},
		{"another key may not register the entity's runtime", nil, other, ErrForbidden},
		{"the entity updates its entity-governed runtime", rt, entity, nil},
		{"another key may not update an entity-governed runtime", rt, other, ErrForbidden},
		{"not even the entity updates a runtime-governed runtime by transaction", runtimeGoverned, entity, ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertRuleError(t, AuthorizeRuntimeTx(tc.old, validRuntime(t), tc.signer), tc.want, nil)
		})
	}
	if err := AuthorizeRuntimeMessage(runtimeGoverned, runtimeGoverned.ID); err != nil {
		t.Errorf("a runtime-governed runtime updating itself: %v", err)
	}
	assertRuleError(t, AuthorizeRuntimeMessage(rt, rt.ID), ErrForbidden, []string{"entity-governed"})
	assertRuleError(t, AuthorizeRuntimeMessage(runtimeGoverned, testRuntimeID("other")), ErrForbidden, []string{"may not update"})
}
