// Package election computes a runtime's committees for an epoch as a pure function of
// (entropy, runtime descriptor, epoch, candidates) (DESIGN.md §3 Scheduler). It reads no
// state and writes none: the scheduler application gathers the candidates, calls Elect, and
// stores and announces the result.
//
// Eligibility. An executor candidate must have the compute role, be unexpired, not frozen,
// not excluded from the runtime for liveness faults, pass the stake check, and have a runtime
// entry for exactly the active deployment's version and bundle checksum (with a TEE
// capability of the runtime's hardware when the runtime needs one; registration verified it).
// A storage candidate must have the storage role, be unexpired, not frozen, pass the stake
// check and have an entry for the runtime, any version. The flags come from the caller
// (Candidate).
//
// Order. Candidates are ranked by Rank, a keyed hash of the node's key (see Rank), and
// taken in ascending rank order; input order never matters. The construction is frozen by
// golden vectors: the same inputs give the same committees forever.
//
// Selection. Workers are the first executor.group_size eligible executors in worker rank
// order, skipping a node whose entity already has constraints.executor.max_nodes_per_entity
// members (0 = no limit). Backups are then taken the same way, in backup rank order, from the
// eligible executors not elected as workers, with the per-entity count carried over from the
// workers, up to group_backup_size (possibly fewer). The storage committee is the first
// storage.group_size eligible storage nodes in storage rank order, at most
// constraints.storage.max_nodes_per_entity per entity.
//
// Thresholds. Counting each entity at most its limit, when the eligible executors number
// fewer than max(group_size, constraints.executor.min_pool_size) or the eligible storage
// nodes fewer than max(storage.group_size, constraints.storage.min_pool_size), no committee
// at all is elected. A runtime with no active deployment in the epoch is not elected.
package election

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

// ErrInvalidInput is returned for input that breaks Elect's preconditions: a missing
// descriptor, a zero group size, a candidate without a descriptor or listed twice. It means a
// bug in the caller, not a reason to suspend the runtime.
var ErrInvalidInput = errors.New("election: invalid input")

// Candidate is a registered node as an election sees it. The flags are facts the caller
// takes from the registry and staking state for the election's epoch and runtime.
type Candidate struct {
	Node *node.Node
	// Frozen: the node is frozen in the epoch (registry NodeStatus.IsFrozen).
	Frozen bool
	// LivenessExcluded: the node is excluded from this runtime's executor elections for
	// liveness faults (registry NodeStatus.IsSuspended).
	LivenessExcluded bool
	// StakeOK: the node's entity passes the stake check for the node's claims. The zero
	// value is false, so a caller that forgets it elects nobody rather than anybody.
	StakeOK bool
}

// Input is everything one runtime's election depends on.
type Input struct {
	// Entropy is the beacon's entropy for the epoch.
	Entropy hash.Hash
	// Epoch is the epoch the committees serve.
	Epoch beacon.EpochTime
	// Runtime is the descriptor snapshot the epoch works from.
	Runtime *registry.Runtime
	// Candidates are the registered nodes, in any order.
	Candidates []Candidate
}

// ElectionDomain separates election ranks from every other use of the hash.
const ElectionDomain = "atoll/scheduler: election v1"

// Rank returns node id's rank in the election of (entropy, runtime, kind, role):
//
//	SHA-512/256(ElectionDomain || entropy (32 bytes) || runtime ID (32 bytes) ||
//	            u8(kind) || u8(role) || node public key (32 bytes))
//
// Candidates are taken in ascending bytewise order of their ranks. Every field has a fixed
// length, so the encoding is unambiguous. A node's rank does not depend on the other
// candidates, so the order is independent of how the candidate list was built.
func Rank(entropy hash.Hash, runtime namespace.Namespace, kind scheduler.CommitteeKind, role scheduler.Role, id signature.PublicKey) hash.Hash {
	return hash.Digest([]byte(ElectionDomain), entropy[:], runtime[:], []byte{byte(kind), byte(role)}, id[:])
}

