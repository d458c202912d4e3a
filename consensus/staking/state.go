package staking

import (
	"fmt"

	"github.com/atoll-project/atoll/common/keyformat"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/staking/api"
)

// State keys, under consensus.PrefixStaking (addresses are 21 bytes, integers big-endian):
//
//	0x03 0x01                                        → api.ConsensusParameters
//	0x03 0x02                                        → supplyRecord
//	0x03 0x03 | owner                                → api.Account
//	0x03 0x04 | delegator | escrow                   → api.Delegation
//	0x03 0x05 | delegator | escrow | u64 seq         → api.DebondingDelegation
//	0x03 0x06 | u64 end epoch | delegator | escrow | u64 seq → empty: the release queue
//	0x03 0x07 | owner | beneficiary                  → quantity.Quantity: an allowance
var (
	singletonKeyFmt  = keyformat.New(consensus.PrefixStaking, keyformat.Uint8)
	accountKeyFmt    = keyformat.New(consensus.PrefixStaking, keyformat.Uint8, addrPart)
	delegationKeyFmt = keyformat.New(consensus.PrefixStaking, keyformat.Uint8, addrPart, addrPart)
	debondingKeyFmt  = keyformat.New(consensus.PrefixStaking, keyformat.Uint8, addrPart, addrPart, keyformat.Uint64)
	queueKeyFmt      = keyformat.New(consensus.PrefixStaking, keyformat.Uint8, keyformat.Uint64, addrPart, addrPart, keyformat.Uint64)
	allowanceKeyFmt  = keyformat.New(consensus.PrefixStaking, keyformat.Uint8, addrPart, addrPart)
)

var addrPart = keyformat.Fixed(api.AddressSize)

const (
	tableParams     uint8 = 0x01
	tableSupply     uint8 = 0x02
	tableAccount    uint8 = 0x03
	tableDelegation uint8 = 0x04
	tableDebonding  uint8 = 0x05
	tableQueue      uint8 = 0x06
	tableAllowance  uint8 = 0x07
)

// supplyRecord holds the tokens outside accounts and the debonding sequence counter.
type supplyRecord struct {
	TotalSupply quantity.Quantity `cbor:"total_supply"`
	CommonPool  quantity.Quantity `cbor:"common_pool"`
	// BlockFees are the fees charged so far in the current block, paid out in EndBlock.
	BlockFees     quantity.Quantity `cbor:"block_fees"`
	LastBlockFees quantity.Quantity `cbor:"last_block_fees"`
	NextDebonding uint64            `cbor:"next_debonding,omitempty"`
}

// stateView reads and writes the staking tables of one consensus.State.
type stateView struct {
	s consensus.State
}

func (v stateView) get(key []byte, dst any) (bool, error) {
	return consensus.GetRecord(v.s, "staking", key, dst)
}

func (v stateView) put(key []byte, value any) error { return consensus.PutRecord(v.s, key, value) }

