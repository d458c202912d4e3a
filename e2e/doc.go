// Package e2e holds the end-to-end scenarios that run real `atoll` processes. The binary is
// built once per test run; each scenario declares a network with a network.Fixture (package
// e2e/network, the runner also behind `atoll devnet`), runs it on loopback, perturbs it
// (SIGKILL, SIGTERM, restart, wiping a node's state) and acts and asserts only through the
// CLI and the nodes' gRPC APIs, waiting on observable conditions with deadlines, never on
// fixed sleeps or log lines.
//
// Scenarios:
//   - one validator: CLI transfers and their balances, the epoch, a SIGKILL and restart, a
//     replay of the whole chain into a wiped state with the same state roots;
//   - one validator: concurrent batches of transfers from several accounts, every balance
//     and fee they touch;
//   - four validators: transfers through different nodes, one validator killed while the
//     other three keep finalizing blocks with transfers, restarted, caught up, proposing
//     again, and every node agreeing on every block's hash, app hash and state root.
//
// A failing scenario keeps its network directory, with every node's full log, and says
// where; errors about a node carry the end of its log.
package e2e
