package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/node"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/e2e/network"
)

// TestARegisteredValidatorNodeJoinsTheSetAtTheNextEpochAndLeavesWhenItExpires runs one genesis
// validator and one full node with keys of its own (not in the genesis document) as real
// processes. The full node's entity is funded from a genesis account, escrows stake with
// itself (the dev genesis's validator threshold is zero, so any escrow meets it), registers,
// and registers the node with the validator role (DESIGN.md §3, Registry → Validators). At the
// next epoch transition the node joins CometBFT's validator set with its entity's escrow as
// power, proposes blocks, and signs every block while it is in the set (its power makes it
// needed for a two-thirds majority); once its registration has expired it leaves the set, and
// the original validator goes on finalizing blocks alone.
func TestARegisteredValidatorNodeJoinsTheSetAtTheNextEpochAndLeavesWhenItExpires(t *testing.T) {
	const (
		joiner = 1
		// escrow is the joiner's power, equal to the genesis validator's 10: neither holds more
		// than two thirds of the 20, so no block is finalized without the joiner's precommit.
		escrow          = 10
		expirationEpoch = 3
	)
	net := startNetwork(t, network.Fixture{Validators: 1, FullNodes: 1, Accounts: 1, EpochInterval: 8,
		TimeoutCommit: 250 * time.Millisecond, CometRPC: true})
	m := net.Manifest()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rpc := newCometRPC(t, m.Nodes[0].RPCAddress)
	newAddr := m.Nodes[joiner].ValidatorAddress

	if st, err := net.Status(ctx, joiner); err != nil || st.Validator {
		t.Fatalf("the full node's status before it registers: %+v (%v)", st, err)
	}
	if vals := rpc.validators(t, 0); len(vals) != 1 || !strings.EqualFold(vals[0].Address, m.Nodes[0].ValidatorAddress) {
		t.Fatalf("the genesis validator set: %+v", vals)
	}

	// Fund the joiner's entity, escrow with itself, register the entity and the node; all
	// through node-0's socket, the joiner's keys taken from its data directory.
	sock := m.Socket(0)
	dir := m.NodeDir(joiner)
	entity := m.Nodes[joiner].Address.String()
	atoll(t, "stake", "transfer", "--socket", sock, "--key", filepath.Join(m.Dir, m.Accounts[0].KeyFile),
		"--to", entity, "--amount", "1000000")
	atoll(t, "stake", "escrow", "--socket", sock, "--datadir", dir, "--to", entity, "--amount", strconv.Itoa(escrow))
	atoll(t, "registry", "entity", "register", "--socket", sock, "--datadir", dir)
	var reg struct {
		Node  node.Node        `json:"node"`
		Epoch beacon.EpochTime `json:"epoch"`
	}
	atollJSON(t, &reg, "registry", "node", "register", "--socket", sock, "--datadir", dir, "--json",
		"--roles", "validator", "--expiration-epochs", strconv.Itoa(expirationEpoch),
		"--consensus-address", m.Nodes[joiner].P2PAddress)
	if want := uint64(reg.Epoch) + expirationEpoch; reg.Node.Expiration != want {
		t.Fatalf("the node registered in epoch %d expires after epoch %d, want %d", reg.Epoch, reg.Node.Expiration, want)
	}
	t.Logf("node registered in epoch %d, expiring after epoch %d", reg.Epoch, reg.Node.Expiration)

	// It joins at the next epoch transition, not before: the first height whose validator set
	// holds it is in a later epoch than the registration.
	joined := waitValidatorSet(ctx, t, net, rpc, newAddr, true)
	if ep := epochAt(ctx, t, net, joined); ep <= reg.Epoch {
		t.Fatalf("the node is in the validator set at height %d, in epoch %d, the epoch it registered in", joined, ep)
	}
	for _, v := range rpc.validators(t, joined) {
		if strings.EqualFold(v.Address, newAddr) && v.VotingPower != strconv.Itoa(escrow) {
			t.Fatalf("the node's voting power at height %d is %s, want its entity's escrow %d", joined, v.VotingPower, escrow)
		}
	}
	// It takes part in consensus: proposers rotate by power, so it gets its turn (signing a
	// proposal) within a few blocks, well before its registration expires.
	proposed := waitProposal(ctx, t, net, 0, newAddr, joined)
	if ep := epochAt(ctx, t, net, proposed); uint64(ep) > reg.Node.Expiration {
		t.Fatalf("the node's first proposal, block %d, is in epoch %d, after its registration expired (epoch %d)", proposed, ep, reg.Node.Expiration)
	}
	st, err := net.Status(ctx, joiner)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Validator || st.VotingPower != escrow {
		t.Fatalf("the joined node's status: validator %v, power %d; want a validator with power %d", st.Validator, st.VotingPower, escrow)
	}
	t.Logf("the node joined the validator set at height %d (epoch %d) and proposed block %d",
		joined, epochAt(ctx, t, net, joined), proposed)

	// It leaves once its registration has expired: the first height without it is in an epoch
	// after its expiration epoch.
	left := waitValidatorSet(ctx, t, net, rpc, newAddr, false)
	if ep := epochAt(ctx, t, net, left); uint64(ep) <= reg.Node.Expiration {
		t.Fatalf("the node left the validator set at height %d, in epoch %d, before its registration expired (epoch %d)", left, ep, reg.Node.Expiration)
	}
	if ep := epochAt(ctx, t, net, left-1); uint64(ep) < reg.Node.Expiration {
		t.Fatalf("the node was out of the validator set by epoch %d, before its registration expired (epoch %d)", ep, reg.Node.Expiration)
	}
	t.Logf("the node left the validator set at height %d (epoch %d)", left, epochAt(ctx, t, net, left))

	// While it was in the set, every block's commit carries its precommit: it signed them all.
	for h := joined; h < left; h++ {
		signers := rpc.commitSigners(t, h)
		if !slices.ContainsFunc(signers, func(a string) bool { return strings.EqualFold(a, newAddr) }) {
			t.Fatalf("the commit of height %d, while the node was a validator, is signed by %v only", h, signers)
		}
	}

	// The original validator goes on alone: later blocks are committed by it only.
	waitHeight(t, net, left+3, time.Minute)
	for h := left; h <= left+2; h++ {
		vals := rpc.validators(t, h)
		if len(vals) != 1 || !strings.EqualFold(vals[0].Address, m.Nodes[0].ValidatorAddress) {
			t.Fatalf("validators at height %d: %+v", h, vals)
		}
		sigs := rpc.commitSigners(t, h)
		if len(sigs) != 1 || !strings.EqualFold(sigs[0], m.Nodes[0].ValidatorAddress) {
			t.Fatalf("the commit of height %d is signed by %v, want only %s", h, sigs, m.Nodes[0].ValidatorAddress)
		}
	}
	if st, err := net.Status(ctx, joiner); err != nil || st.Validator {
		t.Fatalf("the expired node's status: %+v (%v)", st, err)
	}
	sameChain(ctx, t, net, left+2)
}

