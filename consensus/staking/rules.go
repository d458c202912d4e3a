package staking

// The staking rules: pure functions over in-memory accounts. They take every input as an
// argument, change only what they are given, and leave everything unchanged when they fail.

import (
	"fmt"

	"github.com/atoll-project/atoll/common/quantity"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// sub returns a - b, or ErrInsufficientBalance (wrapping what) when b > a.
func sub(a, b *quantity.Quantity, what string) (*quantity.Quantity, error) {
	r := a.Clone()
	if err := r.Sub(b); err != nil {
		return nil, fmt.Errorf("%w: %s %s below %s", api.ErrInsufficientBalance, what, a, b)
	}
	return r, nil
}

func add(a, b *quantity.Quantity) (*quantity.Quantity, error) {
	r := a.Clone()
	if err := r.Add(b); err != nil {
		return nil, fmt.Errorf("%w: %v", api.ErrInvalidArgument, err)
	}
	return r, nil
}

// minFee returns gas × price.
func minFee(gas transaction.Gas, price *quantity.Quantity) (*quantity.Quantity, error) {
	f := quantity.NewFromUint64(uint64(gas))
	if err := f.Mul(price); err != nil {
		return nil, err
	}
	return f, nil
}

// chargeFee checks the nonce and the gas price and takes fee.amount from the account's
// general balance into fees, bumping the nonce.
func chargeFee(acct *api.Account, tx *transaction.Transaction, minGasPrice, fees *quantity.Quantity) error {
	if tx.Nonce != acct.General.Nonce {
		return fmt.Errorf("%w: got %d, account is at %d", transaction.ErrInvalidNonce, tx.Nonce, acct.General.Nonce)
	}
	if acct.General.Nonce == ^uint64(0) {
		return fmt.Errorf("%w: nonce exhausted", transaction.ErrInvalidNonce)
	}
	need, err := minFee(tx.Fee.Gas, minGasPrice)
	if err != nil || tx.Fee.Amount.Cmp(need) < 0 {
		return fmt.Errorf("%w: fee %s for %d gas, need %s", transaction.ErrGasPriceTooLow, &tx.Fee.Amount, tx.Fee.Gas, need)
	}
	balance := acct.General.Balance.Clone()
	if err := balance.Sub(&tx.Fee.Amount); err != nil {
		return fmt.Errorf("%w: balance %s, fee %s", transaction.ErrInsufficientFeeBalance, &acct.General.Balance, &tx.Fee.Amount)
	}
	total, err := add(fees, &tx.Fee.Amount)
	if err != nil {
		return err
	}
	acct.General.Balance = *balance
	acct.General.Nonce++
	*fees = *total
	return nil
}

// transfer moves amount between general balances; from and to may be the same account.
func transfer(from, to *api.Account, amount *quantity.Quantity) error {
	fromBal, err := sub(&from.General.Balance, amount, "balance")
	if err != nil {
		return err
	}
	from.General.Balance = *fromBal
	toBal, err := add(&to.General.Balance, amount)
	if err != nil {
		// Undo; only an overflow past 2^256 can get here.
		back, _ := add(&from.General.Balance, amount)
		from.General.Balance = *back
		return err
	}
	to.General.Balance = *toBal
	return nil
}

// addEscrow moves amount from src's general balance into escrow's active pool and credits the
// new shares to dlg. src and escrow may be the same account.
func addEscrow(src, escrow *api.Account, dlg *api.Delegation, amount, minDelegation *quantity.Quantity) (*quantity.Quantity, error) {
	if amount.Cmp(minDelegation) < 0 {
		return nil, fmt.Errorf("%w: %s < %s", api.ErrUnderMinDelegation, amount, minDelegation)
	}
	srcBal, err := sub(&src.General.Balance, amount, "balance")
	if err != nil {
		return nil, err
	}
	pool := escrow.Escrow.Active
	shares, err := pool.Deposit(amount)
	if err != nil {
		return nil, err
	}
	if shares.IsZero() {
		return nil, fmt.Errorf("%w: %s buys no shares", api.ErrInvalidArgument, amount)
	}
	dlgShares, err := add(&dlg.Shares, shares)
	if err != nil {
		return nil, err
	}
	src.General.Balance = *srcBal
	escrow.Escrow.Active = pool
	dlg.Shares = *dlgShares
	return shares, nil
}

// reclaimResult is what starting to debond produced.
type reclaimResult struct {
	amount          *quantity.Quantity
	debondingShares *quantity.Quantity
	debonding       *api.DebondingDelegation
}

// reclaimEscrow takes shares of dlg out of escrow's active pool and deposits their worth into
// its debonding pool, releasable at epoch + interval. When the delegator owns the escrow
// account, the remaining active stake must still cover the account's claims.
func reclaimEscrow(escrow *api.Account, dlg *api.Delegation, shares *quantity.Quantity, ownEscrow bool, p *api.ConsensusParameters, epoch beacon.EpochTime) (*reclaimResult, error) {
	if shares.Cmp(&dlg.Shares) > 0 {
		return nil, fmt.Errorf("%w: reclaiming %s shares of %s", api.ErrInsufficientStake, shares, &dlg.Shares)
	}
	active, debonding := escrow.Escrow.Active, escrow.Escrow.Debonding
	amount, err := active.Withdraw(shares)
	if err != nil {
		return nil, err
	}
	debShares, err := debonding.Deposit(amount)
	if err != nil {
		return nil, err
	}
	if ownEscrow {
		after := escrow.Escrow
		after.Active = active
		ok, err := after.StakeClaimsSatisfied(&p.Thresholds)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: the remaining escrow would not cover the account's stake claims", api.ErrInsufficientStake)
		}
	}
	left, err := sub(&dlg.Shares, shares, "delegation")
	if err != nil {
		return nil, err
	}
	end := epoch + p.DebondingInterval
	if end < epoch {
		end = beacon.EpochInvalid - 1
	}
	escrow.Escrow.Active, escrow.Escrow.Debonding = active, debonding
	dlg.Shares = *left
	return &reclaimResult{
		amount:          amount,
		debondingShares: debShares,
		debonding:       &api.DebondingDelegation{Shares: *debShares, DebondEndTime: end},
	}, nil
}

