package staking

import (
	"fmt"

	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/staking/api"
)

// The stake-claims API other applications (registry) call with their own Context. A claim
// names what the stake backs ("registry.RegisterNode.<id>") and lists threshold kinds; an
// account's active escrow must cover the sum of the thresholds of all its claims.

// Params returns the staking parameters stored in s.
func Params(s consensus.State) (*api.ConsensusParameters, error) { return stateView{s}.params() }

// GetAccount returns the account of addr (the zero account when absent).
func GetAccount(s consensus.State, addr api.Address) (*api.Account, error) {
	return stateView{s}.account(addr)
}

// EscrowBalance returns the active escrow balance of addr.
func EscrowBalance(s consensus.State, addr api.Address) (*quantity.Quantity, error) {
	a, err := stateView{s}.account(addr)
	if err != nil {
		return nil, err
	}
	return a.Escrow.Active.Balance.Clone(), nil
}

// CheckStakeClaims returns nil when addr's active escrow covers all its claims plus the extra
// threshold kinds (what a new claim would add), and ErrInsufficientStake otherwise.
func CheckStakeClaims(s consensus.State, addr api.Address, extra ...api.ThresholdKind) error {
	v := stateView{s}
	p, err := v.params()
	if err != nil {
		return err
	}
	a, err := v.account(addr)
	if err != nil {
		return err
	}
	return checkClaims(&a.Escrow, p, extra)
}

func checkClaims(e *api.EscrowAccount, p *api.ConsensusParameters, extra []api.ThresholdKind) error {
	need, err := e.ClaimedStake(&p.Thresholds)
	if err != nil {
		return fmt.Errorf("%w: %v", api.ErrInsufficientStake, err)
	}
	for _, k := range extra {
		if !k.Valid() {
			return fmt.Errorf("%w: unknown threshold kind %d", api.ErrInvalidArgument, k)
		}
		if err := need.Add(p.Thresholds.Of(k)); err != nil {
			return fmt.Errorf("%w: %v", api.ErrInsufficientStake, err)
		}
	}
	if e.Active.Balance.Cmp(need) < 0 {
		return fmt.Errorf("%w: escrow %s, claims need %s", api.ErrInsufficientStake, &e.Active.Balance, need)
	}
	return nil
}

// AddStakeClaim sets (or replaces) claim on addr's escrow with the given threshold kinds. It
// fails with ErrInsufficientStake, changing nothing, when the escrow would not cover all
// claims.
func AddStakeClaim(ctx *consensus.Context, addr api.Address, claim string, kinds []api.ThresholdKind) error {
	if claim == "" {
		return fmt.Errorf("%w: empty claim name", api.ErrInvalidArgument)
	}
	for _, k := range kinds {
		if !k.Valid() {
			return fmt.Errorf("%w: unknown threshold kind %d", api.ErrInvalidArgument, k)
		}
	}
	v := stateView{ctx.State()}
	p, err := v.params()
	if err != nil {
		return err
	}
	a, err := v.account(addr)
	if err != nil {
		return err
	}
	claims := make(map[string][]api.ThresholdKind, len(a.Escrow.Claims)+1)
	for k, c := range a.Escrow.Claims {
		claims[k] = c
	}
	claims[claim] = append([]api.ThresholdKind(nil), kinds...)
	next := a.Escrow
	next.Claims = claims
	if err := checkClaims(&next, p, nil); err != nil {
		return err
	}
	a.Escrow.Claims = claims
	return v.setAccount(addr, a)
}

// RemoveStakeClaim removes claim from addr's escrow; removing an absent claim does nothing.
func RemoveStakeClaim(ctx *consensus.Context, addr api.Address, claim string) error {
	v := stateView{ctx.State()}
	a, err := v.account(addr)
	if err != nil {
		return err
	}
	if _, ok := a.Escrow.Claims[claim]; !ok {
		return nil
	}
	delete(a.Escrow.Claims, claim)
	if len(a.Escrow.Claims) == 0 {
		a.Escrow.Claims = nil
	}
	return v.setAccount(addr, a)
}
