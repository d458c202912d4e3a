package scheduler

import (
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/keyformat"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/scheduler/api"
)

// State keys, under consensus.PrefixScheduler (runtime IDs are 32 bytes):
//
//	0x05 0x01                         → api.ConsensusParameters
//	0x05 0x02 | runtime id | u8 kind  → api.Committee: the runtime's current committee of
//	                                    that kind (absent when it has none)
//	0x05 0x03 | runtime id            → api.ElectionResult: the runtime's latest election
//	0x05 0x04                         → pendingElection: elections due in this block's
//	                                    BeginBlock (set by the beacon's EpochChanged)
var (
	singletonKeyFmt = keyformat.New(consensus.PrefixScheduler, keyformat.Uint8)
	committeeKeyFmt = keyformat.New(consensus.PrefixScheduler, keyformat.Uint8, keyformat.Hash, keyformat.Uint8)
	electionKeyFmt  = keyformat.New(consensus.PrefixScheduler, keyformat.Uint8, keyformat.Hash)
)

const (
	tableParams    uint8 = 0x01
	tableCommittee uint8 = 0x02
	tableElection  uint8 = 0x03
	tablePending   uint8 = 0x04
)

// pendingElection is an epoch transition whose elections have not run yet.
type pendingElection struct {
	Epoch   beacon.EpochTime `cbor:"epoch"`
	Entropy hash.Hash        `cbor:"entropy"`
}

type stateView struct {
	s consensus.State
}

func (v stateView) get(key []byte, dst any) (bool, error) {
	return consensus.GetRecord(v.s, "scheduler", key, dst)
}

func (v stateView) put(key []byte, value any) error { return consensus.PutRecord(v.s, key, value) }

func committeeKey(id namespace.Namespace, kind api.CommitteeKind) []byte {
	return committeeKeyFmt.Encode(tableCommittee, id, uint8(kind))
}

func (v stateView) committee(id namespace.Namespace, kind api.CommitteeKind) (*api.Committee, error) {
	var c api.Committee
	found, err := v.get(committeeKey(id, kind), &c)
	if err != nil || !found {
		return nil, err
	}
	return &c, nil
}

// setCommittees stores the runtime's executor and storage committees, or removes them when
// the result has none.
func (v stateView) setCommittees(id namespace.Namespace, executor, storage *api.Committee) error {
	for _, kc := range []struct {
		kind api.CommitteeKind
		c    *api.Committee
	}{{api.KindExecutor, executor}, {api.KindStorage, storage}} {
		var err error
		if kc.c == nil {
			err = v.s.Remove(committeeKey(id, kc.kind))
		} else {
			err = v.put(committeeKey(id, kc.kind), kc.c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (v stateView) election(id namespace.Namespace) (*api.ElectionResult, error) {
	var r api.ElectionResult
	found, err := v.get(electionKeyFmt.Encode(tableElection, id), &r)
	if err != nil || !found {
		return nil, err
	}
	return &r, nil
}

func (v stateView) pending() (*pendingElection, error) {
	var p pendingElection
	found, err := v.get(singletonKeyFmt.Encode(tablePending), &p)
	if err != nil || !found {
		return nil, err
	}
	return &p, nil
}

func (v stateView) setPending(p *pendingElection) error {
	if p == nil {
		return v.s.Remove(singletonKeyFmt.Encode(tablePending))
	}
	return v.put(singletonKeyFmt.Encode(tablePending), p)
}
