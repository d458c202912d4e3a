package api

// RuntimeCall is the in-process message by which another service (roothash, executing a
// runtime's messages) moves a runtime account's funds: exactly one of the operations is set and
// runs with Caller as its caller. No key can sign for a runtime's account, so this is the only
// way its funds move. The handler returns nil or the operation's coded error; the sender runs
// each call in its own nested context so that a failing one is reverted alone.
type RuntimeCall struct {
	Caller        Address
	Transfer      *Transfer
	Withdraw      *Withdraw
	AddEscrow     *Escrow
	ReclaimEscrow *ReclaimEscrow
}

// MessageKindRuntimeCall is the kind of RuntimeCall.
const MessageKindRuntimeCall = "staking.RuntimeCall"

// MessageKind implements consensus.Message.
func (RuntimeCall) MessageKind() string { return MessageKindRuntimeCall }
