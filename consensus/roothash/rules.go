package roothash

import (
	"fmt"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/consensus/roothash/commitment"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// The pure rules of the application: block construction, the pool's configuration and the
// verification parameters, all from values the caller read from state.

// GenesisBlock returns a runtime's first block: a Normal block at the descriptor's genesis
// round with its genesis state root (the empty root when unset), an empty IO root, no
// messages, and the empty hash as its previous hash.
func GenesisBlock(rt *registryapi.Runtime, timestamp uint64) api.Header {
	state := rt.Genesis.StateRoot
	if state.IsZero() {
		state = hash.Empty
	}
	return api.Header{
		Version:      api.HeaderVersion,
		Namespace:    rt.ID,
		Round:        rt.Genesis.Round,
		Timestamp:    timestamp,
		HeaderType:   api.HeaderTypeNormal,
		PreviousHash: hash.Empty,
		IORoot:       hash.Empty,
		StateRoot:    state,
		MessagesHash: hash.Empty,
	}
}

// NextBlock returns the block of type typ after latest that carries latest's roots forward
// (RoundFailed, EpochTransition, Suspended): round + 1, no storage signatures.
func NextBlock(latest *api.Header, typ api.HeaderType, timestamp uint64) api.Header {
	return api.Header{
		Version:      api.HeaderVersion,
		Namespace:    latest.Namespace,
		Round:        latest.Round + 1,
		Timestamp:    timestamp,
		HeaderType:   typ,
		PreviousHash: latest.Hash(),
		IORoot:       latest.IORoot,
		StateRoot:    latest.StateRoot,
		MessagesHash: hash.Empty,
	}
}

// NormalBlock returns the Normal block that finalizes the round after latest with the
// scheduler's results and storage signatures.
func NormalBlock(latest *api.Header, fin *commitment.FinalizedRound, timestamp uint64) api.Header {
	return api.Header{
		Version:           api.HeaderVersion,
		Namespace:         latest.Namespace,
		Round:             fin.Header.Round,
		Timestamp:         timestamp,
		HeaderType:        api.HeaderTypeNormal,
		PreviousHash:      fin.Header.PreviousHash,
		IORoot:            fin.Header.IORoot,
		StateRoot:         fin.Header.StateRoot,
		MessagesHash:      fin.Header.MessagesHash,
		StorageSignatures: fin.StorageSignatures,
	}
}

// ExecutorCommittee converts the scheduler's executor committee to the pool's view.
func ExecutorCommittee(c *schedulerapi.Committee) commitment.Committee {
	return commitment.Committee{Workers: c.Workers(), Backups: c.Backups()}
}

// PoolConfig returns the configuration of the pool of the round after rs.Latest, or false when
// the runtime takes no commitments (suspended, or no committee).
func PoolConfig(rs *api.RuntimeState) (commitment.PoolConfig, bool) {
	if rs.Suspended || rs.Executor == nil {
		return commitment.PoolConfig{}, false
	}
	ex, ts := &rs.Runtime.Executor, &rs.Runtime.TxnScheduler
	return commitment.PoolConfig{
		Latest:       rs.Latest,
		LatestHeight: rs.LatestHeight,
		Committee:    ExecutorCommittee(rs.Executor),
		Params: commitment.Params{
			GroupBackupSize:     uint64(ex.GroupBackupSize),
			AllowedStragglers:   uint64(ex.AllowedStragglers),
			RoundTimeout:        ex.RoundTimeout,
			ProposeBatchTimeout: ts.ProposeBatchTimeout,
		},
	}, true
}

// NodeLookup returns a node's descriptor, nil when unknown.
type NodeLookup func(id signature.PublicKey) (*node.Node, error)

// VerifyParams returns what the runtime's commitments are verified against: the latest block,
// the committees of the epoch, the snapshot's limits and, for a TEE runtime, the RAK each
// committee member registered for the version active in the snapshot's epoch (a member
// without one is left out and cannot commit results).
func VerifyParams(chain hash.Hash, rs *api.RuntimeState, nodes NodeLookup) (*commitment.VerifyParams, error) {
	cfg, ok := PoolConfig(rs)
	if !ok {
		return nil, fmt.Errorf("%w: %s", api.ErrNoCommittee, rs.Runtime.ID)
	}
	p := &commitment.VerifyParams{
		ChainContext: chain,
		Latest:       &rs.Latest,
		Committee:    &cfg.Committee,
		Limits: commitment.Limits{
			MinWriteReplication: uint64(rs.Runtime.Storage.MinWriteReplication),
			MaxMessages:         uint64(rs.Runtime.Executor.MaxMessages),
		},
	}
	if rs.Storage != nil {
		p.StorageCommittee = rs.Storage.Workers()
	}
	if !rs.Runtime.IsTEE() {
		return p, nil
	}
	p.TEE = &commitment.TEEPolicy{RAKs: make(map[signature.PublicKey]signature.PublicKey)}
	active := rs.Runtime.ActiveDeployment(rs.Epoch)
	if active == nil {
		return p, nil
	}
	for _, m := range rs.Executor.Members {
		n, err := nodes(m.PublicKey)
		if err != nil {
			return nil, err
		}
		if rak, ok := registeredRAK(n, rs.Runtime.ID, active); ok {
			p.TEE.RAKs[m.PublicKey] = rak
		}
	}
	return p, nil
}

// registeredRAK returns the RAK in n's runtime entry for the active deployment (same version
// and bundle checksum), if it has one.
func registeredRAK(n *node.Node, rt namespace.Namespace, active *registryapi.VersionInfo) (signature.PublicKey, bool) {
	if n == nil {
		return signature.PublicKey{}, false
	}
	e := n.GetRuntime(rt, active.Version)
	if e == nil || e.BundleChecksum != active.BundleChecksum || e.Capabilities.TEE == nil {
		return signature.PublicKey{}, false
	}
	return e.Capabilities.TEE.RAK, true
}

// SlashParams returns the runtime's own penalty for reason (its descriptor's
// staking.slashing), or nil when the global one applies.
func SlashParams(rt *registryapi.Runtime, reason stakingapi.SlashReason) *stakingapi.SlashParams {
	if sp, ok := rt.Staking.Slashing[reason]; ok {
		return &sp
	}
	return nil
}

// FreezeInterval returns how long a node slashed for reason in the runtime is frozen: the
// runtime's override when it has one, else the global value staking reported.
func FreezeInterval(rt *registryapi.Runtime, reason stakingapi.SlashReason, global beacon.EpochTime) beacon.EpochTime {
	if sp, ok := rt.Staking.Slashing[reason]; ok {
		return sp.FreezeInterval
	}
	return global
}
