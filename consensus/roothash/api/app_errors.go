package api

import "github.com/atoll-project/atoll/common/errors"

// Coded errors of the roothash application (codes from 27; 1–26 are in errors.go).
var (
	// ErrInvalidArgument: a transaction body or query argument is out of range.
	ErrInvalidArgument = errors.New(ModuleName, 27, "invalid argument")
	// ErrNoSuchRuntime: roothash has no blocks for the runtime.
	ErrNoSuchRuntime = errors.New(ModuleName, 28, "no such runtime")
	// ErrNoSuchBlock: the round is not among the stored blocks (never made, or pruned).
	ErrNoSuchBlock = errors.New(ModuleName, 29, "no such block")
	// ErrRuntimeSuspended: the runtime is suspended; it takes no commitments.
	ErrRuntimeSuspended = errors.New(ModuleName, 30, "runtime is suspended")
	// ErrNoCommittee: the runtime has no executor committee in this epoch.
	ErrNoCommittee = errors.New(ModuleName, 31, "runtime has no committee")
	// ErrAlreadySlashed: the offence (runtime, round, signer) was already slashed.
	ErrAlreadySlashed = errors.New(ModuleName, 32, "offence already slashed")
)
