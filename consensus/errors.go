package consensus

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// ErrState marks a failure of the state itself (node DB, corrupt record, impossible
// invariant): the node must halt rather than treat it as a transaction's failure.
var ErrState = errors.New("consensus: state failure")

// StateError wraps err as a state failure.
func StateError(err error) error {
	if err == nil || errors.Is(err, ErrState) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrState, err)
}

// StateErrorf returns a state failure with a formatted message.
func StateErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrState, fmt.Sprintf(format, args...))
}

// IsStateError reports whether err is a state failure.
func IsStateError(err error) bool { return errors.Is(err, ErrState) }

// Coded errors of the consensus layer (module "consensus", codes from 20; codes 1-19 belong to
// package transaction).
var (
	// ErrUnknownQuery: no application answers the query method.
	ErrUnknownQuery = cerrors.New(transaction.ModuleName, 20, "unknown query method")
	// ErrMalformedQuery: the query arguments do not decode.
	ErrMalformedQuery = cerrors.New(transaction.ModuleName, 21, "malformed query")
	// ErrNoState: the queried height is not available (before the first block, in the
	// future, or pruned).
	ErrNoState = cerrors.New(transaction.ModuleName, 22, "state not available at this height")
	// ErrForbiddenInMode: the operation is not allowed in the context's mode.
	ErrForbiddenInMode = cerrors.New(transaction.ModuleName, 23, "operation not allowed in this mode")
	// ErrNoHandler: no application handles a published message kind.
	ErrNoHandler = cerrors.New(transaction.ModuleName, 24, "no handler for message")
)

// DecodeQueryArgs strictly decodes an application query's CBOR arguments into dst; a failure
// wraps ErrMalformedQuery.
func DecodeQueryArgs(args []byte, dst any) error {
	if err := cbor.Unmarshal(args, dst); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedQuery, err)
	}
	return nil
}
