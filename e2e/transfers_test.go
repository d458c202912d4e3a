package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/e2e/network"
)

// transferBatch is what a batch of transfers from one account leaves behind.
type transferBatch struct {
	from staking.Address
	to   staking.Address
	// sent is the sum of the amounts, fees the sum of the fees.
	sent, fees uint64
	// last is the result of the batch's last transfer (the others were included before it).
	last *grpcapi.TxResult
}

// sendTransfers submits count transfers of amount from signer to to through c: all but the
// last into the mempool at once with consecutive nonces, then the last one waiting for its
// block. Nonces are spent in order, so when the last is included all are. It may run off the
// test's goroutine.
func sendTransfers(ctx context.Context, c *grpcapi.Client, signer signature.Signer, to staking.Address, count int, amount uint64) (transferBatch, error) {
	from := staking.NewAddress(signer.Public())
	fee, err := c.DefaultFee(ctx, staking.GasOpTransfer)
	if err != nil {
		return transferBatch{}, err
	}
	acct, err := c.Account(ctx, from, 0)
	if err != nil {
		return transferBatch{}, err
	}
	nonce := acct.Account.General.Nonce
	var raw [][]byte
	for k := range count {
		tx, _, err := c.Sign(ctx, signer, grpcapi.TxParams{
			Method: staking.MethodTransfer,
			Body:   &staking.Transfer{To: to, Amount: *quantity.NewFromUint64(amount)},
			Nonce:  nonce + uint64(k), Fee: fee,
		})
		if err != nil {
			return transferBatch{}, err
		}
		raw = append(raw, tx)
	}
	if count > 1 {
		verdicts, err := c.SubmitTxs(ctx, raw[:count-1])
		if err != nil {
			return transferBatch{}, err
		}
		for k, v := range verdicts {
			if v != nil {
				return transferBatch{}, fmt.Errorf("transfer %d from %s rejected: %w", k, from, v)
			}
		}
	}
	res, err := c.SubmitTx(ctx, raw[count-1])
	if err != nil {
		return transferBatch{}, fmt.Errorf("last transfer from %s: %w", from, err)
	}
	feeAmount := fee.Amount.ToBigInt().Uint64()
	return transferBatch{from: from, to: to, sent: uint64(count) * amount, fees: uint64(count) * feeAmount, last: res}, nil
}

// freshAddress returns the address of a new random key.
func freshAddress(t *testing.T) staking.Address {
	t.Helper()
	s, err := signature.GenerateSigner(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	return staking.NewAddress(s.Public())
}

// balance returns the general balance of addr at height on c's node.
func balance(ctx context.Context, t *testing.T, c *grpcapi.Client, addr staking.Address, height int64) uint64 {
	t.Helper()
	a, err := c.Account(ctx, addr, height)
	if err != nil {
		t.Fatalf("account %s at height %d: %v", addr, height, err)
	}
	return a.Account.General.Balance.ToBigInt().Uint64()
}

// accountSigner loads funded account i of the network.
func accountSigner(t *testing.T, net *network.Network, i int) signature.Signer {
	t.Helper()
	s, err := net.Manifest().AccountSigner(i)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Reset)
	return s
}

// TestTransfersOnAOneValidatorNetworkCommitWithTheRightBalances sends batches of transfers
// from several accounts at once to a one-validator network of a real node and checks every
// balance they touch, the fees paid to the validator's entity, and that each transfer is in
// the block its result names.
func TestTransfersOnAOneValidatorNetworkCommitWithTheRightBalances(t *testing.T) {
	const accounts, perAccount, amount = 3, 5, 1_000
	net := startNetwork(t, network.Fixture{Validators: 1, Accounts: accounts, TimeoutCommit: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := client(t, net, 0)
	m := net.Manifest()
	entity := m.Nodes[0].Address

	start, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := map[staking.Address]uint64{entity: balance(ctx, t, c, entity, start.CommittedHeight)}
	for _, a := range m.Accounts {
		before[a.Address] = balance(ctx, t, c, a.Address, start.CommittedHeight)
	}

	batches := make([]transferBatch, accounts)
	errs := make([]error, accounts)
	var wg sync.WaitGroup
	for i := range accounts {
		signer, to := accountSigner(t, net, i), freshAddress(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			batches[i], errs[i] = sendTransfers(ctx, c, signer, to, perAccount, amount)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	var height int64
	var fees uint64
	for _, b := range batches {
		height = max(height, b.last.Height)
		fees += b.fees
		blk, err := c.Block(ctx, b.last.Height)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(blk.TxHashes, b.last.Hash) {
			t.Fatalf("block %d does not hold transfer %s, which its result names", b.last.Height, b.last.Hash)
		}
	}
	for _, b := range batches {
		if got, want := balance(ctx, t, c, b.to, height), b.sent; got != want {
			t.Errorf("recipient %s has %d, want %d", b.to, got, want)
		}
		if got, want := balance(ctx, t, c, b.from, height), before[b.from]-b.sent-b.fees; got != want {
			t.Errorf("sender %s has %d, want %d", b.from, got, want)
		}
		if a, err := c.Account(ctx, b.from, height); err != nil || a.Account.General.Nonce != perAccount {
			t.Errorf("sender %s: nonce %v (%v), want %d", b.from, a, err, perAccount)
		}
	}
	// The only validator proposes every block, so its entity gets every fee.
	if got, want := balance(ctx, t, c, entity, height), before[entity]+fees; got != want {
		t.Errorf("the validator's entity has %d, want %d (fees %d)", got, want, fees)
	}
}