// Order returns ids sorted by ascending Rank (ties, which need a hash collision, by key).
func Order(entropy hash.Hash, runtime namespace.Namespace, kind scheduler.CommitteeKind, role scheduler.Role, ids []signature.PublicKey) []signature.PublicKey {
	type ranked struct {
		rank hash.Hash
		id   signature.PublicKey
	}
	rs := make([]ranked, len(ids))
	for i, id := range ids {
		rs[i] = ranked{Rank(entropy, runtime, kind, role, id), id}
	}
	sort.Slice(rs, func(i, j int) bool {
		if c := bytes.Compare(rs[i].rank[:], rs[j].rank[:]); c != 0 {
			return c < 0
		}
		return bytes.Compare(rs[i].id[:], rs[j].id[:]) < 0
	})
	out := make([]signature.PublicKey, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out
}

// Elect computes the runtime's committees for the epoch. The result's Outcome says whether
// committees were elected, the runtime has no active deployment, or there were too few
// eligible candidates; an error means invalid input (ErrInvalidInput).
func Elect(in *Input) (*scheduler.ElectionResult, error) {
	if err := checkInput(in); err != nil {
		return nil, err
	}
	rt := in.Runtime
	res := &scheduler.ElectionResult{RuntimeID: rt.ID, Epoch: in.Epoch}
	active := rt.ActiveDeployment(in.Epoch)
	if active == nil {
		res.Outcome = scheduler.OutcomeNotDeployed
		return res, nil
	}
	executors, storage := eligible(in, active)
	execLimit, storeLimit := rt.Constraints.Executor.MaxNodesPerEntity, rt.Constraints.Storage.MaxNodesPerEntity
	execPool, storePool := cappedCount(executors, execLimit), cappedCount(storage, storeLimit)
	res.EligibleExecutors, res.EligibleStorage = uint32(execPool), uint32(storePool)
	switch {
	case execPool < rt.Constraints.Executor.MinPool(rt.Executor.GroupSize):
		res.Outcome = scheduler.OutcomeTooFewExecutors
		return res, nil
	case storePool < rt.Constraints.Storage.MinPool(rt.Storage.GroupSize):
		res.Outcome = scheduler.OutcomeTooFewStorage
		return res, nil
	}

	e := &electorate{entropy: in.Entropy, runtime: rt.ID}
	counts := make(map[signature.PublicKey]int)
	workers := e.pick(executors, scheduler.KindExecutor, scheduler.RoleWorker, int(rt.Executor.GroupSize), execLimit, counts)
	rest := without(executors, workers)
	backups := e.pick(rest, scheduler.KindExecutor, scheduler.RoleBackup, int(rt.Executor.GroupBackupSize), execLimit, counts)
	storers := e.pick(storage, scheduler.KindStorage, scheduler.RoleWorker, int(rt.Storage.GroupSize), storeLimit, make(map[signature.PublicKey]int))

	res.Outcome = scheduler.OutcomeElected
	res.Executor = committee(scheduler.KindExecutor, rt.ID, in.Epoch, workers, backups)
	res.Storage = committee(scheduler.KindStorage, rt.ID, in.Epoch, storers, nil)
	return res, nil
}

func checkInput(in *Input) error {
	if in == nil || in.Runtime == nil {
		return fmt.Errorf("%w: no runtime descriptor", ErrInvalidInput)
	}
	if in.Runtime.Executor.GroupSize == 0 || in.Runtime.Storage.GroupSize == 0 {
		return fmt.Errorf("%w: runtime %s has a zero group size", ErrInvalidInput, in.Runtime.ID)
	}
	seen := make(map[signature.PublicKey]bool, len(in.Candidates))
	for i := range in.Candidates {
		n := in.Candidates[i].Node
		if n == nil {
			return fmt.Errorf("%w: candidates[%d] has no descriptor", ErrInvalidInput, i)
		}
		if seen[n.ID] {
			return fmt.Errorf("%w: candidates[%d] (%s) listed twice", ErrInvalidInput, i, n.ID)
		}
		seen[n.ID] = true
	}
	return nil
}

// eligible returns the eligible executors and storage nodes.
func eligible(in *Input, active *registry.VersionInfo) (executors, storage []*node.Node) {
	for i := range in.Candidates {
		c := &in.Candidates[i]
		if CheckExecutor(c, in.Runtime, active, in.Epoch) == nil {
			executors = append(executors, c.Node)
		}
		if CheckStorage(c, in.Runtime, in.Epoch) == nil {
			storage = append(storage, c.Node)
		}
	}
	return executors, storage
}

// cappedCount counts nodes with each entity counted at most limit times (0 = no limit).
func cappedCount(nodes []*node.Node, limit uint16) int {
	if limit == 0 {
		return len(nodes)
	}
	per := make(map[signature.PublicKey]int)
	total := 0
	for _, n := range nodes {
		if per[n.EntityID] < int(limit) {
			per[n.EntityID]++
			total++
		}
	}
	return total
}

// electorate ranks candidates for one runtime and epoch.
type electorate struct {
	entropy hash.Hash
	runtime namespace.Namespace
}

// pick takes up to want nodes in rank order of (kind, role), skipping nodes whose entity has
// reached limit (0 = none) in counts, which it updates.
func (e *electorate) pick(nodes []*node.Node, kind scheduler.CommitteeKind, role scheduler.Role, want int, limit uint16, counts map[signature.PublicKey]int) []signature.PublicKey {
	byID := make(map[signature.PublicKey]*node.Node, len(nodes))
	ids := make([]signature.PublicKey, len(nodes))
	for i, n := range nodes {
		byID[n.ID], ids[i] = n, n.ID
	}
	var out []signature.PublicKey
	for _, id := range Order(e.entropy, e.runtime, kind, role, ids) {
		if len(out) == want {
			break
		}
		entity := byID[id].EntityID
		if limit != 0 && counts[entity] >= int(limit) {
			continue
		}
		counts[entity]++
		out = append(out, id)
	}
	return out
}

// without returns the nodes whose keys are not in ids.
func without(nodes []*node.Node, ids []signature.PublicKey) []*node.Node {
	skip := make(map[signature.PublicKey]bool, len(ids))
	for _, id := range ids {
		skip[id] = true
	}
	var out []*node.Node
	for _, n := range nodes {
		if !skip[n.ID] {
			out = append(out, n)
		}
	}
	return out
}

func committee(kind scheduler.CommitteeKind, runtime namespace.Namespace, epoch beacon.EpochTime, workers, backups []signature.PublicKey) *scheduler.Committee {
	c := &scheduler.Committee{Kind: kind, RuntimeID: runtime, ValidFor: epoch}
	for _, id := range workers {
		c.Members = append(c.Members, scheduler.CommitteeNode{Role: scheduler.RoleWorker, PublicKey: id})
	}
	for _, id := range backups {
		c.Members = append(c.Members, scheduler.CommitteeNode{Role: scheduler.RoleBackup, PublicKey: id})
	}
	return c
}
