package api

import (
	"github.com/atoll-project/atoll/common/quantity"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// TransferEvent: Amount moved from From's general balance to To's.
type TransferEvent struct {
	From   Address           `cbor:"from"`
	To     Address           `cbor:"to"`
	Amount quantity.Quantity `cbor:"amount"`
}

// EventKind implements consensus.Event.
func (TransferEvent) EventKind() string { return "staking.Transfer" }

// AddEscrowEvent: Owner deposited Amount into Escrow's active pool for NewShares.
type AddEscrowEvent struct {
	Owner     Address           `cbor:"owner"`
	Escrow    Address           `cbor:"escrow"`
	Amount    quantity.Quantity `cbor:"amount"`
	NewShares quantity.Quantity `cbor:"new_shares"`
}

// EventKind implements consensus.Event.
func (AddEscrowEvent) EventKind() string { return "staking.AddEscrow" }

// DebondingStartEvent: Owner moved ActiveShares of Escrow (worth Amount) into debonding until
// DebondEndTime.
type DebondingStartEvent struct {
	Owner           Address           `cbor:"owner"`
	Escrow          Address           `cbor:"escrow"`
	Amount          quantity.Quantity `cbor:"amount"`
	ActiveShares    quantity.Quantity `cbor:"active_shares"`
	DebondingShares quantity.Quantity `cbor:"debonding_shares"`
	DebondEndTime   beacon.EpochTime  `cbor:"debond_end_time"`
}

// EventKind implements consensus.Event.
func (DebondingStartEvent) EventKind() string { return "staking.DebondingStart" }

// ReclaimEscrowEvent: debonding Shares of Escrow were released as Amount to Owner.
type ReclaimEscrowEvent struct {
	Owner  Address           `cbor:"owner"`
	Escrow Address           `cbor:"escrow"`
	Amount quantity.Quantity `cbor:"amount"`
	Shares quantity.Quantity `cbor:"shares"`
}

// EventKind implements consensus.Event.
func (ReclaimEscrowEvent) EventKind() string { return "staking.ReclaimEscrow" }

// TakeEscrowEvent: Amount was slashed from Owner's escrow (DebondingAmount of it from the
// debonding pool) for Reason and moved to To.
type TakeEscrowEvent struct {
	Owner           Address           `cbor:"owner"`
	Amount          quantity.Quantity `cbor:"amount"`
	DebondingAmount quantity.Quantity `cbor:"debonding_amount"`
	Reason          SlashReason       `cbor:"reason"`
	To              Address           `cbor:"to"`
	ToCommonPool    bool              `cbor:"to_common_pool,omitempty"`
}

// EventKind implements consensus.Event.
func (TakeEscrowEvent) EventKind() string { return "staking.TakeEscrow" }

// AllowanceChangeEvent: Owner changed Beneficiary's allowance to Allowance.
type AllowanceChangeEvent struct {
	Owner        Address           `cbor:"owner"`
	Beneficiary  Address           `cbor:"beneficiary"`
	Allowance    quantity.Quantity `cbor:"allowance"`
	Negative     bool              `cbor:"negative,omitempty"`
	AmountChange quantity.Quantity `cbor:"amount_change"`
}

// EventKind implements consensus.Event.
func (AllowanceChangeEvent) EventKind() string { return "staking.AllowanceChange" }

// FeesPaidEvent: the block's fees, Amount, went to To (the proposer's entity account, or the
// common pool when the proposer is unknown).
type FeesPaidEvent struct {
	To           Address           `cbor:"to"`
	ToCommonPool bool              `cbor:"to_common_pool,omitempty"`
	Amount       quantity.Quantity `cbor:"amount"`
}

// EventKind implements consensus.Event.
func (FeesPaidEvent) EventKind() string { return "staking.FeesPaid" }