// waitValidatorSet walks node-0's blocks from its current height until the first height whose
// validator set holds (in) or does not hold (!in) the validator with CometBFT address addr, and
// returns that height.
func waitValidatorSet(ctx context.Context, t *testing.T, net *network.Network, rpc *cometRPC, addr string, in bool) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	st, err := net.Status(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for h := max(st.CommittedHeight, 1); ; h++ {
		if _, err := net.WaitNodeHeight(ctx, 0, h); err != nil {
			t.Fatalf("waiting for %s to be in the validator set = %v, from height %d on: %v", addr, in, st.CommittedHeight, err)
		}
		found := false
		for _, v := range rpc.validators(t, h) {
			found = found || strings.EqualFold(v.Address, addr)
		}
		if found == in {
			return h
		}
	}
}

// epochAt returns node-0's epoch at height h.
func epochAt(ctx context.Context, t *testing.T, net *network.Network, h int64) beacon.EpochTime {
	t.Helper()
	e, err := client(t, net, 0).Epoch(ctx, h)
	if err != nil {
		t.Fatalf("the epoch at height %d: %v", h, err)
	}
	return e.Epoch
}

// cometRPC queries a node's CometBFT RPC server (Fixture.CometRPC), which exposes validator
// sets and commit signatures by height.
type cometRPC struct {
	base   string
	client *http.Client
}

func newCometRPC(t *testing.T, addr string) *cometRPC {
	t.Helper()
	if addr == "" {
		t.Fatal("the node has no CometBFT RPC address")
	}
	// No keep-alives: no idle connection outlives a test (TestMain checks for leaks).
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &cometRPC{base: "http://" + addr, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

func (c *cometRPC) get(t *testing.T, path string, out any) {
	t.Helper()
	resp, err := c.client.Get(c.base + path)
	if err != nil {
		t.Fatalf("CometBFT RPC %s: %v", path, err)
	}
	defer resp.Body.Close()
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("CometBFT RPC %s: %v", path, err)
	}
	if len(r.Error) > 0 && string(r.Error) != "null" {
		t.Fatalf("CometBFT RPC %s: %s", path, r.Error)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		t.Fatalf("CometBFT RPC %s: decoding %s: %v", path, r.Result, err)
	}
}

type cometValidator struct {
	Address     string `json:"address"`
	VotingPower string `json:"voting_power"`
}

// validators returns the validator set at height h (0: the latest).
func (c *cometRPC) validators(t *testing.T, h int64) []cometValidator {
	t.Helper()
	path := "/validators?per_page=100"
	if h > 0 {
		path += fmt.Sprintf("&height=%d", h)
	}
	var out struct {
		Validators []cometValidator `json:"validators"`
	}
	c.get(t, path, &out)
	return out.Validators
}

// commitSigners returns the addresses of the validators whose precommits for the block at
// height h its commit carries.
func (c *cometRPC) commitSigners(t *testing.T, h int64) []string {
	t.Helper()
	var out struct {
		SignedHeader struct {
			Commit struct {
				Signatures []struct {
					Flag    int    `json:"block_id_flag"`
					Address string `json:"validator_address"`
				} `json:"signatures"`
			} `json:"commit"`
		} `json:"signed_header"`
	}
	c.get(t, fmt.Sprintf("/commit?height=%d", h), &out)
	var signers []string
	for _, s := range out.SignedHeader.Commit.Signatures {
		if s.Flag == 2 { // BlockIDFlagCommit
			signers = append(signers, s.Address)
		}
	}
	return signers
}
