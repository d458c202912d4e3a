package roothash_test

import (
	"testing"

	"github.com/atoll-project/atoll/consensus/roothash/api"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
)

func TestAnEpochTransitionMakesABlockWithTheNewCommitteeAndDiscardsThePool(t *testing.T) {
	h := newHarness(t, options{epochInterval: 10})
	h.commitAll(commitOpts{}, "w2") // round 2 waits for w0 and w1
	before := h.latest()
	next := h.election(backupNames, workerNames)
	h.deliverOK(h.tx(h.funder, methodTestSetElection, &next))
	for h.chain.NextHeight() < 10 {
		h.deliverOK()
	}
	if h.latest().Round != before.Round {
		t.Fatal("a block was made before the epoch transition")
	}
	h.deliverOK() // height 10: epoch 1
	hdr := h.expectLatest(api.HeaderTypeEpochTransition, 2)
	if hdr.StateRoot != before.StateRoot || hdr.IORoot != before.IORoot || hdr.PreviousHash != before.Hash() {
		t.Fatal("the epoch transition block does not carry the previous roots")
	}
	rs := h.runtimeState()
	if rs.Epoch != 1 || rs.Executor == nil || rs.Executor.Workers()[0] != h.keys["b0"].Public() {
		t.Fatalf("runtime state after the transition: epoch %d, committee %+v", rs.Epoch, rs.Executor)
	}
	if rs.NextTimeout != 0 {
		t.Fatal("the pool of the discarded round kept its timer")
	}
	// The old workers' round is gone; the new committee finalizes the next one.
	h.workers = backupNames
	h.deliverErr(h.commitTx("w1", h.commit("w1", commitOpts{on: &before})), api.ErrWrongRound)
	h.commitAll(commitOpts{}, "b0", "b1", "b2")
	h.expectLatest(api.HeaderTypeNormal, 3)
}

func TestASuspendedRuntimeGetsASuspendedBlockAndRejectsCommitments(t *testing.T) {
	h := newHarness(t, options{epochInterval: 10})
	h.commitAll(commitOpts{}, "w2")
	h.deliverOK(h.tx(h.funder, methodTestSuspend, h.rt.ID))
	hdr := h.expectLatest(api.HeaderTypeSuspended, 2)
	if len(hdr.StorageSignatures) != 0 {
		t.Fatal("a Suspended block carries storage signatures")
	}
	rs := h.runtimeState()
	if !rs.Suspended || rs.Executor != nil || rs.NextTimeout != 0 {
		t.Fatalf("runtime state after suspension: %+v", rs)
	}
	h.deliverErr(h.commitTx("w0", h.commit("w0", commitOpts{})), api.ErrRuntimeSuspended)
	// The registry still holds it suspended at the next epoch: no new block.
	for h.chain.NextHeight() <= 10 {
		h.deliverOK()
	}
	h.expectLatest(api.HeaderTypeSuspended, 2)
}

func TestAnElectionWithoutCommitteesSuspendsTheRuntime(t *testing.T) {
	h := newHarness(t, options{epochInterval: 10})
	none := schedulerapi.ElectionResult{RuntimeID: h.rt.ID, Outcome: schedulerapi.OutcomeTooFewExecutors}
	h.deliverOK(h.tx(h.funder, methodTestSetElection, &none))
	for h.chain.NextHeight() <= 10 {
		h.deliverOK()
	}
	h.expectLatest(api.HeaderTypeSuspended, 2)
}

func TestARuntimeRegisteredLaterGetsItsGenesisBlockAndStartsWithoutACommittee(t *testing.T) {
	h := newHarness(t, options{})
	rt := testRuntime(h.funder.Public())
	rt.ID[0] ^= 0xff
	rt.Genesis.Round = 41
	h.deliverOK(h.tx(h.funder, methodTestRegisterRuntime, &rt))
	var hdr api.Header
	if err := h.query(api.QueryLatestBlock, &api.RuntimeQuery{ID: rt.ID}, &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.HeaderType != api.HeaderTypeNormal || hdr.Round != 41 || hdr.Namespace != rt.ID {
		t.Fatalf("genesis block %+v", hdr)
	}
	c := h.commit("w0", commitOpts{})
	h.deliverErr(h.tx(h.keys["w0"], api.MethodExecutorCommit, &api.ExecutorCommit{ID: rt.ID, Commits: []api.ExecutorCommitment{c}}), api.ErrNoCommittee)
}
