package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// Transaction methods of the staking service.
const (
	MethodTransfer      transaction.MethodName = "staking.Transfer"
	MethodAddEscrow     transaction.MethodName = "staking.AddEscrow"
	MethodReclaimEscrow transaction.MethodName = "staking.ReclaimEscrow"
	MethodAllow         transaction.MethodName = "staking.Allow"
	MethodWithdraw      transaction.MethodName = "staking.Withdraw"
)

// Methods lists every transaction method of the service.
var Methods = []transaction.MethodName{MethodTransfer, MethodAddEscrow, MethodReclaimEscrow, MethodAllow, MethodWithdraw}

// Transfer moves Amount from the caller's general balance to To's.
type Transfer struct {
	To     Address           `cbor:"to"`
	Amount quantity.Quantity `cbor:"amount"`
}

// ValidateBasic checks the body alone.
func (t *Transfer) ValidateBasic() error { return nil }

// Escrow deposits Amount of the caller's general balance into Account's active escrow.
type Escrow struct {
	Account Address           `cbor:"account"`
	Amount  quantity.Quantity `cbor:"amount"`
}

// ValidateBasic checks the body alone.
func (e *Escrow) ValidateBasic() error {
	if e.Amount.IsZero() {
		return fmt.Errorf("%w: zero escrow amount", ErrInvalidArgument)
	}
	return nil
}

// ReclaimEscrow starts debonding Shares of the caller's delegation to Account.
type ReclaimEscrow struct {
	Account Address           `cbor:"account"`
	Shares  quantity.Quantity `cbor:"shares"`
}

// ValidateBasic checks the body alone.
func (r *ReclaimEscrow) ValidateBasic() error {
	if r.Shares.IsZero() {
		return fmt.Errorf("%w: zero shares", ErrInvalidArgument)
	}
	return nil
}

// Allow changes the allowance of Beneficiary over the caller's general balance by
// AmountChange, down when Negative (saturating at zero).
type Allow struct {
	Beneficiary  Address           `cbor:"beneficiary"`
	Negative     bool              `cbor:"negative,omitempty"`
	AmountChange quantity.Quantity `cbor:"amount_change"`
}

// ValidateBasic checks the body alone.
func (a *Allow) ValidateBasic() error { return nil }

// Withdraw moves Amount from From's general balance to the caller's, within the allowance
// From gave the caller.
type Withdraw struct {
	From   Address           `cbor:"from"`
	Amount quantity.Quantity `cbor:"amount"`
}

// ValidateBasic checks the body alone.
func (w *Withdraw) ValidateBasic() error { return nil }
