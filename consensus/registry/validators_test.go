package registry_test

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry/api"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// powerOf returns the power an update sets for key, and whether there is one.
func powerOf(updates []abci.ValidatorUpdate, key signature.PublicKey) (int64, bool) {
	for _, u := range updates {
		if string(u.PubKey.GetEd25519()) == string(key[:]) {
			return u.Power, true
		}
	}
	return 0, false
}

// updatesIn returns the validator updates of the blocks.
func updatesIn(results []*memchain.BlockResult) []abci.ValidatorUpdate {
	var out []abci.ValidatorUpdate
	for _, r := range results {
		out = append(out, r.ValidatorUpdates...)
	}
	return out
}

func TestAValidatorNodeJoinsAtTheNextEpochTransitionAndLeavesWhenItExpires(t *testing.T) {
	h := newHarness(t, func(d *genesis.Document) {
		withStake(0, 50, 0, 100)(d)
		registryWithRuntime(nil)(d)
	})
	first := h.deliver()
	if len(first.ValidatorUpdates) != 0 {
		t.Fatalf("the genesis set changed at the first block: %v", first.ValidatorUpdates)
	}
	e := entitySigner(0)
	n := memchain.TestNode(0, e.Public(), node.RoleValidator, 2)
	res := h.mustDeliver(h.nodeTx(e, n, 0))
	if len(res.ValidatorUpdates) != 0 {
		t.Fatal("a node joined the set before the epoch transition")
	}
	results := h.toEpoch(1)
	updates := updatesIn(results)
	if p, ok := powerOf(updates, n.Consensus.ID); !ok || p != 100 || len(updates) != 1 {
		t.Fatalf("updates at the transition %v (power %d), want the node with its entity's escrow 100", updates, p)
	}
	if len(results[len(results)-1].ValidatorUpdates) != 1 {
		t.Fatal("the update is not in the transition's block")
	}
	var vals []consensus.ValidatorInfo
	h.read(func(s consensus.State) (err error) { vals, err = consensus.Validators(s); return })
	if len(vals) != 2 {
		t.Fatalf("validator set %+v, want the genesis validator and the node", vals)
	}
	if updates := updatesIn(h.toEpoch(2)); len(updates) != 0 {
		t.Fatalf("updates while nothing changed: %v", updates)
	}
	// Expiration 2: expired in epoch 3, it leaves.
	updates = updatesIn(h.toEpoch(3))
	if p, ok := powerOf(updates, n.Consensus.ID); !ok || p != 0 || len(updates) != 1 {
		t.Fatalf("updates at expiry %v", updates)
	}
}

func TestAFrozenValidatorLeavesTheSetAndOneShortOfStakeNeverJoins(t *testing.T) {
	h := newHarness(t, func(d *genesis.Document) {
		withStake(0, 60, 0, 100)(d)
		registryWithRuntime(nil)(d)
	})
	h.deliver()
	e := entitySigner(0)
	a := memchain.TestNode(0, e.Public(), node.RoleValidator, 5)
	h.mustDeliver(h.nodeTx(e, a, 0))
	// A second validator node would claim 120 of 100: rejected, it never joins.
	h.deliverErr(h.nodeTx(e, memchain.TestNode(1, e.Public(), node.RoleValidator, 5), 1), stakingapi.ErrInsufficientStake)
	if _, ok := powerOf(updatesIn(h.toEpoch(1)), a.Consensus.ID); !ok {
		t.Fatal("the staked node did not join")
	}
	h.mustDeliver(h.f.SignTx(e, memchain.Tx{Nonce: h.nonce(e), Gas: 1000, Method: methodFreeze, Body: freezeBody{Node: a.ID, Interval: 3}}))
	if p, ok := powerOf(updatesIn(h.toEpoch(2)), a.Consensus.ID); !ok || p != 0 {
		t.Fatal("a frozen validator stayed in the set")
	}
	// The freeze ends at epoch 4: it rejoins.
	if p, ok := powerOf(updatesIn(h.toEpoch(4)), a.Consensus.ID); !ok || p != 100 {
		t.Fatal("the validator did not rejoin after its freeze")
	}
}

func TestTheLastValidatorIsNeverRemoved(t *testing.T) {
	// A genesis node takes over the only genesis validator's consensus key and expires.
	h := newHarness(t, func(d *genesis.Document) {
		v := d.Validators[0]
		e := memchain.TestSigner("entity", 0)
		n := memchain.TestNode(0, e.Public(), node.RoleValidator, 1)
		n.Consensus.ID = v.ConsensusKey
		memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{
			Entities: []memchain.GenesisEntity{{Signer: e, Nodes: []signature.PublicKey{n.ID}}},
			Nodes:    []memchain.GenesisNode{{Signer: memchain.TestNodeSigner(0), Node: n}},
		})
	})
	key := h.f.Genesis.Validators[0].ConsensusKey
	updates := h.deliver().ValidatorUpdates
	if p, ok := powerOf(updates, key); !ok || p != 1000 {
		t.Fatalf("the handed-over validator's power %d (%v), want its entity's escrow 1000", p, updates)
	}
	// Expiration 1: the node expires in epoch 2, which would leave the set empty.
	if updates := updatesIn(h.toEpoch(3)); len(updates) != 0 {
		t.Fatalf("the last validator was removed: %v", updates)
	}
	var vals []consensus.ValidatorInfo
	h.read(func(s consensus.State) (err error) { vals, err = consensus.Validators(s); return })
	if len(vals) != 1 {
		t.Fatalf("validator set %+v", vals)
	}
}

func TestAGenesisValidatorsConsensusKeyIsTakenOnlyByItsEntity(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	e := entitySigner(0)
	n := memchain.TestNode(0, e.Public(), node.RoleValidator, 2)
	n.Consensus.ID = h.f.Genesis.Validators[0].ConsensusKey
	h.deliverErr(h.nodeTx(e, n, 0), api.ErrKeyInUse)
}
