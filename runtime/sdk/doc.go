// Package sdk is the Go SDK for Atoll runtimes: an author implements Runtime (transaction
// decoding, CheckTx, ExecuteTx, queries) and calls Run from main; the SDK speaks the Runtime
// Host Protocol (DESIGN.md §6), reads state from the host with proofs, builds the IO tree and
// the ComputedBatch, and enforces the batch rules.
//
// # Execution of a batch (ExecuteTxBatch)
//
//   - Inputs: the SDK rebuilds the inputs-only IO tree from the request's inputs (package
//     iotree: 'T' || H(tx) || 0x01 → cbor([tx, batch_order])) and refuses the batch with
//     ErrInputRootMismatch unless its root is the request's io_root. Rebuilding costs no round
//     trip and proves the inputs are the ones the scheduler committed to.
//   - State: a tree opened at the block's state root (version = block round) whose nodes are
//     fetched from the host with HostStorageSync and accepted only with a proof that verifies
//     against that root. A Prefetcher runtime gets the paths to all keys of the batch fetched
//     up front in a few requests. A fetch that fails, or does not verify, fails the whole
//     request with ErrStateUnavailable (the host is broken, not the transaction).
//   - Transactions run in input order. A repeated input runs once, at its first position. One
//     that DecodeTx refuses is dropped without output (TxRejectHashes). Every other one is
//     checked (CheckTx, read-only) and executed (ExecuteTx) against the state left by the ones
//     before it; its writes, messages and tags go to an overlay that is applied only when it
//     succeeds, so a failing transaction changes nothing. Its output, cbor([{ok: result}]) or
//     cbor([{error: {module, code, message}}]), goes under 'T' || H(tx) || 0x02; its tags under
//     'E' || tag key || H(tx).
//   - Batch size (DESIGN.md §6): before keeping a transaction's effects, the SDK bounds the size
//     its write logs would reach (entries and encoded bytes, against the request's
//     max_apply_write_log_entries and max_batch_bytes; zero means no bound). A transaction
//     that alone breaks a bound is executed as failed (ErrTxTooLarge, no state change); one that
//     breaks it only together with the batch so far stops the batch: it and every later input
//     are reported in Unexecuted and stay in the pool.
//   - Messages: ctx.EmitMessage queues a consensus message; a transaction that takes the batch
//     past max_messages fails (ErrTooManyMessages). The previous Normal round's message results
//     are ctx.RoundResults(); a BatchStarter runtime can record them once per batch.
//   - Results: ComputedBatch{header{round = block.round + 1, previous_hash = H(block), io_root,
//     state_root, messages_hash}, io_write_log (outputs and tags only, applied on the input
//     root it gives io_root), state_write_log (applied on the block's state root), messages}.
//
// # Determinism
//
// Every executor of a round must produce byte-identical results. The SDK takes everything from
// the request (it reads no clock, draws no randomness and never lets map order reach an output),
// and offers runtimes only what the block gives: BlockInfo's round, timestamp, epoch and a
// per-round seed. Runtime code must likewise not use time, math/rand or crypto/rand, map
// iteration order, goroutine scheduling or anything outside its State for what it writes or
// returns; error messages of failed transactions are part of the IO root and obey the same
// rule.
//
// # Other requests
//
// CheckTxBatch returns per-input results with coded errors; Query CBOR-encodes the runtime's
// answer; Ping answers; Abort cancels every request in flight and answers once they returned;
// Shutdown answers and makes Serve return.
//
// The Dispatcher is the whole request-handling path, usable in-process (tests, benchmarks)
// with any syncer.ReadSyncer as the host's storage; Serve puts it behind a protocol connection
// over any stream, and Run dials the host's socket.
package sdk
