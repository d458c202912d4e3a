package api

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// EntityRegisteredEvent: an entity was registered or updated.
type EntityRegisteredEvent struct {
	Entity Entity `cbor:"entity"`
}

// EventKind implements consensus.Event.
func (EntityRegisteredEvent) EventKind() string { return "registry.EntityRegistered" }

// EntityDeregisteredEvent: an entity was deregistered.
type EntityDeregisteredEvent struct {
	ID signature.PublicKey `cbor:"id"`
}

// EventKind implements consensus.Event.
func (EntityDeregisteredEvent) EventKind() string { return "registry.EntityDeregistered" }

// NodeRegisteredEvent: a node was registered or renewed; MaintenanceGas is what it paid.
type NodeRegisteredEvent struct {
	Node           node.Node `cbor:"node"`
	MaintenanceGas uint64    `cbor:"maintenance_gas"`
}

// EventKind implements consensus.Event.
func (NodeRegisteredEvent) EventKind() string { return "registry.NodeRegistered" }

// NodeExpiredEvent: a node's registration expired at Epoch (its record is kept, and stays
// slashable, for the debonding interval).
type NodeExpiredEvent struct {
	ID       signature.PublicKey `cbor:"id"`
	EntityID signature.PublicKey `cbor:"entity_id"`
	Epoch    beacon.EpochTime    `cbor:"epoch"`
}

// EventKind implements consensus.Event.
func (NodeExpiredEvent) EventKind() string { return "registry.NodeExpired" }

// NodeRemovedEvent: an expired node's record was removed after the debonding interval.
type NodeRemovedEvent struct {
	ID signature.PublicKey `cbor:"id"`
}

// EventKind implements consensus.Event.
func (NodeRemovedEvent) EventKind() string { return "registry.NodeRemoved" }

// NodeFrozenEvent: a node was frozen until FreezeEndTime.
type NodeFrozenEvent struct {
	ID            signature.PublicKey `cbor:"id"`
	FreezeEndTime beacon.EpochTime    `cbor:"freeze_end_time"`
}

// EventKind implements consensus.Event.
func (NodeFrozenEvent) EventKind() string { return "registry.NodeFrozen" }

// RuntimeRegisteredEvent: a runtime was registered or its descriptor updated; the update
// takes effect at the next epoch transition.
type RuntimeRegisteredEvent struct {
	Runtime Runtime `cbor:"runtime"`
}

// EventKind implements consensus.Event.
func (RuntimeRegisteredEvent) EventKind() string { return "registry.RuntimeRegistered" }

// RuntimeSuspendedEvent: a runtime moved to the suspended set.
type RuntimeSuspendedEvent struct {
	ID namespace.Namespace `cbor:"id"`
}

// EventKind implements consensus.Event.
func (RuntimeSuspendedEvent) EventKind() string { return "registry.RuntimeSuspended" }

// RuntimeResumedEvent: a suspended runtime moved back to the active set.
type RuntimeResumedEvent struct {
	ID namespace.Namespace `cbor:"id"`
}

// EventKind implements consensus.Event.
func (RuntimeResumedEvent) EventKind() string { return "registry.RuntimeResumed" }
