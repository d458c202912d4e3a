package registry

import (
	"bytes"
	"math/big"
	"sort"

	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
)

// The registry's own pure rules: which validators CometBFT's set should hold after an epoch
// transition, and the updates that get it there. They read no state.

// validatorPower is one validator and its voting power.
type validatorPower struct {
	EntityID     signature.PublicKey
	ConsensusKey signature.PublicKey
	Power        int64
}

// validatorNode is a registered node eligible for the validator set in the new epoch: it has
// the validator role, is unexpired and not frozen, and its entity passes its stake check.
type validatorNode struct {
	EntityID     signature.PublicKey
	ConsensusKey signature.PublicKey
}

// entityPower splits an entity's voting power among its n eligible validator nodes: the
// entity's active escrow in base units, capped at maxPower, divided equally (rounded down),
// and at least 1 per node (so a zero threshold and zero escrow still give a working node).
func entityPower(escrow *quantity.Quantity, n int, maxPower int64) int64 {
	total := escrow.ToBigInt()
	if limit := big.NewInt(maxPower); total.Cmp(limit) > 0 {
		total = limit
	}
	p := total.Int64() / int64(max(n, 1))
	return max(p, 1)
}

// validatorSet returns the desired validator set, sorted by consensus key: the genesis
// validators not handed over to a node (static, with their genesis power), then every eligible
// validator node with its share of its entity's power (escrow by entity). When there are more
// than maxValidators, the most powerful are kept (ties by consensus key).
func validatorSet(static []validatorPower, nodes []validatorNode, escrow map[signature.PublicKey]*quantity.Quantity, maxPower int64, maxValidators int) []validatorPower {
	perEntity := make(map[signature.PublicKey]int)
	for _, n := range nodes {
		perEntity[n.EntityID]++
	}
	out := append([]validatorPower(nil), static...)
	for _, n := range nodes {
		e := escrow[n.EntityID]
		if e == nil {
			e = new(quantity.Quantity)
		}
		out = append(out, validatorPower{EntityID: n.EntityID, ConsensusKey: n.ConsensusKey, Power: entityPower(e, perEntity[n.EntityID], maxPower)})
	}
	if len(out) > maxValidators {
		sort.Slice(out, func(i, j int) bool {
			if out[i].Power != out[j].Power {
				return out[i].Power > out[j].Power
			}
			return bytes.Compare(out[i].ConsensusKey[:], out[j].ConsensusKey[:]) < 0
		})
		out = out[:maxValidators]
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].ConsensusKey[:], out[j].ConsensusKey[:]) < 0 })
	return out
}

// validatorChanges returns the updates that turn current into desired, sorted by consensus
// key: power 0 for a validator that leaves, the new power (and entity) for one that joins or
// changes.
func validatorChanges(current, desired []validatorPower) []validatorPower {
	want := make(map[signature.PublicKey]validatorPower, len(desired))
	for _, d := range desired {
		want[d.ConsensusKey] = d
	}
	have := make(map[signature.PublicKey]validatorPower, len(current))
	var out []validatorPower
	for _, c := range current {
		have[c.ConsensusKey] = c
		if _, ok := want[c.ConsensusKey]; !ok {
			out = append(out, validatorPower{EntityID: c.EntityID, ConsensusKey: c.ConsensusKey})
		}
	}
	for _, d := range desired {
		if c, ok := have[d.ConsensusKey]; !ok || c != d {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].ConsensusKey[:], out[j].ConsensusKey[:]) < 0 })
	return out
}
