package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
)

// RoundFailureReason says why a round failed (a RoundFailed block).
type RoundFailureReason uint8

const (
	// FailedSchedulerMissing: the round timed out without the scheduler's commitment.
	FailedSchedulerMissing RoundFailureReason = 1
	// FailedQuorumUnreachable: too few backups are left to reach the backup quorum.
	FailedQuorumUnreachable RoundFailureReason = 2
	// FailedBackupTimeout: the backups' deadline passed without a decision.
	FailedBackupTimeout RoundFailureReason = 3
	// FailedBackupsVotedFailure: the backups settled on a failure.
	FailedBackupsVotedFailure RoundFailureReason = 4
	// FailedDisagreesWithScheduler: the backups settled on a result other than the
	// scheduler's, whose commitment alone carries the messages finalization needs.
	FailedDisagreesWithScheduler RoundFailureReason = 5
)

// String returns the reason in words.
func (r RoundFailureReason) String() string {
	switch r {
	case FailedSchedulerMissing:
		return "scheduler missing at the timeout"
	case FailedQuorumUnreachable:
		return "backup quorum unreachable"
	case FailedBackupTimeout:
		return "backup deadline passed"
	case FailedBackupsVotedFailure:
		return "backups settled on failure"
	case FailedDisagreesWithScheduler:
		return "backups disagree with the scheduler"
	default:
		return fmt.Sprintf("invalid(%d)", uint8(r))
	}
}

// ExecutorCommittedEvent reports a commitment accepted into the pool. Workers watch it to
// learn of a batch they never received (they fetch its inputs by input root).
type ExecutorCommittedEvent struct {
	Commitment ExecutorCommitment `cbor:"commitment"`
}

// ExecutionDiscrepancyDetectedEvent reports a discrepancy: the backups are to execute the
// scheduler's batch. Timeout says it was declared at the round timeout (too many stragglers)
// rather than by a disagreement or a failure.
type ExecutionDiscrepancyDetectedEvent struct {
	Round   uint64 `cbor:"round"`
	Timeout bool   `cbor:"timeout,omitempty"`
}

// FinalizedEvent reports a round finalized by a Normal block.
type FinalizedEvent struct {
	Round uint64 `cbor:"round"`
}

// RoundFailedEvent reports a round that ends in a RoundFailed block.
type RoundFailedEvent struct {
	Round  uint64             `cbor:"round"`
	Reason RoundFailureReason `cbor:"reason"`
}

// Event is one roothash event of a runtime. Exactly one of the kinds is set.
type Event struct {
	RuntimeID                    namespace.Namespace                `cbor:"runtime_id"`
	ExecutorCommitted            *ExecutorCommittedEvent            `cbor:"executor_committed,omitempty"`
	ExecutionDiscrepancyDetected *ExecutionDiscrepancyDetectedEvent `cbor:"execution_discrepancy_detected,omitempty"`
	Finalized                    *FinalizedEvent                    `cbor:"finalized,omitempty"`
	RoundFailed                  *RoundFailedEvent                  `cbor:"round_failed,omitempty"`
}
