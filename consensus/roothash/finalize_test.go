package roothash_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

func TestTheFirstEpochMakesAnEpochTransitionBlockAfterTheGenesisBlock(t *testing.T) {
	h := newHarness(t, options{})
	latest := h.expectLatest(api.HeaderTypeEpochTransition, 1)
	var genesisBlock api.Header
	if err := h.query(api.QueryBlock, &api.BlockQuery{ID: h.rt.ID, Round: 0}, &genesisBlock); err != nil {
		t.Fatal(err)
	}
	if genesisBlock.HeaderType != api.HeaderTypeNormal || genesisBlock.StateRoot != h.rt.Genesis.StateRoot {
		t.Fatalf("genesis block %+v does not come from the descriptor", genesisBlock)
	}
	if latest.PreviousHash != genesisBlock.Hash() || latest.StateRoot != genesisBlock.StateRoot || latest.IORoot != genesisBlock.IORoot {
		t.Fatal("the epoch transition block does not chain to and carry the genesis block's roots")
	}
	if rs := h.runtimeState(); rs.Executor == nil || rs.Storage == nil || rs.Suspended {
		t.Fatalf("runtime state after the first election: %+v", rs)
	}
}

func TestAllWorkersAgreeingFinalizesANormalBlockWithTheSchedulersRootsAndReceipts(t *testing.T) {
	h := newHarness(t, options{})
	sched := h.schedulerOf(2)
	c := h.commit(sched, commitOpts{})
	res := h.commitAll(commitOpts{}, "w0", "w1", "w2")
	hdr := h.expectLatest(api.HeaderTypeNormal, 2)
	body, err := c.Body()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.IORoot != body.Header.IORoot || hdr.StateRoot != body.Header.StateRoot || hdr.MessagesHash != body.Header.MessagesHash {
		t.Fatal("the Normal block does not carry the scheduler's results")
	}
	if len(hdr.StorageSignatures) != len(body.StorageSignatures) || hdr.StorageSignatures[0] != body.StorageSignatures[0] {
		t.Fatal("the Normal block does not carry the scheduler's storage signatures")
	}
	var committed, finalized, blocks int
	for _, ev := range h.events(res) {
		switch e := ev.(type) {
		case api.Event:
			if e.ExecutorCommitted != nil {
				committed++
			}
			if e.Finalized != nil && e.Finalized.Round == 2 {
				finalized++
			}
		case api.NewBlockEvent:
			blocks++
		}
	}
	if committed != 3 || finalized != 1 || blocks != 1 {
		t.Fatalf("events: %d committed, %d finalized, %d new blocks; want 3, 1, 1", committed, finalized, blocks)
	}
	if rs := h.runtimeState(); rs.NextTimeout != 0 {
		t.Fatalf("the new block left the timer armed at %d", rs.NextTimeout)
	}
	// The pool is empty again: the next round takes commitments on the new block.
	h.commitAll(commitOpts{result: "B"}, "w0", "w1", "w2")
	h.expectLatest(api.HeaderTypeNormal, 3)
}

func TestOneTransactionMayCarryTheWholeCommitteesCommitments(t *testing.T) {
	h := newHarness(t, options{})
	cs := []api.ExecutorCommitment{h.commit("w0", commitOpts{}), h.commit("w1", commitOpts{}), h.commit("w2", commitOpts{})}
	res := h.deliverOK(h.commitTx("w0", cs...))
	h.expectLatest(api.HeaderTypeNormal, 2)
	if used, want := res.TxResults[0].GasUsed, int64(3*1000); used < want {
		t.Fatalf("gas used %d, want at least %d (per commitment)", used, want)
	}
}

func TestAnInvalidCommitmentRejectsTheWholeTransaction(t *testing.T) {
	h := newHarness(t, options{})
	good := h.commit("w0", commitOpts{})
	stranger := h.commit("s0", commitOpts{}) // a storage node is no executor
	h.deliverErr(h.commitTx("w0", good, stranger), api.ErrNotInCommittee)
	if rs := h.runtimeState(); rs.NextTimeout != 0 {
		t.Fatal("the rejected transaction armed the timer")
	}
	stale := h.latest()
	h.commitAll(commitOpts{}, "w0", "w1", "w2")
	h.deliverErr(h.commitTx("w1", h.commit("w1", commitOpts{on: &stale})), api.ErrWrongRound)
	h.deliverErr(h.commitTx("b0", h.commit("b0", commitOpts{})), api.ErrBackupOutsideDiscrepancy)
}

// stakingTransfer is a runtime message moving amount from the runtime's account to addr.
func stakingTransfer(to stakingapi.Address, amount uint64) api.Message {
	return api.Message{Staking: &api.StakingMessage{Transfer: &stakingapi.Transfer{To: to, Amount: *quantity.NewFromUint64(amount)}}}
}

