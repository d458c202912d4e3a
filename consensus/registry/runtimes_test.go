package registry_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry"
	"github.com/atoll-project/atoll/consensus/registry/api"
)

func runtimeInfo(t *testing.T, h *harness, id [32]byte) api.RuntimeInfo {
	t.Helper()
	var info api.RuntimeInfo
	if err := h.c.Query(api.QueryRuntime, api.RuntimeQuery{ID: id}, &info, 0); err != nil {
		t.Fatal(err)
	}
	return info
}

func TestARuntimeRegisteredByTransactionStartsSuspended(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	owner := entitySigner(1)
	for _, tc := range []struct {
		name   string
		signer int
		rt     func() *api.Runtime
		want   error
	}{
		{"a first entry sooner than min_deployment_notice", 1, func() *api.Runtime { return memchain.TestRuntime(1, owner.Public(), 1) }, api.ErrInvalidDeployments},
		{"a registration by another key than the owner's", 2, func() *api.Runtime { return memchain.TestRuntime(1, owner.Public(), 2) }, api.ErrForbidden},
		{"an owner that is not a registered entity", 3, func() *api.Runtime { return memchain.TestRuntime(1, entitySigner(3).Public(), 2) }, api.ErrNoSuchEntity},
		{"the mock TEE without the genesis flag", 1, func() *api.Runtime {
			rt := memchain.TestRuntime(1, owner.Public(), 2)
			rt.TEEHardware = 1
			return rt
		}, api.ErrInvalidRuntime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := entitySigner(tc.signer)
			h.deliverErr(h.f.RegisterRuntimeTx(s, h.nonce(s), tc.rt()), tc.want)
		})
	}
	rt := memchain.TestRuntime(1, owner.Public(), 2)
	res := h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), rt))
	if evs := events[api.RuntimeRegisteredEvent](t, res); len(evs) != 1 || evs[0].Runtime.ID != rt.ID {
		t.Fatalf("events %+v", evs)
	}
	if !runtimeInfo(t, h, rt.ID).Suspended {
		t.Fatal("a runtime registered by transaction is active")
	}
	if log := h.observedLog(); len(log) == 0 || log[len(log)-1].Kind != api.MessageKindRuntimeRegistered {
		t.Fatalf("roothash saw %+v", log)
	}
	var all []api.RuntimeInfo
	if err := h.c.Query(api.QueryRuntimes, nil, &all, 0); err != nil || len(all) != 2 {
		t.Fatalf("%d runtimes, %v", len(all), err)
	}
}

func TestARuntimeUpdateTakesEffectAtTheNextEpochTransition(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	owner := entitySigner(0)
	rt := memchain.TestRuntime(0, owner.Public(), 0)
	next := memchain.TestRuntime(0, owner.Public(), 0)
	v2 := version.Version{Major: 2}
	next.Deployments = append(next.Deployments, api.VersionInfo{Version: v2, ValidFrom: 3, BundleChecksum: memchain.TestBundle(rt.ID, v2)})
	next.Executor.RoundTimeout = 20
	h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), next))
	epochRuntime := func() *api.Runtime {
		var out *api.Runtime
		h.read(func(s consensus.State) (err error) { out, err = registry.GetEpochRuntime(s, rt.ID); return })
		return out
	}
	if got := runtimeInfo(t, h, rt.ID).Runtime.Executor.RoundTimeout; got != 20 {
		t.Fatalf("latest descriptor has round_timeout %d", got)
	}
	if got := epochRuntime().Executor.RoundTimeout; got != 10 {
		t.Fatalf("the epoch's snapshot changed before the transition: round_timeout %d", got)
	}
	h.toEpoch(1)
	if got := epochRuntime(); got.Executor.RoundTimeout != 20 || len(got.Deployments) != 2 {
		t.Fatalf("the snapshot after the transition: %+v", got)
	}
}

