// Package network declares, writes, runs and perturbs local Atoll networks: several real
// `atoll node` processes on loopback, each in its own data directory, exactly as a deployment
// runs them (DESIGN.md §1.5, "Devnet = production topology"). It is the runner behind the e2e
// scenarios and behind `atoll devnet`; in the manner of CometBFT's e2e runner, a network is
// declared (here by a Fixture), started, perturbed (Kill, Stop, Start) and checked black-box
// through each node's gRPC API, never through its logs or its memory.
//
// # Two steps: write, then run
//
// Fixture.Write turns a declaration (validators, epoch interval, timeout_commit, funded
// accounts, ports) into a network directory:
//
//	DIR/network.json          the Manifest: chain, nodes (P2P IDs, ports, keys), accounts
//	DIR/genesis.json          the genesis document (package consensus/genesis, DevDocument)
//	DIR/accounts/account-N.pem  keys of the funded test accounts (mode 0600)
//	DIR/node-N/               node N's data directory: keys (node.GenerateIdentity),
//	                          genesis.json, config.yaml, node.log, atoll.sock, databases
//
// It uses the same library functions as `atoll keys generate` and `atoll genesis init`, and
// each config.yaml is an ordinary node configuration (package config) that `atoll node
// --config` reads: loopback P2P on distinct ports, every other node a persistent peer,
// allow_duplicate_ip on (DESIGN.md §10). Nothing in it refers to the runner, so an operator
// can start any node by hand.
//
// New(binary, manifest) then runs that directory: every node is its own `atoll node` process,
// in its own process group, with its standard output and error appended to its node.log. The
// Network starts (StartAll, Start), stops (SIGTERM, Stop) and kills (SIGKILL, Kill) nodes,
// hands out typed clients over their Unix sockets (Client, Status) and waits on observable
// conditions with the caller's deadline (WaitHeight, WaitNodeHeight). A node that exits
// without being asked to is a failure: waits return an error that carries the tail of its
// log, Failed is closed and Check and Close report it.
//
// # Processes are never left behind
//
// Close stops every node (SIGTERM, then SIGKILL after StopTimeout) and waits for all of them;
// it is idempotent. Each node runs in its own process group, which Stop, Kill and Close
// signal as a whole, so whatever a node spawns goes with it; on Linux each node also gets
// SIGKILL should the process running the Network die first. Tests register Close with
// t.Cleanup.
//
// # Use from `atoll devnet`
//
// `atoll devnet` is meant to be a thin loop around this package:
//
//	m, err := network.Fixture{Validators: 4, Accounts: 10}.Write(dir) // or LoadManifest(dir)
//	net := network.New(os.Args[0], m)   // the running binary is the node binary
//	defer net.Close()
//	net.StartAll()
//	net.WaitHeight(ctx, 1)              // then print m's endpoints and a status line per node
//	select { case <-ctx.Done(): case <-net.Failed(): report net.Check() }
//
// LoadManifest reopens a directory written earlier, so a devnet can be stopped and resumed.
// The runtime, storage and compute roles will add fields to Fixture and sections to the
// node configurations as they come; the process management stays as it is.
//
// # Concurrency
//
// A Network is safe for concurrent use. Clients it hands out belong to it: it closes them when
// their node stops or the network closes.
package network