// releaseDebonding takes a debonding delegation's shares out of escrow's debonding pool and
// credits their worth to owner's general balance.
func releaseDebonding(escrow, owner *api.Account, deb *api.DebondingDelegation) (*quantity.Quantity, error) {
	pool := escrow.Escrow.Debonding
	amount, err := pool.Withdraw(&deb.Shares)
	if err != nil {
		return nil, err
	}
	escrow.Escrow.Debonding = pool
	bal, err := add(&owner.General.Balance, amount)
	if err != nil {
		return nil, err
	}
	owner.General.Balance = *bal
	return amount, nil
}

// slashEscrow takes up to penalty from escrow's active and debonding pools in proportion to
// their balances (share counts unchanged) and returns what it took from each. The active cut
// is ⌊take × active / total⌋, the debonding cut the rest, where take = min(penalty, total).
func slashEscrow(escrow *api.Account, penalty *quantity.Quantity) (activeCut, debondingCut *quantity.Quantity, err error) {
	active, debonding := &escrow.Escrow.Active.Balance, &escrow.Escrow.Debonding.Balance
	total, err := add(active, debonding)
	if err != nil {
		return nil, nil, err
	}
	if total.IsZero() {
		return new(quantity.Quantity), new(quantity.Quantity), nil
	}
	take := penalty.Clone()
	if take.Cmp(total) > 0 {
		take = total.Clone()
	}
	activeCut = take.Clone()
	if err := activeCut.Mul(active); err != nil {
		return nil, nil, err
	}
	if err := activeCut.Quo(total); err != nil {
		return nil, nil, err
	}
	debondingCut, err = sub(take, activeCut, "slash")
	if err != nil {
		return nil, nil, err
	}
	newActive, err := sub(active, activeCut, "active escrow")
	if err != nil {
		return nil, nil, err
	}
	newDebonding, err := sub(debonding, debondingCut, "debonding escrow")
	if err != nil {
		return nil, nil, err
	}
	escrow.Escrow.Active.Balance, escrow.Escrow.Debonding.Balance = *newActive, *newDebonding
	return activeCut, debondingCut, nil
}

// changeAllowance applies an Allow to the current allowance and returns the new one
// (saturating at zero when negative).
func changeAllowance(current *quantity.Quantity, allow *api.Allow) (*quantity.Quantity, error) {
	if allow.Negative {
		r := current.Clone()
		if err := r.Sub(&allow.AmountChange); err != nil {
			return new(quantity.Quantity), nil
		}
		return r, nil
	}
	return add(current, &allow.AmountChange)
}

// withdraw moves amount from from's general balance to to's within allowance, which it
// reduces.
func withdraw(from, to *api.Account, allowance, amount *quantity.Quantity) (*quantity.Quantity, error) {
	left := allowance.Clone()
	if err := left.Sub(amount); err != nil {
		return nil, fmt.Errorf("%w: %s of %s allowed", api.ErrAllowanceExceeded, amount, allowance)
	}
	if err := transfer(from, to, amount); err != nil {
		return nil, err
	}
	return left, nil
}
