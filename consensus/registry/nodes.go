package registry

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// registerNode registers or renews the node descriptor signed in s (DESIGN.md §3 Registry,
// Prepaid maintenance, Suspension). The transaction is signed by the node or its entity (who
// pays the fee and the prepaid maintenance, as gas). In order: the descriptor opens; a frozen
// node is refused (even one whose record is gone); a genesis validator's consensus key is
// taken only by that validator's entity; api.VerifyNodeRegistration; the maintenance gas; the
// stake claim (with the node's runtimes' extra thresholds). Then the record is stored and every
// suspended runtime the registration pays for resumes if its owner has stake.
func registerNode(ctx *consensus.Context, p *api.ConsensusParameters, s *signature.Signed) error {
	bctx := node.RegisterSignatureContext.ForChain(ctx.ChainContext())
	if err := s.Verify(bctx); err != nil {
		return fmt.Errorf("%w: node descriptor: %w", api.ErrInvalidSignature, err)
	}
	n, err := node.OpenSigned(s, bctx)
	if err != nil {
		if errors.Is(err, node.ErrWrongSigner) {
			return fmt.Errorf("%w: %w", api.ErrInvalidSignature, err)
		}
		return fmt.Errorf("%w: %w", api.ErrInvalidArgument, err)
	}
	if signer := ctx.Caller().Signer; signer == nil || (*signer != n.ID && *signer != n.EntityID) {
		return fmt.Errorf("%w: node %s must be registered by itself or its entity %s", api.ErrForbidden, n.ID, n.EntityID)
	}
	v := stateView{ctx.State()}
	epoch := ctx.Epoch()
	reg, err := nodeRegistration(ctx, v, p, n, s.Signature.PublicKey)
	if err != nil {
		return err
	}
	if err := api.VerifyNodeRegistration(reg.NodeRegistration); err != nil {
		return err
	}
	var prevNode *node.Node
	if reg.Previous != nil {
		prevNode = reg.Previous.Node
	}
	fee, err := api.MaintenanceFee(p, n, epoch, prevNode)
	if err != nil {
		return err
	}
	if err := ctx.Gas().UseGas(fee); err != nil {
		if errors.Is(err, transaction.ErrOutOfGas) {
			return fmt.Errorf("%w: node %s owes %d gas of prepaid maintenance (%d per runtime-epoch, %d runtimes, epochs up to %d): %w",
				api.ErrMaintenanceNotPaid, n.ID, fee, p.EpochMaintenanceGas, len(n.RuntimeIDs()), n.Expiration, err)
		}
		return err
	}
	if err := claimNodeStake(ctx, n, reg.Runtime); err != nil {
		return err
	}
	if err := storeNode(v, n, prevNode, reg.status); err != nil {
		return err
	}
	var prevExpiration beacon.EpochTime
	if prevNode != nil {
		prevExpiration = beacon.EpochTime(prevNode.Expiration)
	}
	if api.MaintenanceEpochs(epoch, prevExpiration, beacon.EpochTime(n.Expiration)) > 0 {
		if err := resumePaidRuntimes(ctx, n); err != nil {
			return err
		}
	}
	ctx.EmitEvent(api.NodeRegisteredEvent{Node: *n, MaintenanceGas: uint64(fee)})
	return nil
}

// pendingRegistration is a node registration with the state its checks read.
type pendingRegistration struct {
	*api.NodeRegistration
	status *api.NodeStatus
}

