// Package commitment verifies executor commitments and decides runtime rounds from them
// (DESIGN.md §3, Roothash).
//
// Two steps, both pure (no clock, randomness or I/O; heights and all chain state come in as
// arguments):
//
//   - VerifyCommitments checks signed commitments against the chain's state (the latest block,
//     the executor and storage committees, the runtime's limits and RAKs) and returns Verified
//     values: the only way into the pool. Signatures of a whole call are checked with one
//     batch verifier. A rejection is a coded error of module "roothash" naming the check.
//   - Pool is the state machine of one round. AddCommitment, ProposerTimeout and CheckTimeout
//     go in with the consensus height; an Outcome comes out: the round's status, events, and
//     once decided the results to finalize, the nodes to slash for incorrect results, the
//     liveness faults and any equivocation found. The caller makes the block; every new block
//     (Normal, RoundFailed, EpochTransition, Suspended) replaces the pool with NewPool.
//
// The pool is a plain value, CBOR-encoded (Encode, DecodePool) into consensus state between
// blocks. It is not safe for concurrent use. Every list it returns is in committee order
// (workers in election order, then backups), never in map order, so the same inputs give the
// same outputs on every node.
package commitment
