package roothash

import (
	"fmt"

	"github.com/atoll-project/atoll/common/keyformat"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/consensus/roothash/commitment"
)

// State keys, under consensus.PrefixRoothash (runtime IDs and keys are 32 bytes, integers
// big-endian):
//
//	0x06 0x01                                  → api.ConsensusParameters
//	0x06 0x02 | runtime                        → api.RuntimeState
//	0x06 0x03 | runtime | u64 round            → api.Header: the latest max_past_roots_stored blocks
//	0x06 0x04 | runtime                        → commitment.Pool (Encode): the current round's pool,
//	                                             present while the runtime has a committee
//	0x06 0x05 | runtime                        → api.RoundResults of the latest Normal block
//	0x06 0x06 | runtime | u64 round | signer   → empty: an equivocation offence already slashed
//	0x06 0x07 | u64 deadline | runtime         → empty: an armed pool timer, for EndBlock
var (
	singletonKeyFmt = keyformat.New(consensus.PrefixRoothash, keyformat.Uint8)
	runtimeKeyFmt   = keyformat.New(consensus.PrefixRoothash, keyformat.Uint8, nsPart)
	blockKeyFmt     = keyformat.New(consensus.PrefixRoothash, keyformat.Uint8, nsPart, keyformat.Uint64)
	offenceKeyFmt   = keyformat.New(consensus.PrefixRoothash, keyformat.Uint8, nsPart, keyformat.Uint64, keyPart)
	timerKeyFmt     = keyformat.New(consensus.PrefixRoothash, keyformat.Uint8, keyformat.Uint64, nsPart)
)

var (
	nsPart  = keyformat.Fixed(namespace.Size)
	keyPart = keyformat.Fixed(signature.PublicKeySize)
)

const (
	tableParams       uint8 = 0x01
	tableRuntime      uint8 = 0x02
	tableBlock        uint8 = 0x03
	tablePool         uint8 = 0x04
	tableRoundResults uint8 = 0x05
	tableOffence      uint8 = 0x06
	tableTimer        uint8 = 0x07
)

// stateView reads and writes the roothash tables of one consensus.State.
type stateView struct {
	s consensus.State
}

func (v stateView) get(key []byte, dst any) (bool, error) {
	return consensus.GetRecord(v.s, "roothash", key, dst)
}

func (v stateView) put(key []byte, value any) error { return consensus.PutRecord(v.s, key, value) }

