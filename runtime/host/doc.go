// Package host supervises runtimes: a Host runs one runtime binary (one extracted bundle) in
// a sandbox, talks to it over the Runtime Host Protocol on a Unix socket, keeps it alive, and
// offers Call to the node's workers. Multi holds several versions of one runtime side by side
// for seamless upgrades (DESIGN.md §4, §6).
//
// Life of a runtime under Host.Run:
//  1. Before every start the extracted bundle is verified against the checksum the registry
//     expects (bundle.VerifyExtracted: manifest, every file, the executable bit); a tampered
//     bundle is refused and nothing starts. Its manifest must name Config.RuntimeID.
//  2. A fresh Unix listener is created in Config.Sandbox.SocketDir (mode 0700) and the
//     bundle's executable started by the provisioner with that socket bound at
//     sandbox.SocketPath and the bundle directory bound read-only. Exactly one connection is
//     accepted, within Timeouts.Connect; the listener and its socket file are then removed.
//  3. The handshake (protocol.InitHost: runtime ID, chain context, local config) must finish
//     within Timeouts.Init; the runtime's protocol major must equal the host's and the
//     version it reports must equal its bundle manifest's. With Config.TEE the runtime's RAK
//     is then attested (package tee) within the same budget.
//  4. The runtime is ready: calls flow, the runtime's own requests go to Config.Handler, and
//     a watchdog pings it every Timeouts.PingInterval.
//  5. When the process exits, the connection breaks (a runtime sending garbage ends it with
//     the protocol's error), a ping goes unanswered, or a timed-out call's abort request goes
//     unanswered, the instance is killed and a new one started after an exponential backoff
//     (Backoff), reset once a runtime has stayed ready for Backoff.ResetAfter. Every failed
//     start (bundle refused, no connection, failed handshake, wrong ID or version) is retried
//     the same way, so a node survives any runtime: it reports each failure as an event and
//     keeps its other work going.
//  6. When Run's context ends the runtime is asked to shut down, given Timeouts.Shutdown,
//     then killed; Run returns once the process is reaped.
//
// Events (Started, Failed, Stopped) go to Config.OnEvent, in order, from Run's goroutine.
//
// Calls: Host.Call is safe for concurrent use. A call waits for readiness (during a start or
// restart) until its own deadline and never longer; a call without a deadline gets
// Timeouts.Call. When a call exceeds its deadline it returns ErrCallTimeout and the runtime is
// asked to abort (RuntimeAbortRequest); calls wait meanwhile; a runtime that does not answer
// the abort within Timeouts.Abort is killed and restarted. Calls are never retried by the
// host: a call cut short by a failure returns an error wrapping ErrRuntimeFailed and the
// caller decides.
//
// Ownership: a Host owns the processes, sockets and connections it creates and releases all
// of them before Run returns. It does not own Config.Handler or Config.Sandbox.Provisioner.
// No context is kept in a Host: Run's context bounds the whole lifecycle, each call's its
// call.
//
// Errors are wrapped under the "host:" prefix and match this package's sentinels with
// errors.Is; errors from the runtime keep their coded identity.
//
// Runtime requests: RequestRouter serves the runtime's storage sync requests from a
// syncer.ReadSyncer per endpoint and its local storage requests from a LocalStorage, a small
// per-runtime store kept in memory and written through to one file (see LocalStorage).
package host
