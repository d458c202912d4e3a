package registry

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/keyformat"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/registry/api"
)

// State keys, under consensus.PrefixRegistry (keys and IDs are 32 bytes):
//
//	0x04 0x01                       → api.ConsensusParameters
//	0x04 0x02 | entity id           → api.Entity
//	0x04 0x03 | node id             → node.Node: the node's record (kept after expiration for
//	                                  the debonding interval, so it stays slashable)
//	0x04 0x04 | node id             → api.NodeStatus (kept without a record while frozen)
//	0x04 0x05 | key                 → node id: the node whose record uses key as its node,
//	                                  consensus or TLS key
//	0x04 0x06 | entity id | node id → empty: the entity's node records
//	0x04 0x07 | runtime id          → api.Runtime: the latest registered descriptor
//	0x04 0x08 | runtime id          → empty: the runtime is in the suspended set
//	0x04 0x09 | runtime id          → api.AnnouncedVersions
//	0x04 0x0a | runtime id          → api.Runtime: the snapshot taken at the last epoch
//	                                  transition, which the scheduler and roothash work from
//	0x04 0x0b                       → transitionRecord: an epoch transition whose resumptions
//	                                  (BeginBlock) or validator updates (EndBlock) are pending
//	0x04 0x0c | consensus key       → staticValidator: a genesis validator not (yet) handed
//	                                  over to a registered node
var (
	singletonKeyFmt = keyformat.New(consensus.PrefixRegistry, keyformat.Uint8)
	idKeyFmt        = keyformat.New(consensus.PrefixRegistry, keyformat.Uint8, keyformat.Hash)
	pairKeyFmt      = keyformat.New(consensus.PrefixRegistry, keyformat.Uint8, keyformat.Hash, keyformat.Hash)
)

const (
	tableParams          uint8 = 0x01
	tableEntity          uint8 = 0x02
	tableNode            uint8 = 0x03
	tableNodeStatus      uint8 = 0x04
	tableKeyOwner        uint8 = 0x05
	tableEntityNode      uint8 = 0x06
	tableRuntime         uint8 = 0x07
	tableSuspended       uint8 = 0x08
	tableAnnounced       uint8 = 0x09
	tableRuntimeSnapshot uint8 = 0x0a
	tableTransition      uint8 = 0x0b
	tableStaticValidator uint8 = 0x0c
)

// transitionRecord is an epoch transition the registry still has work for in this block.
type transitionRecord struct {
	Epoch beacon.EpochTime `cbor:"epoch"`
}

// staticValidator is a genesis validator that no registered node has taken over: it keeps its
// genesis power.
type staticValidator struct {
	EntityID signature.PublicKey `cbor:"entity_id"`
	Power    int64               `cbor:"power"`
}

// stateView reads and writes the registry tables of one consensus.State.
type stateView struct {
	s consensus.State
}

func (v stateView) get(key []byte, dst any) (bool, error) {
	return consensus.GetRecord(v.s, "registry", key, dst)
}

func (v stateView) put(key []byte, value any) error { return consensus.PutRecord(v.s, key, value) }

func (v stateView) has(key []byte) (bool, error) {
	raw, err := v.s.Get(key)
	return raw != nil, err
}

func idKey(table uint8, id [32]byte) []byte { return idKeyFmt.Encode(table, id) }

