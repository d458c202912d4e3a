package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/e2e/network"
)

// accountJSON is the part of `atoll stake account --json` the tests read.
type accountJSON struct {
	Address string `json:"address"`
	Height  int64  `json:"height"`
	Account struct {
		General struct {
			Balance string `json:"balance"`
			Nonce   uint64 `json:"nonce"`
		} `json:"general"`
	} `json:"account"`
}

func balanceOf(t *testing.T, socket, addr string, height int64) accountJSON {
	t.Helper()
	var a accountJSON
	atollJSON(t, &a, "stake", "account", "--socket", socket, "--address", addr, "--height", strconv.FormatInt(height, 10), "--json")
	return a
}

// TestAOneValidatorChainTransfersSurvivesAKillAndReplaysFromGenesis runs a real one-validator
// node: transfers through the CLI, checks balances and the epoch, kills the node with SIGKILL
// and restarts it (state intact, the chain goes on), then wipes the application's state and
// restarts it again, so that CometBFT replays every block from genesis into a fresh state,
// which must reproduce the same state roots.
func TestAOneValidatorChainTransfersSurvivesAKillAndReplaysFromGenesis(t *testing.T) {
	net := startNetwork(t, network.Fixture{Validators: 1, EpochInterval: 5, TimeoutCommit: 100 * time.Millisecond})
	m := net.Manifest()
	entity := m.Nodes[0].Address.String()
	dataDir, socket := m.NodeDir(0), m.Socket(0)
	waitNode(t, net, 0, 2, 30*time.Second)

	// A transfer through the CLI, and the balances it leaves.
	const recipient = "00" + "0102030405060708090a0b0c0d0e0f1011121314"
	before := balanceOf(t, socket, entity, 0)
	var tx struct {
		Height int64  `json:"height"`
		TxHash string `json:"tx_hash"`
		Nonce  uint64 `json:"nonce"`
		Error  any    `json:"error"`
	}
	atollJSON(t, &tx, "stake", "transfer", "--datadir", dataDir, "--to", recipient, "--amount", "1000", "--json")
	if tx.Height == 0 || tx.Error != nil || tx.Nonce != before.Account.General.Nonce {
		t.Fatalf("transfer: %+v (nonce before %d)", tx, before.Account.General.Nonce)
	}
	// A second one right away: the nonce is fetched again, so it must follow.
	atollJSON(t, &tx, "stake", "transfer", "--socket", socket, "--key", filepath.Join(dataDir, "entity.pem"), "--to", recipient, "--amount", "234", "--json")
	if tx.Error != nil || tx.Nonce != before.Account.General.Nonce+1 {
		t.Fatalf("second transfer: %+v", tx)
	}
	got := balanceOf(t, socket, recipient, tx.Height)
	if got.Account.General.Balance != "1234" {
		t.Fatalf("recipient balance %s, want 1234", got.Account.General.Balance)
	}
	sender := balanceOf(t, socket, entity, tx.Height)
	wantSender := mustUint(t, before.Account.General.Balance) - 1234 // the dev genesis charges no fee
	if mustUint(t, sender.Account.General.Balance) != wantSender || sender.Account.General.Nonce != before.Account.General.Nonce+2 {
		t.Fatalf("sender %+v, want balance %d", sender.Account.General, wantSender)
	}

	// A rejected transfer says why, with its coded error.
	if _, err := atollErr(t, "stake", "transfer", "--datadir", dataDir, "--to", recipient, "--amount", "1"+before.Account.General.Balance); err == nil {
		t.Fatal("a transfer of more than the balance succeeded")
	}

	// The epoch is height / epoch_interval.
	var epoch struct {
		Height      int64  `json:"height"`
		Epoch       uint64 `json:"epoch"`
		StartHeight int64  `json:"start_height"`
		Interval    int64  `json:"interval"`
	}
	atollJSON(t, &epoch, "status", "epoch", "--socket", socket, "--json")
	if epoch.Interval != 5 || epoch.Epoch != uint64(epoch.Height/5) || epoch.StartHeight != max(1, epoch.Height/5*5) {
		t.Fatalf("epoch %+v", epoch)
	}

	// Kill the node mid-flight and restart it: the chain goes on from where it was.
	st := waitNode(t, net, 0, tx.Height+2, 30*time.Second)
	roots := stateRoots(t, client(t, net, 0), st.CommittedHeight)
	if err := net.Kill(0); err != nil {
		t.Fatal(err)
	}
	if _, err := atollErr(t, "status", "--socket", socket); err == nil {
		t.Fatal("status answered with the node killed")
	}
	if err := net.Start(0); err != nil {
		t.Fatal(err)
	}
	waitNode(t, net, 0, st.CommittedHeight+3, 30*time.Second)
	if again := balanceOf(t, socket, recipient, 0); again.Account.General.Balance != "1234" {
		t.Fatalf("after the restart the recipient has %s", again.Account.General.Balance)
	}
	checkStateRoots(t, client(t, net, 0), roots)

	// Wipe the application state: CometBFT replays the whole chain into a fresh state, whose
	// final root it checks against the stored one (a mismatch stops the node).
	st = waitNode(t, net, 0, 0, 10*time.Second)
	if err := net.Stop(0); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dataDir, "app")); err != nil {
		t.Fatal(err)
	}
	if err := net.Start(0); err != nil {
		t.Fatal(err)
	}
	waitNode(t, net, 0, st.CommittedHeight+2, 45*time.Second)
	checkStateRoots(t, client(t, net, 0), roots)
	if again := balanceOf(t, socket, recipient, tx.Height); again.Account.General.Balance != "1234" {
		t.Fatalf("after the replay the recipient had %s at height %d", again.Account.General.Balance, tx.Height)
	}
}

// stateRoots returns the state root after each block up to height, from the node's stored
// block results.
func stateRoots(t *testing.T, c *grpcapi.Client, height int64) map[int64]hash.Hash {
	t.Helper()
	roots := make(map[int64]hash.Hash, height)
	for h := int64(1); h <= height; h++ {
		b, err := c.Block(context.Background(), h)
		if err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		roots[h] = b.StateRoot
	}
	return roots
}

// checkStateRoots checks that the recorded roots are still the chain's: each block's header
// carries the root after the previous block, which the application computed again.
func checkStateRoots(t *testing.T, c *grpcapi.Client, roots map[int64]hash.Hash) {
	t.Helper()
	for h, want := range roots {
		b, err := c.Block(context.Background(), h+1)
		if err != nil {
			t.Fatalf("block %d: %v", h+1, err)
		}
		if b.AppHash != want {
			t.Fatalf("block %d carries app hash %s, the root after block %d was %s", h+1, b.AppHash, h, want)
		}
	}
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last, err := c.Block(context.Background(), st.CommittedHeight); err != nil || last.StateRoot != st.StateRoot {
		t.Fatalf("the last block's result root %v differs from the application's %s (%v)", last, st.StateRoot, err)
	}
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
