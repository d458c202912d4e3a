// Package api defines the registry service's types and its pure rules (DESIGN.md §3 Registry,
// Suspension, Prepaid maintenance; §4): entities, node registration checks, the runtime
// descriptor with its ADR 0013 deployments, consensus parameters, method and query names,
// coded errors, events and the genesis section.
//
// The rules are pure functions of their arguments; the application (consensus/registry) reads
// state, calls them, and writes the outcome:
//
//   - ValidateRuntime: the stateless rules of a descriptor (every parameter bound, deployment
//     order, TEE, governance).
//   - VerifyRuntimeRegistration / VerifyRuntimeUpdate: the rules that depend on the epoch and,
//     for updates, on the current descriptor and the versions the runtime ever announced
//     (AnnouncedVersions, which the application keeps per runtime and extends with
//     AnnouncedVersions.With after every accepted registration or update).
//   - AuthorizeRuntimeTx / AuthorizeRuntimeMessage: who may register or update a runtime.
//   - VerifyNodeRegistration: the stateful checks of a node descriptor, given lookups.
//   - MaintenanceFee: the prepaid maintenance gas of a node registration.
//   - DecideSuspension / ResumesOnNodeRegistration: the suspension state machine.
//
// Every error is a coded error of module "registry" (errors.go) wrapped with a message naming
// the field and the bound. Nothing here reads clocks, randomness, disk or network; values are
// not safe for concurrent mutation.
package api

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// ModuleName is the service's name: its application name, error module and method prefix.
const ModuleName = "registry"

// Transaction methods of the registry service.
const (
	// MethodRegisterEntity takes a signature.Signed Entity (RegisterEntitySignatureContext),
	// signed by the entity key; it registers or updates the entity.
	MethodRegisterEntity transaction.MethodName = "registry.RegisterEntity"
	// MethodDeregisterEntity takes DeregisterEntity; the transaction signer is the entity.
	MethodDeregisterEntity transaction.MethodName = "registry.DeregisterEntity"
	// MethodRegisterNode takes a signature.Signed node.Node (node.RegisterSignatureContext),
	// signed by the node key; it registers or renews the node.
	MethodRegisterNode transaction.MethodName = "registry.RegisterNode"
	// MethodRegisterRuntime takes a Runtime in canonical CBOR; it registers a new runtime or
	// updates one (AuthorizeRuntimeTx says who may).
	MethodRegisterRuntime transaction.MethodName = "registry.RegisterRuntime"
)

// Methods lists every transaction method of the service.
var Methods = []transaction.MethodName{MethodRegisterEntity, MethodDeregisterEntity, MethodRegisterNode, MethodRegisterRuntime}

// DeregisterEntity is the body of MethodDeregisterEntity. It has no fields: the transaction
// signer's entity is deregistered (only when it has no nodes and owns no runtimes).
type DeregisterEntity struct{}

// Query methods. Arguments and answers are CBOR.
const (
	// QueryEntity takes IDQuery and answers Entity.
	QueryEntity = "registry.Entity"
	// QueryEntities takes nothing and answers []Entity sorted by ID.
	QueryEntities = "registry.Entities"
	// QueryNode takes IDQuery and answers node.Node.
	QueryNode = "registry.Node"
	// QueryNodes takes nothing and answers []node.Node sorted by ID.
	QueryNodes = "registry.Nodes"
	// QueryNodeStatus takes IDQuery and answers NodeStatus.
	QueryNodeStatus = "registry.NodeStatus"
	// QueryRuntime takes RuntimeQuery and answers RuntimeInfo.
	QueryRuntime = "registry.Runtime"
	// QueryRuntimes takes nothing and answers []RuntimeInfo sorted by ID, active and suspended.
	QueryRuntimes = "registry.Runtimes"
	// QueryParams takes nothing and answers ConsensusParameters.
	QueryParams = "registry.Params"
)

// IDQuery names an entity or node by its key.
type IDQuery struct {
	ID signature.PublicKey `cbor:"id"`
}

// RuntimeQuery names a runtime.
type RuntimeQuery struct {
	ID namespace.Namespace `cbor:"id"`
}

// RuntimeInfo is a registered runtime and whether it is suspended.
type RuntimeInfo struct {
	Runtime   Runtime `cbor:"runtime"`
	Suspended bool    `cbor:"suspended,omitempty"`
}