func (v stateView) params() (*api.ConsensusParameters, error) {
	var p api.ConsensusParameters
	if err := consensus.RequireRecord(v.s, "registry", "parameters", singletonKeyFmt.Encode(tableParams), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (v stateView) entity(id signature.PublicKey) (*api.Entity, error) {
	var e api.Entity
	found, err := v.get(idKey(tableEntity, id), &e)
	if err != nil || !found {
		return nil, err
	}
	return &e, nil
}

func (v stateView) node(id signature.PublicKey) (*node.Node, error) {
	var n node.Node
	found, err := v.get(idKey(tableNode, id), &n)
	if err != nil || !found {
		return nil, err
	}
	return &n, nil
}

// nodeStatus returns the status of node id, nil when none is stored.
func (v stateView) nodeStatus(id signature.PublicKey) (*api.NodeStatus, error) {
	var st api.NodeStatus
	found, err := v.get(idKey(tableNodeStatus, id), &st)
	if err != nil || !found {
		return nil, err
	}
	return &st, nil
}

func (v stateView) setNodeStatus(id signature.PublicKey, st *api.NodeStatus) error {
	return v.put(idKey(tableNodeStatus, id), st)
}

func (v stateView) keyOwner(key signature.PublicKey) (signature.PublicKey, bool, error) {
	raw, err := v.s.Get(idKey(tableKeyOwner, key))
	if err != nil || raw == nil {
		return signature.PublicKey{}, false, err
	}
	var owner signature.PublicKey
	if err := cbor.UnmarshalTrusted(raw, &owner); err != nil {
		return signature.PublicKey{}, false, consensus.StateError(fmt.Errorf("registry: key owner of %s: %w", key, err))
	}
	return owner, true, nil
}

// setNode stores n's record and its key and entity indexes, dropping the index entries of
// previous (n's earlier record, or nil) that n no longer uses.
func (v stateView) setNode(n, previous *node.Node) error {
	if previous != nil {
		keep := n.Keys()
		for _, k := range previous.Keys() {
			if k != keep[0] && k != keep[1] && k != keep[2] {
				if err := v.s.Remove(idKey(tableKeyOwner, k)); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range n.Keys() {
		if err := v.put(idKey(tableKeyOwner, k), n.ID); err != nil {
			return err
		}
	}
	if err := v.s.Insert(pairKeyFmt.Encode(tableEntityNode, n.EntityID, n.ID), []byte{}); err != nil {
		return err
	}
	return v.put(idKey(tableNode, n.ID), n)
}

// removeNode removes n's record and indexes (not its status).
func (v stateView) removeNode(n *node.Node) error {
	for _, k := range n.Keys() {
		if err := v.s.Remove(idKey(tableKeyOwner, k)); err != nil {
			return err
		}
	}
	if err := v.s.Remove(pairKeyFmt.Encode(tableEntityNode, n.EntityID, n.ID)); err != nil {
		return err
	}
	return v.s.Remove(idKey(tableNode, n.ID))
}

// nodes calls fn on every node record in ID order.
func (v stateView) nodes(fn func(*node.Node) error) error {
	return consensus.IteratePrefix(v.s, idKeyFmt.Prefix(tableNode), func(key, value []byte) (bool, error) {
		var n node.Node
		if err := cbor.UnmarshalTrusted(value, &n); err != nil {
			return false, consensus.StateError(fmt.Errorf("registry: node record %x: %w", key, err))
		}
		return true, fn(&n)
	})
}

// entityNodes returns the IDs of entity's node records in ID order.
func (v stateView) entityNodes(entity signature.PublicKey) ([]signature.PublicKey, error) {
	var out []signature.PublicKey
	err := consensus.IteratePrefix(v.s, pairKeyFmt.Prefix(tableEntityNode, entity), func(key, _ []byte) (bool, error) {
		var table uint8
		var e, id signature.PublicKey
		if !pairKeyFmt.Decode(key, &table, &e, &id) {
			return false, consensus.StateErrorf("registry: malformed entity node key %x", key)
		}
		out = append(out, id)
		return true, nil
	})
	return out, err
}

func (v stateView) runtimeIn(table uint8, id namespace.Namespace) (*api.Runtime, error) {
	var rt api.Runtime
	found, err := v.get(idKey(table, id), &rt)
	if err != nil || !found {
		return nil, err
	}
	return &rt, nil
}

func (v stateView) runtime(id namespace.Namespace) (*api.Runtime, error) {
	return v.runtimeIn(tableRuntime, id)
}

// runtimes calls fn on every registered runtime in ID order.
func (v stateView) runtimes(fn func(*api.Runtime) error) error {
	return consensus.IteratePrefix(v.s, idKeyFmt.Prefix(tableRuntime), func(key, value []byte) (bool, error) {
		var rt api.Runtime
		if err := cbor.UnmarshalTrusted(value, &rt); err != nil {
			return false, consensus.StateError(fmt.Errorf("registry: runtime record %x: %w", key, err))
		}
		return true, fn(&rt)
	})
}

func (v stateView) isSuspended(id namespace.Namespace) (bool, error) {
	return v.has(idKey(tableSuspended, id))
}

func (v stateView) setSuspended(id namespace.Namespace, suspended bool) error {
	if suspended {
		return v.s.Insert(idKey(tableSuspended, id), []byte{})
	}
	return v.s.Remove(idKey(tableSuspended, id))
}

func (v stateView) announced(id namespace.Namespace) (api.AnnouncedVersions, error) {
	var a api.AnnouncedVersions
	_, err := v.get(idKey(tableAnnounced, id), &a)
	return a, err
}

// setRuntime stores rt as the runtime's latest descriptor and records its versions as
// announced.
func (v stateView) setRuntime(rt *api.Runtime) error {
	announced, err := v.announced(rt.ID)
	if err != nil {
		return err
	}
	if err := v.put(idKey(tableAnnounced, rt.ID), announced.With(rt)); err != nil {
		return err
	}
	return v.put(idKey(tableRuntime, rt.ID), rt)
}

func (v stateView) transition() (*transitionRecord, error) {
	var t transitionRecord
	found, err := v.get(singletonKeyFmt.Encode(tableTransition), &t)
	if err != nil || !found {
		return nil, err
	}
	return &t, nil
}

func (v stateView) setTransition(t *transitionRecord) error {
	if t == nil {
		return v.s.Remove(singletonKeyFmt.Encode(tableTransition))
	}
	return v.put(singletonKeyFmt.Encode(tableTransition), t)
}

// staticValidators returns the genesis validators not handed over, by consensus key order.
func (v stateView) staticValidators() (map[signature.PublicKey]staticValidator, []signature.PublicKey, error) {
	m := make(map[signature.PublicKey]staticValidator)
	var order []signature.PublicKey
	err := consensus.IteratePrefix(v.s, idKeyFmt.Prefix(tableStaticValidator), func(key, value []byte) (bool, error) {
		var table uint8
		var k signature.PublicKey
		if !idKeyFmt.Decode(key, &table, &k) {
			return false, consensus.StateErrorf("registry: malformed validator key %x", key)
		}
		var sv staticValidator
		if err := cbor.UnmarshalTrusted(value, &sv); err != nil {
			return false, consensus.StateError(err)
		}
		m[k] = sv
		order = append(order, k)
		return true, nil
	})
	return m, order, err
}
