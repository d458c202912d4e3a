package api

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/quantity"
)

func qty(n uint64) *quantity.Quantity { return quantity.NewFromUint64(n) }

func TestSharePoolArithmeticMatchesTheGoldenCases(t *testing.T) {
	for _, tc := range []struct {
		name            string
		balance, shares uint64
		deposit         uint64
		wantShares      uint64
		withdraw        uint64
		wantTokens      uint64
	}{
		{"the first deposit gets shares one to one", 0, 0, 100, 100, 100, 100},
		{"a deposit at an even rate", 1000, 1000, 250, 250, 250, 250},
		{"a deposit after a slash buys more shares", 500, 1000, 100, 200, 300, 150},
		{"a deposit rounds its shares down", 1000, 333, 10, 3, 1, 3},
		{"a withdrawal rounds its tokens down", 1000, 3, 1, 0, 1, 333},
		{"a deposit after rewards buys fewer shares", 2000, 1000, 999, 499, 1499, 2999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := SharePool{Balance: *qty(tc.balance), TotalShares: *qty(tc.shares)}
			shares, err := p.Deposit(qty(tc.deposit))
			if err != nil {
				t.Fatal(err)
			}
			if shares.ToBigInt().Uint64() != tc.wantShares {
				t.Fatalf("deposit of %d got %s shares, want %d", tc.deposit, shares, tc.wantShares)
			}
			tokens, err := p.Withdraw(qty(tc.withdraw))
			if err != nil {
				t.Fatal(err)
			}
			if tokens.ToBigInt().Uint64() != tc.wantTokens {
				t.Fatalf("withdrawing %d shares gave %s tokens, want %d", tc.withdraw, tokens, tc.wantTokens)
			}
		})
	}
}

func TestAPoolSlashedToZeroIssuesNoShares(t *testing.T) {
	p := SharePool{TotalShares: *qty(10)}
	if _, err := p.Deposit(qty(5)); !errors.Is(err, ErrEmptyPool) {
		t.Fatalf("deposit into an emptied pool: %v", err)
	}
	if p.TotalShares.ToBigInt().Uint64() != 10 || !p.Balance.IsZero() {
		t.Fatal("failed deposit changed the pool")
	}
}

func TestWithdrawingMoreSharesThanThePoolHasFails(t *testing.T) {
	p := SharePool{Balance: *qty(10), TotalShares: *qty(10)}
	if _, err := p.Withdraw(qty(11)); !errors.Is(err, ErrInsufficientStake) {
		t.Fatalf("got %v", err)
	}
}
