package api

import cerrors "github.com/atoll-project/atoll/common/errors"

// Coded errors of the scheduler service (its queries).
var (
	// ErrNoElection: the runtime has not been through an election yet.
	ErrNoElection = cerrors.New(ModuleName, 1, "no election for the runtime")
)