func TestMessagesExecuteOneByOneAndAFailingOneIsRevertedAlone(t *testing.T) {
	h := newHarness(t, options{})
	alice := stakingapi.NewAddress(h.entity["w0"].Public())
	bob := stakingapi.NewAddress(h.entity["w1"].Public())
	aliceBefore, bobBefore := h.balance(alice), h.balance(bob)
	newDescriptor := h.rt
	newDescriptor.Executor.MaxMessages = 16
	msgs := []api.Message{
		stakingTransfer(alice, 1_000),
		stakingTransfer(bob, runtimeEndowment), // more than is left: fails alone
		stakingTransfer(bob, 500),
		{Staking: &api.StakingMessage{AddEscrow: &stakingapi.Escrow{Account: bob, Amount: quantity.Quantity{}}}}, // zero escrow: fails
		{Registry: &api.RegistryMessage{UpdateRuntime: cbor.Marshal(&newDescriptor)}},
	}
	h.commitAll(commitOpts{messages: msgs}, "w0", "w1", "w2")
	h.expectLatest(api.HeaderTypeNormal, 2)
	if got := h.balance(alice) - aliceBefore; got != 1_000 {
		t.Fatalf("alice received %d, want 1000", got)
	}
	if got := h.balance(bob) - bobBefore; got != 500 {
		t.Fatalf("bob received %d, want only the 500 of the message that succeeded", got)
	}
	if got := h.balance(h.runtimeAddress()); got != runtimeEndowment-1_500 {
		t.Fatalf("runtime account holds %d, want %d", got, runtimeEndowment-1_500)
	}
	rr := h.roundResults()
	if len(rr.Messages) != len(msgs) {
		t.Fatalf("%d message results, want %d", len(rr.Messages), len(msgs))
	}
	for i, wantOK := range []bool{true, false, true, false, true} {
		m := rr.Messages[i]
		if m.Index != uint32(i) || m.IsSuccess() != wantOK {
			t.Fatalf("message %d: result %+v, want success %t", i, m, wantOK)
		}
	}
	if m := rr.Messages[1]; m.Module != stakingapi.ModuleName || m.Code != 2 {
		t.Fatalf("the failed transfer recorded %s/%d, want staking's insufficient balance", m.Module, m.Code)
	}
	// The registry applied the runtime-governed update; roothash keeps its snapshot until the
	// next epoch transition.
	if rs := h.runtimeState(); rs.Runtime.Executor.MaxMessages != 8 {
		t.Fatal("the descriptor update took effect before the next epoch transition")
	}
	h.checkSupply()
}

func TestRoundResultsAreDeliveredUntilTheNextNormalBlock(t *testing.T) {
	h := newHarness(t, options{})
	msgs := []api.Message{stakingTransfer(h.runtimeAddress(), 1)}
	h.commitAll(commitOpts{messages: msgs}, "w0", "w1", "w2")
	// A round that fails makes a RoundFailed block; the results stay.
	h.idle(proposeTimeout - 1)
	h.deliverOK(h.tx(h.keys["w0"], api.MethodProposerTimeout, &api.ProposerTimeout{ID: h.rt.ID, Round: 3}))
	h.idle(roundTimeout)
	h.expectLatest(api.HeaderTypeRoundFailed, 3)
	if rr := h.roundResults(); len(rr.Messages) != 1 {
		t.Fatalf("round results after a RoundFailed block: %+v, want the Normal block's", rr)
	}
	if rs := h.runtimeState(); rs.LastNormalRound != 2 {
		t.Fatalf("last normal round %d, want 2", rs.LastNormalRound)
	}
	h.commitAll(commitOpts{}, "w0", "w1", "w2")
	h.expectLatest(api.HeaderTypeNormal, 4)
	if rr := h.roundResults(); len(rr.Messages) != 0 {
		t.Fatalf("round results after the next Normal block: %+v, want none", rr)
	}
}

func TestOnlyTheLatestBlocksStayQueryableByRound(t *testing.T) {
	h := newHarness(t, options{})
	for range 6 {
		h.commitAll(commitOpts{}, "w0", "w1", "w2")
	}
	latest := h.expectLatest(api.HeaderTypeNormal, 7)
	var hdr api.Header
	if err := h.query(api.QueryBlock, &api.BlockQuery{ID: h.rt.ID, Round: latest.Round - 4}, &hdr); err != nil || hdr.Round != latest.Round-4 {
		t.Fatalf("block %d: %v", latest.Round-4, err)
	}
	if err := h.query(api.QueryBlock, &api.BlockQuery{ID: h.rt.ID, Round: latest.Round - 5}, &hdr); err == nil {
		t.Fatal("a block beyond max_past_roots_stored is still stored")
	}
}
