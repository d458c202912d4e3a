package registry

import (
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
)

func key(label string) signature.PublicKey { return signature.PublicKey(hash.Digest([]byte(label))) }

func TestAnEntitysPowerIsItsCappedEscrowSharedAmongItsValidatorNodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		escrow uint64
		nodes  int
		want   int64
	}{
		{"one node gets the whole escrow", 100, 1, 100},
		{"two nodes share it", 100, 2, 50},
		{"the escrow is capped", 1 << 60, 1, 1000},
		{"a node gets at least 1", 0, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := entityPower(quantity.NewFromUint64(tc.escrow), tc.nodes, 1000); got != tc.want {
				t.Fatalf("power %d, want %d", got, tc.want)
			}
		})
	}
}

func TestValidatorChangesRemoveLeaversAndSetJoinersAndChangedPowers(t *testing.T) {
	a, b, c := key("a"), key("b"), key("c")
	e := key("entity")
	current := []validatorPower{{e, a, 10}, {e, b, 10}}
	desired := validatorSet(
		[]validatorPower{{e, a, 10}},
		[]validatorNode{{EntityID: e, ConsensusKey: c}},
		map[signature.PublicKey]*quantity.Quantity{e: quantity.NewFromUint64(7)},
		1000, 10,
	)
	changes := validatorChanges(current, desired)
	want := map[signature.PublicKey]int64{b: 0, c: 7}
	if len(changes) != len(want) {
		t.Fatalf("changes %+v", changes)
	}
	for _, ch := range changes {
		if p, ok := want[ch.ConsensusKey]; !ok || p != ch.Power {
			t.Fatalf("changes %+v", changes)
		}
	}
	if len(validatorChanges(desired, desired)) != 0 {
		t.Fatal("changes between equal sets")
	}
}

func TestTheValidatorSetKeepsTheMostPowerfulWhenTooLarge(t *testing.T) {
	e1, e2 := key("e1"), key("e2")
	set := validatorSet(
		[]validatorPower{{e1, key("static"), 5}},
		[]validatorNode{{EntityID: e2, ConsensusKey: key("n")}},
		map[signature.PublicKey]*quantity.Quantity{e2: quantity.NewFromUint64(9)},
		1000, 1,
	)
	if len(set) != 1 || set[0].ConsensusKey != key("n") {
		t.Fatalf("set %+v", set)
	}
}
