package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/e2e/network"
)

// TestAFourValidatorNetworkFinalizesWithoutOneValidatorAndTheRestartedOneCatchesUp runs four
// validators of equal power as real processes. Transfers submitted through different nodes
// are committed everywhere; one validator is killed with SIGKILL and the other three, with
// three quarters of the power, go on finalizing blocks that carry more transfers; restarted,
// the killed validator catches up, proposes blocks again, and every node agrees on every
// block's hash, app hash and resulting state root, and on the balances.
func TestAFourValidatorNetworkFinalizesWithoutOneValidatorAndTheRestartedOneCatchesUp(t *testing.T) {
	const victim = 3
	net := startNetwork(t, network.Fixture{Validators: 4, Accounts: 2, EpochInterval: 5, TimeoutCommit: 250 * time.Millisecond})
	m := net.Manifest()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Transfers through two different nodes, committed on all four.
	to := freshAddress(t)
	a, err := sendTransfers(ctx, client(t, net, 0), accountSigner(t, net, 0), to, 3, 100)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sendTransfers(ctx, client(t, net, 2), accountSigner(t, net, 1), to, 2, 1_000)
	if err != nil {
		t.Fatal(err)
	}
	h := max(a.last.Height, b.last.Height)
	waitHeight(t, net, h, time.Minute)
	for i := range m.Nodes {
		if got := balance(ctx, t, client(t, net, i), to, h); got != a.sent+b.sent {
			t.Fatalf("%s: the recipient has %d at height %d, want %d", m.Nodes[i].Name, got, h, a.sent+b.sent)
		}
	}

	// Kill one validator: the other three hold more than two thirds of the power, so blocks
	// keep being finalized, transfers included.
	if err := net.Kill(victim); err != nil {
		t.Fatal(err)
	}
	var top int64
	for i := range victim {
		st, err := net.Status(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		top = max(top, st.CommittedHeight)
	}
	waitHeight(t, net, top+3, time.Minute)
	c, err := sendTransfers(ctx, client(t, net, 1), accountSigner(t, net, 0), to, 2, 10)
	if err != nil {
		t.Fatalf("a transfer with a validator down: %v", err)
	}
	waitHeight(t, net, c.last.Height, time.Minute)

	// Restart it: it replays its own chain, fetches the blocks it missed and rejoins consensus.
	if err := net.Start(victim); err != nil {
		t.Fatal(err)
	}
	st, err := net.Status(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	rejoined := waitNode(t, net, victim, st.CommittedHeight, 90*time.Second)
	if got := balance(ctx, t, client(t, net, victim), to, c.last.Height); got != a.sent+b.sent+c.sent {
		t.Fatalf("the restarted node says the recipient had %d at height %d, want %d", got, c.last.Height, a.sent+b.sent+c.sent)
	}
	proposal := waitProposal(ctx, t, net, 0, m.Nodes[victim].ValidatorAddress, rejoined.CommittedHeight+1)
	t.Logf("%s was killed after height %d, caught up to %d and proposed block %d", m.Nodes[victim].Name, top, rejoined.CommittedHeight, proposal)

	// Every node has every block up to a common height, and they all agree on it.
	common := proposal
	waitHeight(t, net, common, time.Minute)
	sameChain(ctx, t, net, common)
	for i := range m.Nodes {
		if got := balance(ctx, t, client(t, net, i), to, common); got != a.sent+b.sent+c.sent {
			t.Fatalf("%s: the recipient has %d at height %d, want %d", m.Nodes[i].Name, got, common, a.sent+b.sent+c.sent)
		}
	}
	if st, err := net.Status(ctx, victim); err != nil || st.CatchingUp || !st.Validator {
		t.Fatalf("the restarted node's status: %+v (%v)", st, err)
	}
}

// waitProposal waits, watching node i, for the first block from height from on that the
// validator with CometBFT address proposer proposed, and returns its height. Proposers rotate
// among validators of equal power, so a validator that takes part in consensus gets its turn
// within a few blocks.
func waitProposal(ctx context.Context, t *testing.T, net *network.Network, i int, proposer string, from int64) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for h := from; ; h++ {
		if _, err := net.WaitNodeHeight(ctx, i, h); err != nil {
			t.Fatalf("no block proposed by %s from height %d on: %v", proposer, from, err)
		}
		blk, err := client(t, net, i).Block(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if blk.Proposer == proposer {
			return h
		}
	}
}

// sameChain checks that every node has the same blocks from height 1 to height: the same
// block hash, app hash (the state root before the block) and state root after it.
func sameChain(ctx context.Context, t *testing.T, net *network.Network, height int64) {
	t.Helper()
	m := net.Manifest()
	for h := int64(1); h <= height; h++ {
		var want *grpcapi.Block
		for i := range m.Nodes {
			blk, err := client(t, net, i).Block(ctx, h)
			if err != nil {
				t.Fatalf("%s: block %d: %v", m.Nodes[i].Name, h, err)
			}
			if want == nil {
				want = blk
				continue
			}
			if blk.Hash != want.Hash || blk.AppHash != want.AppHash || blk.StateRoot != want.StateRoot {
				t.Fatalf("block %d: %s has hash %s, app hash %s, state root %s; %s has %s, %s, %s",
					h, m.Nodes[0].Name, want.Hash, want.AppHash, want.StateRoot,
					m.Nodes[i].Name, blk.Hash, blk.AppHash, blk.StateRoot)
			}
		}
	}
}