func TestAVersionNumberOnceAnnouncedIsNeverReusedForAnotherBundle(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	owner := entitySigner(0)
	base := memchain.TestRuntime(0, owner.Public(), 0)
	v2 := version.Version{Major: 2}
	withV2 := func(bundle byte) *api.Runtime {
		rt := memchain.TestRuntime(0, owner.Public(), 0)
		d := api.VersionInfo{Version: v2, ValidFrom: 5, BundleChecksum: memchain.TestBundle(rt.ID, v2)}
		d.BundleChecksum[0] ^= bundle
		rt.Deployments = append(rt.Deployments, d)
		return rt
	}
	h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), withV2(0)))
	// Withdrawing the pending entry is allowed; announcing 2.0.0 again with another bundle is not.
	h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), base))
	h.deliverErr(h.f.RegisterRuntimeTx(owner, h.nonce(owner), withV2(1)), api.ErrVersionReused)
	h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), withV2(0)))
}

func TestARuntimeGovernedRuntimeIsUpdatedOnlyByItsOwnMessages(t *testing.T) {
	owner := entitySigner(0)
	rt := memchain.TestRuntime(0, owner.Public(), 0)
	rt.GovernanceModel = api.GovernanceRuntime
	other := memchain.TestRuntime(1, owner.Public(), 0)
	h := newHarness(t, func(d *genesis.Document) {
		memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{
			Entities: []memchain.GenesisEntity{{Signer: owner}},
			Runtimes: []memchain.GenesisRuntime{{Signer: owner, Runtime: rt}, {Signer: owner, Runtime: other}},
		})
	})
	h.deliver()
	next := memchain.TestRuntime(0, owner.Public(), 0)
	next.GovernanceModel = api.GovernanceRuntime
	next.Executor.RoundTimeout = 30
	h.deliverErr(h.f.RegisterRuntimeTx(owner, h.nonce(owner), next), api.ErrForbidden)
	update := func(caller [32]byte, descriptor []byte) []byte {
		return h.f.SignTx(owner, memchain.Tx{Nonce: h.nonce(owner), Gas: 1000, Method: methodUpdateRuntime, Body: updateBody{Caller: caller, Descriptor: descriptor}})
	}
	h.deliverErr(update(other.ID, cbor.Marshal(next)), api.ErrForbidden)
	h.deliverErr(update(rt.ID, []byte{0xa1, 0x00}), api.ErrInvalidArgument)
	h.mustDeliver(update(rt.ID, cbor.Marshal(next)))
	if got := runtimeInfo(t, h, rt.ID).Runtime.Executor.RoundTimeout; got != 30 {
		t.Fatalf("round_timeout %d after the runtime's update", got)
	}
	// Entity governance may hand over to the runtime, never the reverse.
	back := memchain.TestRuntime(0, owner.Public(), 0)
	h.deliverErr(update(rt.ID, cbor.Marshal(back)), api.ErrRuntimeUpdateNotAllowed)
	handover := memchain.TestRuntime(1, owner.Public(), 0)
	handover.GovernanceModel = api.GovernanceRuntime
	h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), handover))
	if runtimeInfo(t, h, other.ID).Runtime.GovernanceModel != api.GovernanceRuntime {
		t.Fatal("the governance hand-over did not apply")
	}
}

func TestAnUpdateMustKeepTheActiveDeploymentAndGiveNotice(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	owner := entitySigner(0)
	h.toEpoch(1)
	for _, tc := range []struct {
		name   string
		change func(*api.Runtime)
		want   error
	}{
		{"a changed active entry", func(rt *api.Runtime) { rt.Deployments[0].BundleChecksum[0] ^= 1 }, api.ErrInvalidDeployments},
		{"an entry sooner than min_deployment_notice", func(rt *api.Runtime) {
			rt.Deployments = append(rt.Deployments, api.VersionInfo{Version: version.Version{Major: 2}, ValidFrom: 2, BundleChecksum: memchain.TestBundle(rt.ID, version.Version{Major: 2})})
		}, api.ErrInvalidDeployments},
		{"a changed genesis", func(rt *api.Runtime) { rt.Genesis.Round = 7 }, api.ErrRuntimeUpdateNotAllowed},
		{"stragglers above (group_size - 1)/2", func(rt *api.Runtime) { rt.Executor.AllowedStragglers = 1 }, api.ErrInvalidRuntime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := memchain.TestRuntime(0, owner.Public(), 0)
			tc.change(rt)
			h.deliverErr(h.f.RegisterRuntimeTx(owner, h.nonce(owner), rt), tc.want)
		})
	}
}