// nodeRegistration reads what api.VerifyNodeRegistration checks n against, after the checks
// the pure rules cannot make (a freeze outliving the record, genesis validator keys).
func nodeRegistration(ctx *consensus.Context, v stateView, p *api.ConsensusParameters, n *node.Node, signer signature.PublicKey) (*pendingRegistration, error) {
	epoch := ctx.Epoch()
	status, err := v.nodeStatus(n.ID)
	if err != nil {
		return nil, err
	}
	if status != nil && status.IsFrozen(epoch) {
		return nil, fmt.Errorf("%w: node %s is frozen until epoch %d (now %d)", api.ErrNodeFrozen, n.ID, status.FreezeEndTime, epoch)
	}
	static, _, err := v.staticValidators()
	if err != nil {
		return nil, err
	}
	if sv, ok := static[n.Consensus.ID]; ok && sv.EntityID != n.EntityID {
		return nil, fmt.Errorf("%w: consensus key %s is a genesis validator's of entity %s", api.ErrKeyInUse, n.Consensus.ID, sv.EntityID)
	}
	entity, err := v.entity(n.EntityID)
	if err != nil {
		return nil, err
	}
	prev, err := v.node(n.ID)
	if err != nil {
		return nil, err
	}
	runtimes := make(map[namespace.Namespace]*api.Runtime)
	for _, id := range n.RuntimeIDs() {
		rt, err := v.runtime(id)
		if err != nil {
			return nil, err
		}
		if rt != nil {
			runtimes[id] = rt
		}
	}
	owners := make(map[signature.PublicKey]signature.PublicKey)
	for _, k := range n.Keys() {
		owner, ok, err := v.keyOwner(k)
		if err != nil {
			return nil, err
		}
		if ok {
			owners[k] = owner
		}
	}
	siblings, err := liveSiblings(v, n, epoch)
	if err != nil {
		return nil, err
	}
	reg := &api.NodeRegistration{
		Params: p, Epoch: epoch, Node: n, Signer: signer, Entity: entity,
		Runtime: func(id namespace.Namespace) *api.Runtime { return runtimes[id] },
		KeyOwner: func(k signature.PublicKey) (signature.PublicKey, bool) {
			owner, ok := owners[k]
			return owner, ok
		},
		NodesWithRole: func(entity signature.PublicKey, rt namespace.Namespace, role node.RolesMask) int {
			count := 0
			for _, o := range siblings {
				if o.EntityID == entity && o.HasRole(role) && o.HasRuntime(rt) {
					count++
				}
			}
			return count
		},
		TEE: teeVerifier{chain: ctx.ChainContext(), allowMock: p.DebugAllowMockTEE, logger: ctx.Logger()},
	}
	if prev != nil {
		reg.Previous = &api.NodeRecord{Node: prev, Status: status}
	}
	return &pendingRegistration{NodeRegistration: reg, status: status}, nil
}

// liveSiblings returns the unexpired node records of n's entity other than n.
func liveSiblings(v stateView, n *node.Node, epoch beacon.EpochTime) ([]*node.Node, error) {
	ids, err := v.entityNodes(n.EntityID)
	if err != nil {
		return nil, err
	}
	var out []*node.Node
	for _, id := range ids {
		if id == n.ID {
			continue
		}
		o, err := v.node(id)
		if err != nil {
			return nil, err
		}
		if o == nil {
			return nil, consensus.StateErrorf("registry: entity index names node %s without a record", id)
		}
		if !o.IsExpired(uint64(epoch)) {
			out = append(out, o)
		}
	}
	return out, nil
}

// claimNodeStake sets the node's stake claim on its entity's account (the global thresholds
// of its roles) and checks that the escrow also covers the largest extra threshold of the
// node's runtimes (api.NodeRuntimeStake). Staking records claims by threshold kind only, so
// the runtime extra is checked here and again at every election (NodeStakeOK).
func claimNodeStake(ctx *consensus.Context, n *node.Node, runtime func(namespace.Namespace) *api.Runtime) error {
	addr := stakingapi.NewAddress(n.EntityID)
	if err := staking.AddStakeClaim(ctx, addr, api.NodeStakeClaim(n.ID), api.NodeThresholdKinds(n)); err != nil {
		return err
	}
	return checkRuntimeStake(ctx.State(), n, runtime)
}

// checkRuntimeStake returns nil when the escrow of n's entity covers its claims plus n's
// runtime extra, and a wrapped stakingapi.ErrInsufficientStake otherwise.
func checkRuntimeStake(s consensus.State, n *node.Node, runtime func(namespace.Namespace) *api.Runtime) error {
	extra, err := api.NodeRuntimeStake(n, runtime)
	if err != nil {
		return err
	}
	if extra.IsZero() {
		return nil
	}
	sp, err := staking.Params(s)
	if err != nil {
		return err
	}
	acct, err := staking.GetAccount(s, stakingapi.NewAddress(n.EntityID))
	if err != nil {
		return err
	}
	need, err := acct.Escrow.ClaimedStake(&sp.Thresholds)
	if err != nil {
		return fmt.Errorf("%w: %v", stakingapi.ErrInsufficientStake, err)
	}
	if err := need.Add(extra); err != nil {
		return fmt.Errorf("%w: %v", stakingapi.ErrInsufficientStake, err)
	}
	if acct.Escrow.Active.Balance.Cmp(need) < 0 {
		return fmt.Errorf("%w: entity %s has escrow %s; its claims and node %s's runtime thresholds need %s",
			stakingapi.ErrInsufficientStake, n.EntityID, &acct.Escrow.Active.Balance, n.ID, need)
	}
	return nil
}

