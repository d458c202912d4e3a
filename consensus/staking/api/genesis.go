package api

import (
	"bytes"
	"fmt"

	"github.com/atoll-project/atoll/common/quantity"
)

// GenesisAccount is an account's general balance at genesis.
type GenesisAccount struct {
	Address Address           `json:"address" cbor:"address"`
	Balance quantity.Quantity `json:"balance" cbor:"balance"`
}

// GenesisDelegation is escrow that exists at genesis: From holds shares of To's active pool,
// issued as a deposit of Amount (1:1 for the first deposit into a pool).
type GenesisDelegation struct {
	From   Address           `json:"from" cbor:"from"`
	To     Address           `json:"to" cbor:"to"`
	Amount quantity.Quantity `json:"amount" cbor:"amount"`
}

// Genesis is the staking service's part of the genesis document.
type Genesis struct {
	Params      ConsensusParameters `json:"params" cbor:"params"`
	TokenSymbol string              `json:"token_symbol" cbor:"token_symbol"`
	// TotalSupply must equal the sum of the balances, the delegated amounts and CommonPool.
	TotalSupply quantity.Quantity `json:"total_supply" cbor:"total_supply"`
	CommonPool  quantity.Quantity `json:"common_pool" cbor:"common_pool"`
	// Accounts are sorted by address, each address at most once.
	Accounts []GenesisAccount `json:"accounts" cbor:"accounts"`
	// Delegations are applied in order, after Accounts.
	Delegations []GenesisDelegation `json:"delegations,omitempty" cbor:"delegations,omitempty"`
}

// MaxTokenSymbolLength bounds TokenSymbol.
const MaxTokenSymbolLength = 8

// SanityCheck checks the parameters, the account order and the total supply.
func (g *Genesis) SanityCheck() error {
	if err := g.Params.SanityCheck(); err != nil {
		return err
	}
	if n := len(g.TokenSymbol); n == 0 || n > MaxTokenSymbolLength {
		return fmt.Errorf("staking: token_symbol of %d bytes, want 1..%d", n, MaxTokenSymbolLength)
	}
	for _, c := range g.TokenSymbol {
		if c < 'A' || c > 'Z' {
			return fmt.Errorf("staking: token_symbol %q: want upper-case letters", g.TokenSymbol)
		}
	}
	sum := g.CommonPool.Clone()
	for i := range g.Accounts {
		a := &g.Accounts[i]
		if i > 0 && bytes.Compare(g.Accounts[i-1].Address[:], a.Address[:]) >= 0 {
			return fmt.Errorf("staking: genesis accounts not sorted by address or repeated at %s", a.Address)
		}
		if err := sum.Add(&a.Balance); err != nil {
			return fmt.Errorf("staking: summing genesis balances: %w", err)
		}
	}
	for i := range g.Delegations {
		d := &g.Delegations[i]
		if d.Amount.IsZero() {
			return fmt.Errorf("staking: genesis delegation %d from %s to %s is zero", i, d.From, d.To)
		}
		if d.Amount.Cmp(&g.Params.MinDelegation) < 0 {
			return fmt.Errorf("staking: genesis delegation %d below min_delegation", i)
		}
		if err := sum.Add(&d.Amount); err != nil {
			return fmt.Errorf("staking: summing genesis delegations: %w", err)
		}
	}
	if sum.Cmp(&g.TotalSupply) != 0 {
		return fmt.Errorf("staking: total_supply %s but balances, delegations and common pool sum to %s", &g.TotalSupply, sum)
	}
	return nil
}

// HasAccount reports whether addr has a balance or receives a delegation at genesis.
func (g *Genesis) HasAccount(addr Address) bool {
	for i := range g.Accounts {
		if g.Accounts[i].Address == addr {
			return true
		}
	}
	for i := range g.Delegations {
		if g.Delegations[i].To == addr || g.Delegations[i].From == addr {
			return true
		}
	}
	return false
}
