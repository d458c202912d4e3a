package api

import "github.com/atoll-project/atoll/common/errors"

// ModuleName is the service's name: its application name, error module and method prefix.
const ModuleName = "roothash"

// Coded errors of the roothash service. Each names the check that failed, so that a rejected
// commitment, proposer timeout or evidence says why over the wire. Codes 1–26 are taken here;
// the application adds its own after them.
var (
	// ErrMalformedCommitment: a commitment does not decode canonically or its body fails a
	// structural check (unknown failure value, zero roots on a success, a malformed message).
	ErrMalformedCommitment = errors.New(ModuleName, 1, "malformed executor commitment")
	// ErrInvalidSignature: the node's signature over the commitment does not verify.
	ErrInvalidSignature = errors.New(ModuleName, 2, "invalid commitment signature")
	// ErrNotInCommittee: the signer is not a member of the current executor committee in a
	// role that may do this.
	ErrNotInCommittee = errors.New(ModuleName, 3, "signer is not in the committee")
	// ErrBackupOutsideDiscrepancy: a backup committed while no discrepancy is declared.
	ErrBackupOutsideDiscrepancy = errors.New(ModuleName, 4, "backup commitment outside a discrepancy")
	// ErrWrongRound: the commitment's round is not latest round + 1.
	ErrWrongRound = errors.New(ModuleName, 5, "commitment for the wrong round")
	// ErrWrongPreviousHash: the commitment's previous hash is not the latest block's hash.
	ErrWrongPreviousHash = errors.New(ModuleName, 6, "commitment on the wrong previous block")
	// ErrMissingTxnSchedSig: the commitment carries no transaction scheduler signature.
	ErrMissingTxnSchedSig = errors.New(ModuleName, 7, "missing transaction scheduler signature")
	// ErrNotScheduler: the transaction scheduler signature is not by the round's scheduler.
	ErrNotScheduler = errors.New(ModuleName, 8, "transaction scheduler signature not by the round's scheduler")
	// ErrInvalidTxnSchedSig: the scheduler's signature over the proposed batch does not verify.
	ErrInvalidTxnSchedSig = errors.New(ModuleName, 9, "invalid transaction scheduler signature")
	// ErrTooFewReceipts: fewer storage receipts than min_write_replication.
	ErrTooFewReceipts = errors.New(ModuleName, 10, "too few storage receipts")
	// ErrDuplicateReceipt: two storage receipts by the same storage node.
	ErrDuplicateReceipt = errors.New(ModuleName, 11, "duplicate storage receipt signer")
	// ErrForeignReceipt: a storage receipt by a node outside the storage committee.
	ErrForeignReceipt = errors.New(ModuleName, 12, "storage receipt from outside the storage committee")
	// ErrInvalidReceipt: a storage receipt does not verify over the body rebuilt from the
	// commitment (wrong roots, round, runtime or chain, or a bad signature).
	ErrInvalidReceipt = errors.New(ModuleName, 13, "invalid storage receipt")
	// ErrMissingRAKSig: a TEE runtime's success commitment carries no RAK signature.
	ErrMissingRAKSig = errors.New(ModuleName, 14, "missing RAK signature")
	// ErrInvalidRAKSig: the RAK signature does not verify, the node has no registered RAK, or
	// the runtime needs no TEE and the commitment carries one anyway.
	ErrInvalidRAKSig = errors.New(ModuleName, 15, "invalid RAK signature")
	// ErrMessagesFromNonScheduler: a commitment other than the scheduler's carries messages.
	ErrMessagesFromNonScheduler = errors.New(ModuleName, 16, "runtime messages from a node other than the scheduler")
	// ErrTooManyMessages: more runtime messages than max_messages.
	ErrTooManyMessages = errors.New(ModuleName, 17, "too many runtime messages")
	// ErrMessagesHashMismatch: the scheduler's messages do not hash to the header's
	// messages_hash.
	ErrMessagesHashMismatch = errors.New(ModuleName, 18, "runtime messages do not match the messages hash")
	// ErrFailureWithResults: a failure commitment carries result roots, receipts, a RAK
	// signature or messages.
	ErrFailureWithResults = errors.New(ModuleName, 19, "failure commitment carries results")
	// ErrRoundDecided: the pool already decided its round; only a new block opens the next.
	ErrRoundDecided = errors.New(ModuleName, 20, "round already decided")
	// ErrProposerTimeoutTooEarly: a proposer timeout before latest block height +
	// propose_batch_timeout.
	ErrProposerTimeoutTooEarly = errors.New(ModuleName, 21, "proposer timeout too early")
	// ErrPoolNotEmpty: a proposer timeout while the pool holds commitments or its timer is
	// already armed.
	ErrPoolNotEmpty = errors.New(ModuleName, 22, "commitment pool is not empty")
	// ErrInvalidEvidence: equivocation evidence that does not show an equivocation (bad
	// signatures, different signers or rounds, the same result).
	ErrInvalidEvidence = errors.New(ModuleName, 23, "invalid equivocation evidence")
	// ErrEvidenceTooOld: evidence older than max_evidence_age rounds.
	ErrEvidenceTooOld = errors.New(ModuleName, 24, "equivocation evidence too old")
	// ErrInvalidCommittee: an executor committee with no workers or a repeated member.
	ErrInvalidCommittee = errors.New(ModuleName, 25, "invalid executor committee")
	// ErrMalformedEvidence: evidence that does not decode or has not exactly one kind set.
	ErrMalformedEvidence = errors.New(ModuleName, 26, "malformed equivocation evidence")
)