// storeNode stores n's record and status (its expiration not yet handled) and hands a
// genesis validator with n's consensus key over to n.
func storeNode(v stateView, n, prev *node.Node, status *api.NodeStatus) error {
	if err := v.setNode(n, prev); err != nil {
		return err
	}
	if status == nil {
		status = &api.NodeStatus{}
	}
	status.ExpirationProcessed = false
	if err := v.setNodeStatus(n.ID, status); err != nil {
		return err
	}
	return v.s.Remove(idKey(tableStaticValidator, n.Consensus.ID))
}

// expireNodes handles, at the transition to epoch, the nodes whose registration no longer
// holds: the first time, their stake claim is released (they leave the validator set at this
// transition's EndBlock); once they have been expired for the debonding interval, their record
// is removed (their status is kept while they are frozen, so a freeze outlives the record).
// Statuses without a record whose freeze has ended are dropped.
func expireNodes(ctx *consensus.Context, epoch beacon.EpochTime) error {
	v := stateView{ctx.State()}
	sp, err := staking.Params(ctx.State())
	if err != nil {
		return err
	}
	var expired []*node.Node
	err = v.nodes(func(n *node.Node) error {
		if n.IsExpired(uint64(epoch)) {
			expired = append(expired, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range expired {
		if err := expireNode(ctx, v, n, epoch, sp.DebondingInterval); err != nil {
			return err
		}
	}
	return pruneStatuses(v, epoch)
}

func expireNode(ctx *consensus.Context, v stateView, n *node.Node, epoch, debonding beacon.EpochTime) error {
	st, err := v.nodeStatus(n.ID)
	if err != nil {
		return err
	}
	if st == nil {
		st = &api.NodeStatus{}
	}
	if !st.ExpirationProcessed {
		if err := staking.RemoveStakeClaim(ctx, stakingapi.NewAddress(n.EntityID), api.NodeStakeClaim(n.ID)); err != nil {
			return err
		}
		st.ExpirationProcessed = true
		if err := v.setNodeStatus(n.ID, st); err != nil {
			return err
		}
		ctx.EmitEvent(api.NodeExpiredEvent{ID: n.ID, EntityID: n.EntityID, Epoch: epoch})
	}
	if uint64(epoch)-n.Expiration <= uint64(debonding) {
		return nil
	}
	if err := v.removeNode(n); err != nil {
		return err
	}
	if !st.IsFrozen(epoch) {
		if err := v.s.Remove(idKey(tableNodeStatus, n.ID)); err != nil {
			return err
		}
	}
	ctx.EmitEvent(api.NodeRemovedEvent{ID: n.ID})
	return nil
}

// pruneStatuses removes the statuses of nodes without a record whose freeze has ended.
func pruneStatuses(v stateView, epoch beacon.EpochTime) error {
	var stale [][]byte
	err := consensus.IteratePrefix(v.s, idKeyFmt.Prefix(tableNodeStatus), func(key, value []byte) (bool, error) {
		var table uint8
		var id signature.PublicKey
		if !idKeyFmt.Decode(key, &table, &id) {
			return false, consensus.StateErrorf("registry: malformed status key %x", key)
		}
		has, err := v.has(idKey(tableNode, id))
		if err != nil || has {
			return err == nil, err
		}
		st, err := v.nodeStatus(id)
		if err != nil {
			return false, err
		}
		if !st.IsFrozen(epoch) {
			stale = append(stale, key)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, key := range stale {
		if err := v.s.Remove(key); err != nil {
			return err
		}
	}
	return nil
}
