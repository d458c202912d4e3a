package scheduler

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/registry"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/scheduler/election"
)

// candidatePool is every registered node with the facts an election needs, read once per
// epoch transition: liveness exclusions are per runtime (forRuntime).
type candidatePool struct {
	candidates []election.Candidate
	statuses   []*registryapi.NodeStatus
}

// gatherCandidates reads every node record that is live in epoch, with its status (frozen)
// and its entity's stake check (registry.NodeStakeOK).
func gatherCandidates(s consensus.State, epoch beacon.EpochTime) (*candidatePool, error) {
	nodes, err := registry.Nodes(s)
	if err != nil {
		return nil, err
	}
	p := &candidatePool{}
	for _, n := range nodes {
		if n.IsExpired(uint64(epoch)) {
			continue
		}
		st, err := registry.GetNodeStatus(s, n.ID)
		if err != nil {
			return nil, err
		}
		stakeOK, err := registry.NodeStakeOK(s, n)
		if err != nil {
			return nil, err
		}
		p.candidates = append(p.candidates, election.Candidate{Node: n, Frozen: st.IsFrozen(epoch), StakeOK: stakeOK})
		p.statuses = append(p.statuses, st)
	}
	return p, nil
}

// forRuntime returns the candidates with their liveness exclusions from runtime set.
func (p *candidatePool) forRuntime(runtime namespace.Namespace, epoch beacon.EpochTime) []election.Candidate {
	out := make([]election.Candidate, len(p.candidates))
	for i, c := range p.candidates {
		c.LivenessExcluded = p.statuses[i].IsSuspended(runtime, epoch)
		out[i] = c
	}
	return out
}
