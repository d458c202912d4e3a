package grpcapi

import (
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// rawEvent receives an Atoll ABCI event's CBOR undecoded, through consensus.DecodeEvent.
type rawEvent struct {
	kind string
	body []byte
}

func (e *rawEvent) EventKind() string { return e.kind }

// UnmarshalCBOR keeps the (already validated) CBOR item as it is.
func (e *rawEvent) UnmarshalCBOR(data []byte) error {
	e.body = append([]byte(nil), data...)
	return nil
}

// fromABCI converts Atoll ABCI events; an event that is not an Atoll event is an error (the mux
// emits no other kind).
func fromABCI(evs []abci.Event) ([]Event, error) {
	out := make([]Event, 0, len(evs))
	for _, ev := range evs {
		raw := &rawEvent{kind: ev.Type}
		if err := consensus.DecodeEvent(ev, raw); err != nil {
			return nil, err
		}
		out = append(out, Event{Kind: ev.Type, Body: raw.body})
	}
	return out, nil
}

// Decode decodes the event's body into dst, which must be of the event's kind.
func (e *Event) Decode(dst consensus.Event) error {
	if dst.EventKind() != e.Kind {
		return fmt.Errorf("grpcapi: event of kind %q, not %q", e.Kind, dst.EventKind())
	}
	if err := cbor.Unmarshal(e.Body, dst); err != nil {
		return fmt.Errorf("grpcapi: event %q: %w", e.Kind, err)
	}
	return nil
}

// knownEvents returns a fresh value of every event kind this build knows.
func knownEvents() []consensus.Event {
	return []consensus.Event{
		&beacon.EpochChangedEvent{},
		&staking.TransferEvent{},
		&staking.AddEscrowEvent{},
		&staking.DebondingStartEvent{},
		&staking.ReclaimEscrowEvent{},
		&staking.TakeEscrowEvent{},
		&staking.AllowanceChangeEvent{},
		&staking.FeesPaidEvent{},
	}
}

// DecodeKnown decodes the event into the typed value of its kind when this build knows the
// kind (a pointer to beacon.EpochChangedEvent, staking.TransferEvent, ...); ok is false for an
// unknown kind.
func (e *Event) DecodeKnown() (v consensus.Event, ok bool, err error) {
	for _, k := range knownEvents() {
		if k.EventKind() == e.Kind {
			if err := e.Decode(k); err != nil {
				return nil, true, err
			}
			return k, true, nil
		}
	}
	return nil, false, nil
}
