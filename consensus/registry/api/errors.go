package api

import "github.com/atoll-project/atoll/common/errors"

// Coded errors of the registry service. Each rejects a transaction or runtime message (or a
// genesis document); the wrapped message names the offending field and the bound it breaks.
var (
	// ErrInvalidArgument: a body is malformed or out of range.
	ErrInvalidArgument = errors.New(ModuleName, 1, "invalid argument")
	// ErrInvalidSignature: a descriptor's signature does not verify, or it is signed by the
	// wrong key.
	ErrInvalidSignature = errors.New(ModuleName, 2, "invalid signature")
	// ErrNoSuchEntity: the entity is not registered.
	ErrNoSuchEntity = errors.New(ModuleName, 3, "no such entity")
	// ErrNoSuchNode: the node is not registered.
	ErrNoSuchNode = errors.New(ModuleName, 4, "no such node")
	// ErrNoSuchRuntime: the runtime is not registered.
	ErrNoSuchRuntime = errors.New(ModuleName, 5, "no such runtime")
	// ErrNodeNotListed: the node's entity does not list the node.
	ErrNodeNotListed = errors.New(ModuleName, 6, "node is not listed by its entity")
	// ErrInvalidExpiration: a node's expiration is outside (epoch, epoch + max_node_expiration].
	ErrInvalidExpiration = errors.New(ModuleName, 7, "invalid node expiration")
	// ErrNodeFrozen: the node is frozen and cannot re-register before the freeze ends.
	ErrNodeFrozen = errors.New(ModuleName, 8, "node is frozen")
	// ErrKeyInUse: a node, consensus or TLS key is already used by another node.
	ErrKeyInUse = errors.New(ModuleName, 9, "key already in use by another node")
	// ErrNodeUpdateNotAllowed: a re-registration changes what may not change (entity,
	// consensus key).
	ErrNodeUpdateNotAllowed = errors.New(ModuleName, 10, "node update not allowed")
	// ErrNotAdmitted: the runtime's admission policy refuses the node.
	ErrNotAdmitted = errors.New(ModuleName, 11, "node not admitted by the runtime's admission policy")
	// ErrTEEVerificationFailed: a runtime entry's TEE capability is missing, of the wrong
	// hardware, or does not verify.
	ErrTEEVerificationFailed = errors.New(ModuleName, 12, "TEE capability verification failed")
	// ErrInvalidRuntime: a runtime descriptor breaks a parameter bound or a structural rule.
	ErrInvalidRuntime = errors.New(ModuleName, 13, "invalid runtime descriptor")
	// ErrInvalidDeployments: a runtime descriptor's deployments break an ADR 0013 rule.
	ErrInvalidDeployments = errors.New(ModuleName, 14, "invalid runtime deployments")
	// ErrRuntimeUpdateNotAllowed: an update changes an immutable field or governance model.
	ErrRuntimeUpdateNotAllowed = errors.New(ModuleName, 15, "runtime update not allowed")
	// ErrVersionReused: a runtime version number once announced is announced again for
	// another bundle.
	ErrVersionReused = errors.New(ModuleName, 16, "runtime version number reused for another bundle")
	// ErrForbidden: the caller may not do this (a transaction for a runtime-governed runtime,
	// a signer that is not the owner, ...).
	ErrForbidden = errors.New(ModuleName, 17, "forbidden")
	// ErrMaintenanceNotPaid: the transaction's gas does not cover the node's prepaid
	// maintenance.
	ErrMaintenanceNotPaid = errors.New(ModuleName, 18, "gas does not cover the prepaid runtime maintenance")
	// ErrEntityHasNodes: an entity with registered nodes cannot deregister.
	ErrEntityHasNodes = errors.New(ModuleName, 19, "entity still has nodes")
	// ErrEntityHasRuntimes: an entity owning runtimes cannot deregister.
	ErrEntityHasRuntimes = errors.New(ModuleName, 20, "entity still owns runtimes")
	// ErrInvalidParameters: the consensus parameters are out of range (genesis only).
	ErrInvalidParameters = errors.New(ModuleName, 21, "invalid registry parameters")
)