func (v stateView) params() (*api.ConsensusParameters, error) {
	var p api.ConsensusParameters
	if err := consensus.RequireRecord(v.s, "roothash", "parameters", singletonKeyFmt.Encode(tableParams), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (v stateView) setParams(p *api.ConsensusParameters) error {
	return v.put(singletonKeyFmt.Encode(tableParams), p)
}

// runtime returns the runtime's record, nil when roothash has no blocks for it.
func (v stateView) runtime(id namespace.Namespace) (*api.RuntimeState, error) {
	var rs api.RuntimeState
	found, err := v.get(runtimeKeyFmt.Encode(tableRuntime, id), &rs)
	if err != nil || !found {
		return nil, err
	}
	return &rs, nil
}

// mustRuntime returns the runtime's record or ErrNoSuchRuntime.
func (v stateView) mustRuntime(id namespace.Namespace) (*api.RuntimeState, error) {
	rs, err := v.runtime(id)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		return nil, fmt.Errorf("%w: %s", api.ErrNoSuchRuntime, id)
	}
	return rs, nil
}

// setRuntime stores the record and keeps the timer index in step with rs.NextTimeout, given
// the deadline the stored record had.
func (v stateView) setRuntime(rs *api.RuntimeState, oldDeadline int64) error {
	id := rs.Latest.Namespace
	if oldDeadline != rs.NextTimeout {
		if oldDeadline > 0 {
			if err := v.s.Remove(timerKeyFmt.Encode(tableTimer, uint64(oldDeadline), id)); err != nil {
				return err
			}
		}
		if rs.NextTimeout > 0 {
			if err := v.s.Insert(timerKeyFmt.Encode(tableTimer, uint64(rs.NextTimeout), id), []byte{}); err != nil {
				return err
			}
		}
	}
	return v.put(runtimeKeyFmt.Encode(tableRuntime, id), rs)
}

// dueTimers returns the runtimes whose timers fire at or before height, by deadline, then ID.
func (v stateView) dueTimers(height int64) ([]namespace.Namespace, error) {
	var out []namespace.Namespace
	start := timerKeyFmt.Prefix(tableTimer)
	end := timerKeyFmt.Prefix(tableTimer, uint64(height)+1)
	err := v.s.Iterate(start, end, func(key, _ []byte) (bool, error) {
		var (
			table    uint8
			deadline uint64
			id       namespace.Namespace
		)
		if !timerKeyFmt.Decode(key, &table, &deadline, &id) {
			return false, consensus.StateErrorf("roothash: malformed timer key %x", key)
		}
		out = append(out, id)
		return true, nil
	})
	return out, err
}

// runtimeIDs returns the IDs of every runtime with blocks, in ascending order.
func (v stateView) runtimeIDs() ([]namespace.Namespace, error) {
	var out []namespace.Namespace
	err := consensus.IteratePrefix(v.s, runtimeKeyFmt.Prefix(tableRuntime), func(key, _ []byte) (bool, error) {
		var (
			table uint8
			id    namespace.Namespace
		)
		if !runtimeKeyFmt.Decode(key, &table, &id) {
			return false, consensus.StateErrorf("roothash: malformed runtime key %x", key)
		}
		out = append(out, id)
		return true, nil
	})
	return out, err
}

// block returns the stored block of round, nil when it is not stored.
func (v stateView) block(id namespace.Namespace, round uint64) (*api.Header, error) {
	var h api.Header
	found, err := v.get(blockKeyFmt.Encode(tableBlock, id, round), &h)
	if err != nil || !found {
		return nil, err
	}
	return &h, nil
}

func (v stateView) setBlock(h *api.Header) error {
	return v.put(blockKeyFmt.Encode(tableBlock, h.Namespace, h.Round), h)
}

// pruneBlocks removes the blocks of rounds below keepFrom, the oldest first.
func (v stateView) pruneBlocks(id namespace.Namespace, keepFrom uint64) error {
	return v.removeRange(blockKeyFmt.Prefix(tableBlock, id), blockKeyFmt.Encode(tableBlock, id, keepFrom))
}

// removeRange removes the keys in [start, end), collected first: the store is not changed
// while it is iterated.
func (v stateView) removeRange(start, end []byte) error {
	var keys [][]byte
	if err := v.s.Iterate(start, end, func(key, _ []byte) (bool, error) {
		keys = append(keys, key)
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := v.s.Remove(k); err != nil {
			return err
		}
	}
	return nil
}

// pool returns the runtime's pool, nil when it has none.
func (v stateView) pool(id namespace.Namespace) (*commitment.Pool, error) {
	raw, err := v.s.Get(runtimeKeyFmt.Encode(tablePool, id))
	if err != nil || raw == nil {
		return nil, err
	}
	p, err := commitment.DecodePool(raw)
	if err != nil {
		return nil, consensus.StateError(fmt.Errorf("roothash: pool of %s: %w", id, err))
	}
	return p, nil
}

func (v stateView) setPool(id namespace.Namespace, p *commitment.Pool) error {
	return v.s.Insert(runtimeKeyFmt.Encode(tablePool, id), p.Encode())
}

func (v stateView) removePool(id namespace.Namespace) error {
	return v.s.Remove(runtimeKeyFmt.Encode(tablePool, id))
}

func (v stateView) roundResults(id namespace.Namespace) (*api.RoundResults, error) {
	var r api.RoundResults
	if _, err := v.get(runtimeKeyFmt.Encode(tableRoundResults, id), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (v stateView) setRoundResults(id namespace.Namespace, r *api.RoundResults) error {
	return v.put(runtimeKeyFmt.Encode(tableRoundResults, id), r)
}

func (v stateView) offenceSlashed(off *api.Offence) (bool, error) {
	raw, err := v.s.Get(offenceKeyFmt.Encode(tableOffence, off.RuntimeID, off.Round, off.Signer))
	return raw != nil, err
}

func (v stateView) setOffenceSlashed(off *api.Offence) error {
	return v.s.Insert(offenceKeyFmt.Encode(tableOffence, off.RuntimeID, off.Round, off.Signer), []byte{})
}

// pruneOffences forgets the offences of rounds below keepFrom: evidence for them is too old
// to be accepted anyway.
func (v stateView) pruneOffences(id namespace.Namespace, keepFrom uint64) error {
	return v.removeRange(offenceKeyFmt.Prefix(tableOffence, id), offenceKeyFmt.Prefix(tableOffence, id, keepFrom))
}
