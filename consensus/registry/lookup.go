package registry

import (
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// The API other applications (scheduler, roothash) call with their own State or Context.
// Readers return nil (and no error) for what does not exist; errors are state failures
// (consensus.ErrState). Writers return coded errors for bad requests.

// Params returns the registry's parameters.
func Params(s consensus.State) (*api.ConsensusParameters, error) { return stateView{s}.params() }

// GetEntity returns the registered entity id, or nil.
func GetEntity(s consensus.State, id signature.PublicKey) (*api.Entity, error) {
	return stateView{s}.entity(id)
}

// GetNode returns node id's record, or nil. An expired node's record is kept for the staking
// debonding interval after its expiration, so that it stays slashable; use IsExpired to tell.
func GetNode(s consensus.State, id signature.PublicKey) (*node.Node, error) {
	return stateView{s}.node(id)
}

// GetNodeStatus returns node id's status: the stored one, the zero status for a record
// without one, or nil for an unknown node.
func GetNodeStatus(s consensus.State, id signature.PublicKey) (*api.NodeStatus, error) {
	v := stateView{s}
	st, err := v.nodeStatus(id)
	if err != nil || st != nil {
		return st, err
	}
	n, err := v.node(id)
	if err != nil || n == nil {
		return nil, err
	}
	return &api.NodeStatus{}, nil
}

// Nodes returns every node record (expired ones included), sorted by ID.
func Nodes(s consensus.State) ([]*node.Node, error) {
	var out []*node.Node
	err := stateView{s}.nodes(func(n *node.Node) error { out = append(out, n); return nil })
	return out, err
}

// GetRuntime returns runtime id's latest registered descriptor (active or suspended), or nil.
// An update is visible here at once; the scheduler and roothash work from GetEpochRuntime.
func GetRuntime(s consensus.State, id namespace.Namespace) (*api.Runtime, error) {
	return stateView{s}.runtime(id)
}

// GetEpochRuntime returns the descriptor snapshot of runtime id taken at the last epoch
// transition, which the current epoch's elections and rounds use; nil for a runtime registered
// since (it is suspended until the next transition anyway).
func GetEpochRuntime(s consensus.State, id namespace.Namespace) (*api.Runtime, error) {
	return stateView{s}.runtimeIn(tableRuntimeSnapshot, id)
}

// Runtimes returns every registered runtime's latest descriptor, sorted by ID. Applications
// that keep per-runtime state read it in their InitChain (nothing is published at genesis).
func Runtimes(s consensus.State) ([]*api.Runtime, error) {
	var out []*api.Runtime
	err := stateView{s}.runtimes(func(rt *api.Runtime) error { out = append(out, rt); return nil })
	return out, err
}

// MayResumeAt reports whether suspended runtime id takes part in the elections of epoch's
// transition (api.MayResume): it has an active deployment, its owner passes the stake check
// and unexpired nodes are registered for it. False for an active or unknown runtime.
func MayResumeAt(s consensus.State, id namespace.Namespace, epoch beacon.EpochTime) (bool, error) {
	return mayResumeAt(stateView{s}, id, epoch)
}

// IsSuspended reports whether runtime id is in the suspended set (false for an unknown one).
func IsSuspended(s consensus.State, id namespace.Namespace) (bool, error) {
	return stateView{s}.isSuspended(id)
}

// NodeStakeOK reports whether n's entity passes its stake check with n's runtimes' extra
// thresholds (api.NodeRuntimeStake) on top: what an election requires of a candidate.
func NodeStakeOK(s consensus.State, n *node.Node) (bool, error) {
	err := staking.CheckStakeClaims(s, stakingapi.NewAddress(n.EntityID))
	if err == nil {
		v := stateView{s}
		runtimes := make(map[namespace.Namespace]*api.Runtime)
		for _, id := range n.RuntimeIDs() {
			rt, rerr := v.runtime(id)
			if rerr != nil {
				return false, rerr
			}
			runtimes[id] = rt
		}
		err = checkRuntimeStake(s, n, func(id namespace.Namespace) *api.Runtime { return runtimes[id] })
	}
	switch {
	case err == nil:
		return true, nil
	case consensus.IsStateError(err):
		return false, err
	}
	return false, nil
}

// FreezeNode freezes node id until epoch until (exclusive), never shortening a longer freeze,
// and emits api.NodeFrozenEvent. A frozen node is elected nowhere, leaves the validator set at
// the next epoch transition and cannot re-register before until. Roothash calls it after
// slashing (until = current epoch + the slash reason's freeze interval). It fails with
// api.ErrNoSuchNode when the node has no record.
func FreezeNode(ctx *consensus.Context, id signature.PublicKey, until beacon.EpochTime) error {
	return UpdateNodeStatus(ctx, id, func(st *api.NodeStatus) {
		st.FreezeEndTime = max(st.FreezeEndTime, until)
		ctx.EmitEvent(api.NodeFrozenEvent{ID: id, FreezeEndTime: st.FreezeEndTime})
	})
}

// UpdateNodeStatus applies fn to node id's status and stores it (for liveness faults:
// api.NodeStatus.RecordFailure and RecordSuccess). It fails with api.ErrNoSuchNode when the
// node has no record.
func UpdateNodeStatus(ctx *consensus.Context, id signature.PublicKey, fn func(*api.NodeStatus)) error {
	v := stateView{ctx.State()}
	n, err := v.node(id)
	if err != nil {
		return err
	}
	if n == nil {
		return fmt.Errorf("%w: %s", api.ErrNoSuchNode, id)
	}
	st, err := v.nodeStatus(id)
	if err != nil {
		return err
	}
	if st == nil {
		st = &api.NodeStatus{}
	}
	fn(st)
	return v.setNodeStatus(id, st)
}

// FreezeNodeFor freezes node id for interval epochs from the current epoch (FreezeNode with
// until = epoch + interval, saturating): the form a slash's freeze interval comes in.
func FreezeNodeFor(ctx *consensus.Context, id signature.PublicKey, interval beacon.EpochTime) error {
	until := ctx.Epoch() + interval
	if until < interval {
		until = beacon.EpochInvalid
	}
	return FreezeNode(ctx, id, until)
}

// RecordLivenessFault counts a liveness fault of node id in runtime in the current epoch
// (api.NodeStatus.RecordFailure): the node is left out of the runtime's executor elections for
// 2^failures epochs (at most 64).
func RecordLivenessFault(ctx *consensus.Context, id signature.PublicKey, runtime namespace.Namespace) error {
	return UpdateNodeStatus(ctx, id, func(st *api.NodeStatus) { st.RecordFailure(runtime, ctx.Epoch()) })
}
