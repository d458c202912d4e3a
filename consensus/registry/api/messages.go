package api

import (
	"github.com/atoll-project/atoll/common/namespace"
)

// In-process messages the registry application publishes to, or handles from, the other
// consensus applications (DESIGN.md §3). Publishing happens in the Context of the operation
// that caused it (a transaction, an epoch transition), so a handler's writes are reverted with
// that operation. None is published at genesis: other applications read the registry's state
// in their own InitChain (consensus/registry.Runtimes).

// Message kinds.
const (
	MessageKindRuntimeRegistered = "registry.RuntimeRegistered"
	MessageKindRuntimeUpdated    = "registry.RuntimeUpdated"
	MessageKindRuntimeSuspended  = "registry.RuntimeSuspended"
	MessageKindRuntimeResumed    = "registry.RuntimeResumed"
	MessageKindUpdateRuntime     = "registry.UpdateRuntime"
)

// RuntimeRegistered is published when a transaction registers a new runtime. The runtime
// starts suspended; it is elected only after it resumes (RuntimeResumed) and at an epoch
// transition where it has an active deployment.
type RuntimeRegistered struct {
	Runtime *Runtime
}

// MessageKind implements consensus.Message.
func (RuntimeRegistered) MessageKind() string { return MessageKindRuntimeRegistered }

// RuntimeUpdated is published when a runtime's descriptor is updated (by its entity's
// transaction or its own update_runtime message). The new descriptor takes effect at the next
// epoch transition, when the registry takes the per-epoch snapshot.
type RuntimeUpdated struct {
	Runtime *Runtime
}

// MessageKind implements consensus.Message.
func (RuntimeUpdated) MessageKind() string { return MessageKindRuntimeUpdated }

// RuntimeSuspended is published when a runtime moves to the suspended set: at an epoch
// transition, while the registry handles the scheduler's election result for the runtime and
// before the applications after it (roothash) see that result.
type RuntimeSuspended struct {
	RuntimeID namespace.Namespace
}

// MessageKind implements consensus.Message.
func (RuntimeSuspended) MessageKind() string { return MessageKindRuntimeSuspended }

// RuntimeResumed is published when a suspended runtime moves back to the active set: in a
// node registration that pays for it, or in the registry's BeginBlock of an epoch transition
// (before the scheduler's elections of that transition, which then include it).
type RuntimeResumed struct {
	RuntimeID namespace.Namespace
}

// MessageKind implements consensus.Message.
func (RuntimeResumed) MessageKind() string { return MessageKindRuntimeResumed }

// UpdateRuntimeMessage is how roothash delivers a runtime's update_runtime message: Caller is
// the runtime that emitted it, Descriptor the new descriptor's canonical CBOR (untrusted). The
// registry answers nil or a coded error (the update is then not applied); the sender runs each
// message in a nested Context so that a failing one is reverted alone. Only a runtime-governed
// runtime may update itself this way (AuthorizeRuntimeMessage).
type UpdateRuntimeMessage struct {
	Caller     namespace.Namespace
	Descriptor []byte
}

// MessageKind implements consensus.Message.
func (UpdateRuntimeMessage) MessageKind() string { return MessageKindUpdateRuntime }
