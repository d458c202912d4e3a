package api

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// ErrMalformedMessage is returned when a runtime message fails its basic checks.
var ErrMalformedMessage = errors.New("roothash: malformed runtime message")

// Message is a message a runtime emits for the consensus layer, executed at finalization from
// the runtime's own account. Exactly one field is set.
//
// ValidateBasic checks only structure. Whether a message can execute (balances, allowances,
// a valid descriptor) is decided when it executes: a failing message is reverted alone and its
// error recorded in the round results, and the block still finalizes.
type Message struct {
	Staking  *StakingMessage  `cbor:"staking,omitempty"`
	Registry *RegistryMessage `cbor:"registry,omitempty"`
}

// ValidateBasic checks that exactly one field is set and that it is sound.
func (m *Message) ValidateBasic() error {
	switch {
	case m.Staking != nil && m.Registry == nil:
		return m.Staking.ValidateBasic()
	case m.Registry != nil && m.Staking == nil:
		return m.Registry.ValidateBasic()
	default:
		return fmt.Errorf("%w: %d of staking, registry set, want exactly 1", ErrMalformedMessage, countSet(m.Staking != nil, m.Registry != nil))
	}
}

// StakingMessage moves the runtime account's funds, with the runtime's account as the caller.
// Exactly one field is set. The bodies are the staking service's own method bodies, executed
// through staking.RuntimeCall.
type StakingMessage struct {
	Transfer      *staking.Transfer      `cbor:"transfer,omitempty"`
	Withdraw      *staking.Withdraw      `cbor:"withdraw,omitempty"`
	AddEscrow     *staking.Escrow        `cbor:"add_escrow,omitempty"`
	ReclaimEscrow *staking.ReclaimEscrow `cbor:"reclaim_escrow,omitempty"`
}

// ValidateBasic checks that exactly one field is set. The bodies' own checks (a zero escrow
// amount...) run when the message executes, so that such a message fails alone.
func (m *StakingMessage) ValidateBasic() error {
	if n := countSet(m.Transfer != nil, m.Withdraw != nil, m.AddEscrow != nil, m.ReclaimEscrow != nil); n != 1 {
		return fmt.Errorf("%w: staking message with %d methods set, want exactly 1", ErrMalformedMessage, n)
	}
	return nil
}

// RegistryMessage governs the runtime's own registration. Exactly one field is set.
type RegistryMessage struct {
	// UpdateRuntime is the runtime's new descriptor in canonical CBOR. The registry decodes
	// and validates it when the message executes, so this package need not know the
	// descriptor type; ValidateBasic checks only that it is one canonical CBOR item.
	UpdateRuntime cbor.RawMessage `cbor:"update_runtime,omitempty"`
}

// ValidateBasic checks that the update carries one canonically encoded CBOR item.
func (m *RegistryMessage) ValidateBasic() error {
	if len(m.UpdateRuntime) == 0 {
		return fmt.Errorf("%w: registry message with no method set", ErrMalformedMessage)
	}
	var item any
	if err := cbor.UnmarshalCanonical(m.UpdateRuntime, &item); err != nil {
		return fmt.Errorf("%w: update_runtime descriptor: %w", ErrMalformedMessage, err)
	}
	return nil
}

// MessagesHash returns the hash committed to in a results header for msgs: H(cbor(msgs)), and
// H("") when there are none.
func MessagesHash(msgs []Message) hash.Hash {
	if len(msgs) == 0 {
		return hash.Empty
	}
	return hash.DigestCBOR(msgs)
}

func countSet(set ...bool) int {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	return n
}
