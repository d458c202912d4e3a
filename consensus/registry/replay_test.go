package registry_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry/api"
)

func TestReplayReproducesTheAppHashesOfRegistryAndSchedulerActivity(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	owner := entitySigner(0)
	rt := memchain.TestRuntime(1, owner.Public(), 2)
	h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), rt))
	for i, n := range workers(owner.Public(), rt, 0, 4) {
		h.mustDeliver(h.nodeTx(owner, n, i))
	}
	var listed []signature.PublicKey
	for i := 0; i < 5; i++ {
		listed = append(listed, memchain.TestNodeSigner(i).Public())
	}
	h.registerEntity(0, listed...)
	h.mustDeliver(h.nodeTx(owner, memchain.TestNode(4, owner.Public(), node.RoleValidator, 3), 4))
	next := memchain.TestRuntime(1, owner.Public(), 2)
	v2 := version.Version{Major: 2}
	next.Deployments = append(next.Deployments, api.VersionInfo{Version: v2, ValidFrom: 4, BundleChecksum: memchain.TestBundle(rt.ID, v2)})
	h.toEpoch(2)
	h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), next))
	h.mustDeliver(h.f.SignTx(owner, memchain.Tx{Nonce: h.nonce(owner), Gas: 1000, Method: methodFreeze, Body: freezeBody{Node: memchain.TestNodeSigner(0).Public(), Interval: 1}}))
	h.toEpoch(6) // nodes expire at 4 and 5, and are removed at 6
	if len(committees(t, h, rt.ID)) != 0 || !h.suspended(rt.ID) {
		t.Fatal("the runtime should have been suspended once its nodes expired")
	}
	replayed, err := h.c.Replay()
	if err != nil {
		t.Fatal(err)
	}
	replayed.Close()
	if err := h.c.Reopen(); err != nil {
		t.Fatal(err)
	}
	h.deliver()
}
