// Package consensus is the consensus layer's core: the Application interface every service
// implements, the block Context applications run in, the state they share, and the ABCI mux
// that drives them under CometBFT (or the memchain test backend).
//
// # Applications and order
//
// An Application owns a service name, its transaction methods ("staking.Transfer"), one key
// prefix byte of the state, and the in-process message kinds it handles. InitChain, BeginBlock
// and EndBlock run on every application in the fixed order beacon, staking, registry,
// scheduler, roothash (those that exist); a transaction goes to the application owning its
// method; a query "service.Query" goes to the application of that service. Applications
// exchange typed messages through Context.Publish, never through globals.
//
// # State
//
// The state of all applications is one MKVS tree whose root is CometBFT's AppHash. Prefix
// bytes:
//
//	0x01 consensus (this package: validators, last block)
//	0x02 beacon      0x03 staking      0x04 registry
//	0x05 scheduler   0x06 roothash
//
// Keys are the prefix byte, a table byte, then fixed-width big-endian parts (common/keyformat).
// Check state (CheckTx) and deliver state (FinalizeBlock) are separate trees. The node DB keeps
// version = height, one root finalized per Commit, and a configured number of heights.
// FinalizeBlock computes the new root without persisting anything; Commit persists it
// atomically (the node DB's Finalize); Info answers the last committed height and root.
//
// # Transactions
//
// Each transaction is decoded and its signature verified once per node: CheckTx's verdict is
// cached by transaction hash and reused by FinalizeBlock, which batch-verifies the rest. A
// transaction runs in its own nested Context: the TxAuthenticator (staking) checks the nonce
// and charges the whole fee first, and that part is kept even when the method then fails,
// whose effects are reverted alone.
//
// # Errors
//
// A transaction's failure is a coded error (common/errors) returned in its ABCI result. A
// failure of the state itself (the node DB, a corrupt record) wraps ErrState: the mux returns
// it from the ABCI call, which halts the node, because carrying on would fork it.
package consensus

// Prefix bytes of the consensus state, one per application.
const (
	PrefixConsensus byte = 0x01
	PrefixBeacon    byte = 0x02
	PrefixStaking   byte = 0x03
	PrefixRegistry  byte = 0x04
	PrefixScheduler byte = 0x05
	PrefixRoothash  byte = 0x06
)

// AppOrder is the order in which InitChain, BeginBlock and EndBlock run on the applications.
var AppOrder = []string{"beacon", "staking", "registry", "scheduler", "roothash"}
