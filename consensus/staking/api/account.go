package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/quantity"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// Account is a staking account: a general balance and nonce, and the escrow that others (and
// the account itself) delegate to it.
type Account struct {
	General GeneralAccount `cbor:"general"`
	Escrow  EscrowAccount  `cbor:"escrow"`
}

// GeneralAccount is the spendable part of an account.
type GeneralAccount struct {
	Balance quantity.Quantity `cbor:"balance"`
	// Nonce is the nonce the account's next transaction must carry.
	Nonce uint64 `cbor:"nonce,omitempty"`
}

// EscrowAccount is the stake delegated to an account.
type EscrowAccount struct {
	// Active is the stake that backs the account's claims and can be slashed.
	Active SharePool `cbor:"active"`
	// Debonding is stake on its way out; it can still be slashed until released.
	Debonding SharePool `cbor:"debonding"`
	// Claims are the stake claims against Active, by claim name.
	Claims map[string][]ThresholdKind `cbor:"claims,omitempty"`
}

// IsEmpty reports whether the account holds nothing worth storing.
func (a *Account) IsEmpty() bool {
	return a.General.Balance.IsZero() && a.General.Nonce == 0 &&
		a.Escrow.Active.IsEmpty() && a.Escrow.Debonding.IsEmpty() && len(a.Escrow.Claims) == 0
}

// SharePool is a balance owned by shareholders in proportion to their shares.
//
// The first deposit into a pool without shares gets shares 1:1; later deposits get
// ⌊amount × total_shares / balance⌋; withdrawing shares gives ⌊shares × balance /
// total_shares⌋ tokens. Rounding always favours the pool. A pool whose balance was slashed to
// zero while shares remain issues no new shares (ErrEmptyPool).
type SharePool struct {
	Balance     quantity.Quantity `cbor:"balance"`
	TotalShares quantity.Quantity `cbor:"total_shares"`
}

// IsEmpty reports whether the pool holds no balance and no shares.
func (p *SharePool) IsEmpty() bool { return p.Balance.IsZero() && p.TotalShares.IsZero() }

// SharesForTokens returns the shares a deposit of amount would get.
func (p *SharePool) SharesForTokens(amount *quantity.Quantity) (*quantity.Quantity, error) {
	if p.TotalShares.IsZero() {
		return amount.Clone(), nil
	}
	if p.Balance.IsZero() {
		return nil, ErrEmptyPool
	}
	return mulDiv(amount, &p.TotalShares, &p.Balance)
}

// TokensForShares returns the tokens that shares are worth.
func (p *SharePool) TokensForShares(shares *quantity.Quantity) (*quantity.Quantity, error) {
	if p.TotalShares.IsZero() {
		if shares.IsZero() {
			return new(quantity.Quantity), nil
		}
		return nil, fmt.Errorf("%w: %s shares of a pool without shares", ErrInsufficientStake, shares)
	}
	return mulDiv(shares, &p.Balance, &p.TotalShares)
}

// Deposit adds amount to the pool and returns the new shares issued for it. The pool is
// unchanged on error.
func (p *SharePool) Deposit(amount *quantity.Quantity) (*quantity.Quantity, error) {
	shares, err := p.SharesForTokens(amount)
	if err != nil {
		return nil, err
	}
	balance, total := p.Balance.Clone(), p.TotalShares.Clone()
	if err := balance.Add(amount); err != nil {
		return nil, err
	}
	if err := total.Add(shares); err != nil {
		return nil, err
	}
	p.Balance, p.TotalShares = *balance, *total
	return shares, nil
}

// Withdraw removes shares from the pool and returns the tokens they were worth. The pool is
// unchanged on error.
func (p *SharePool) Withdraw(shares *quantity.Quantity) (*quantity.Quantity, error) {
	if shares.Cmp(&p.TotalShares) > 0 {
		return nil, fmt.Errorf("%w: %s shares of %s", ErrInsufficientStake, shares, &p.TotalShares)
	}
	tokens, err := p.TokensForShares(shares)
	if err != nil {
		return nil, err
	}
	balance, total := p.Balance.Clone(), p.TotalShares.Clone()
	if err := balance.Sub(tokens); err != nil {
		return nil, err
	}
	if err := total.Sub(shares); err != nil {
		return nil, err
	}
	p.Balance, p.TotalShares = *balance, *total
	return tokens, nil
}

// mulDiv returns ⌊a × b / c⌋ for a non-zero c.
func mulDiv(a, b, c *quantity.Quantity) (*quantity.Quantity, error) {
	r := a.Clone()
	if err := r.Mul(b); err != nil {
		return nil, err
	}
	if err := r.Quo(c); err != nil {
		return nil, err
	}
	return r, nil
}

// Delegation is a delegator's shares in an escrow account's active pool.
type Delegation struct {
	Shares quantity.Quantity `cbor:"shares"`
}

// DebondingDelegation is a delegator's shares in an escrow account's debonding pool, released
// to the delegator's general balance once the epoch reaches DebondEndTime.
type DebondingDelegation struct {
	Shares        quantity.Quantity `cbor:"shares"`
	DebondEndTime beacon.EpochTime  `cbor:"debond_end"`
}

// StakeClaimsSatisfied reports whether the active escrow covers every claim under th.
func (e *EscrowAccount) StakeClaimsSatisfied(th *StakeThresholds) (bool, error) {
	need, err := e.ClaimedStake(th)
	if err != nil {
		return false, err
	}
	return e.Active.Balance.Cmp(need) >= 0, nil
}

// ClaimedStake returns the sum of the thresholds of every claim.
func (e *EscrowAccount) ClaimedStake(th *StakeThresholds) (*quantity.Quantity, error) {
	need := new(quantity.Quantity)
	for _, kinds := range e.Claims {
		for _, k := range kinds {
			if err := need.Add(th.Of(k)); err != nil {
				return nil, err
			}
		}
	}
	return need, nil
}
