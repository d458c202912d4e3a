package consensus

import (
	"encoding/base64"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/atoll-project/atoll/common/cbor"
)

// EventAttributeKey is the key of the one attribute of an Atoll ABCI event; its value is the
// base64 (standard, padded) form of the event's CBOR encoding, base64 because ABCI attribute
// values are strings.
const EventAttributeKey = "cbor"

// ABCIEvent encodes ev as an ABCI event: type EventKind(), one attribute holding its CBOR.
func ABCIEvent(ev Event) abci.Event {
	return abci.Event{
		Type: ev.EventKind(),
		Attributes: []abci.EventAttribute{{
			Key:   EventAttributeKey,
			Value: base64.StdEncoding.EncodeToString(cbor.Marshal(ev)),
		}},
	}
}

func abciEvents(evs []Event) []abci.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]abci.Event, len(evs))
	for i, ev := range evs {
		out[i] = ABCIEvent(ev)
	}
	return out
}

// DecodeEvent decodes the CBOR of an Atoll ABCI event into dst, which must be of the event's
// type (dst.EventKind() == ev.Type).
func DecodeEvent(ev abci.Event, dst Event) error {
	if ev.Type != dst.EventKind() {
		return fmt.Errorf("consensus: event of type %q, not %q", ev.Type, dst.EventKind())
	}
	if len(ev.Attributes) != 1 || ev.Attributes[0].Key != EventAttributeKey {
		return fmt.Errorf("consensus: event %q is not an Atoll event", ev.Type)
	}
	raw, err := base64.StdEncoding.DecodeString(ev.Attributes[0].Value)
	if err != nil {
		return fmt.Errorf("consensus: event %q: %w", ev.Type, err)
	}
	if err := cbor.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("consensus: event %q: %w", ev.Type, err)
	}
	return nil
}
