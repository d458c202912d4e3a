package genesis_test

import (
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
)

func TestSanityCheckCoversTheRegistrySection(t *testing.T) {
	e := memchain.TestSigner("entity", 0) // validator 0's entity, escrow 100
	rt := memchain.TestRuntime(0, e.Public(), 0)
	for _, tc := range []struct {
		name   string
		change func(*genesis.Document)
		want   string
	}{
		{"a runtime of an unknown entity", func(d *genesis.Document) {
			memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{Runtimes: []memchain.GenesisRuntime{{Signer: e, Runtime: rt}}})
		}, "no such entity"},
		{"claims the genesis escrow does not cover", func(d *genesis.Document) {
			d.Staking.Params.Thresholds.Entity = *quantity.NewFromUint64(60)
			d.Staking.Params.Thresholds.Runtime = *quantity.NewFromUint64(60)
			memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{
				Entities: []memchain.GenesisEntity{{Signer: e}},
				Runtimes: []memchain.GenesisRuntime{{Signer: e, Runtime: rt}},
			})
		}, "claim"},
		{"a node using another entity's validator consensus key", func(d *genesis.Document) {
			other := memchain.TestSigner("account", 0)
			n := memchain.TestNode(0, other.Public(), node.RoleValidator, 2)
			n.Consensus.ID = d.Validators[0].ConsensusKey
			memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{
				Entities: []memchain.GenesisEntity{{Signer: other, Nodes: []signature.PublicKey{n.ID}}},
				Nodes:    []memchain.GenesisNode{{Signer: memchain.TestNodeSigner(0), Node: n}},
			})
		}, "consensus key"},
		{"a min_deployment_notice below 2", func(d *genesis.Document) { d.Registry.Params.MinDeploymentNotice = 1 }, "min_deployment_notice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := memchain.NewFixture(memchain.FixtureParams{Validators: 1, Accounts: 1, Balance: 10, SelfEscrow: 100, Tweak: tc.change})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}