func (v stateView) params() (*api.ConsensusParameters, error) {
	var p api.ConsensusParameters
	if err := consensus.RequireRecord(v.s, "staking", "parameters", singletonKeyFmt.Encode(tableParams), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (v stateView) supply() (*supplyRecord, error) {
	var r supplyRecord
	if err := consensus.RequireRecord(v.s, "staking", "supply record", singletonKeyFmt.Encode(tableSupply), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (v stateView) setSupply(r *supplyRecord) error {
	return v.put(singletonKeyFmt.Encode(tableSupply), r)
}

// account returns the account of addr, the zero account when absent.
func (v stateView) account(addr api.Address) (*api.Account, error) {
	var a api.Account
	key := accountKey(addr)
	raw, err := v.s.Get(key[:])
	if err != nil || raw == nil {
		return &a, err
	}
	if err := decodeAccount(raw, &a); err != nil {
		return nil, consensus.StateError(fmt.Errorf("staking: record %x: %w", key[:], err))
	}
	return &a, nil
}

// accountKey returns accountKeyFmt.Encode(tableAccount, addr), built without the key format's
// reflection: every transaction reads and writes accounts.
func accountKey(addr api.Address) [2 + api.AddressSize]byte {
	var key [2 + api.AddressSize]byte
	key[0], key[1] = consensus.PrefixStaking, tableAccount
	copy(key[2:], addr[:])
	return key
}

// setAccount stores a, or removes the record of an empty account.
func (v stateView) setAccount(addr api.Address, a *api.Account) error {
	key := accountKey(addr)
	if a.IsEmpty() {
		return v.s.Remove(key[:])
	}
	return v.s.Insert(key[:], encodeAccount(a))
}

func (v stateView) delegation(delegator, escrow api.Address) (*api.Delegation, error) {
	var d api.Delegation
	if _, err := v.get(delegationKeyFmt.Encode(tableDelegation, delegator, escrow), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (v stateView) setDelegation(delegator, escrow api.Address, d *api.Delegation) error {
	key := delegationKeyFmt.Encode(tableDelegation, delegator, escrow)
	if d.Shares.IsZero() {
		return v.s.Remove(key)
	}
	return v.put(key, d)
}

// addDebonding stores a new debonding delegation and queues its release.
func (v stateView) addDebonding(delegator, escrow api.Address, seq uint64, d *api.DebondingDelegation) error {
	if err := v.put(debondingKeyFmt.Encode(tableDebonding, delegator, escrow, seq), d); err != nil {
		return err
	}
	return v.s.Insert(queueKeyFmt.Encode(tableQueue, uint64(d.DebondEndTime), delegator, escrow, seq), []byte{})
}

// queuedRelease is a debonding delegation due for release.
type queuedRelease struct {
	queueKey  []byte
	delegator api.Address
	escrow    api.Address
	seq       uint64
}

// dueReleases returns the queued debonding delegations whose end epoch is ≤ epoch, in queue
// order.
func (v stateView) dueReleases(epoch beacon.EpochTime) ([]queuedRelease, error) {
	var out []queuedRelease
	start := queueKeyFmt.Prefix(tableQueue)
	end := queueKeyFmt.Prefix(tableQueue, uint64(epoch)+1)
	if uint64(epoch) == ^uint64(0) {
		end = consensus.PrefixEnd(start)
	}
	err := v.s.Iterate(start, end, func(key, _ []byte) (bool, error) {
		var r queuedRelease
		var endEpoch uint64
		var table uint8
		if !queueKeyFmt.Decode(key, &table, &endEpoch, &r.delegator, &r.escrow, &r.seq) {
			return false, consensus.StateErrorf("staking: malformed queue key %x", key)
		}
		r.queueKey = key
		out = append(out, r)
		return true, nil
	})
	return out, err
}

func (v stateView) allowance(owner, beneficiary api.Address) (*quantity.Quantity, error) {
	var q quantity.Quantity
	if _, err := v.get(allowanceKeyFmt.Encode(tableAllowance, owner, beneficiary), &q); err != nil {
		return nil, err
	}
	return &q, nil
}

func (v stateView) setAllowance(owner, beneficiary api.Address, q *quantity.Quantity) error {
	key := allowanceKeyFmt.Encode(tableAllowance, owner, beneficiary)
	if q.IsZero() {
		return v.s.Remove(key)
	}
	return v.put(key, q)
}

func (v stateView) countAllowances(owner api.Address) (int, error) {
	n := 0
	err := consensus.IteratePrefix(v.s, allowanceKeyFmt.Prefix(tableAllowance, owner), func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// accountSet loads each account once, so that two roles of one address (a self-delegation, a
// transfer to oneself) share one record, and stores every account it loaded.
type accountSet struct {
	v     stateView
	m     map[api.Address]*api.Account
	order []api.Address
}

func newAccountSet(v stateView) *accountSet {
	return &accountSet{v: v, m: make(map[api.Address]*api.Account, 2)}
}

func (s *accountSet) get(addr api.Address) (*api.Account, error) {
	if a, ok := s.m[addr]; ok {
		return a, nil
	}
	a, err := s.v.account(addr)
	if err != nil {
		return nil, err
	}
	s.m[addr] = a
	s.order = append(s.order, addr)
	return a, nil
}

func (s *accountSet) save() error {
	for _, addr := range s.order {
		if err := s.v.setAccount(addr, s.m[addr]); err != nil {
			return err
		}
	}
	return nil
}
