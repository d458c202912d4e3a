package roothash_test

import (
	"testing"

	"github.com/atoll-project/atoll/consensus/roothash/api"
)

func TestReplayingAChainReproducesItsAppHashes(t *testing.T) {
	h := newHarness(t, options{epochInterval: 10})
	// Finalization with messages, a discrepancy with a slash, evidence, a failed round and an
	// epoch transition.
	h.commitAll(commitOpts{messages: []api.Message{stakingTransfer(h.runtimeAddress(), 7)}}, "w0", "w1", "w2")
	h.commitAll(commitOpts{}, "w0", "w2")
	h.commitAll(commitOpts{result: "B"}, "w1")
	h.commitAll(commitOpts{}, "b0", "b2")
	h.deliverOK(h.evidenceTx(&api.Evidence{Executor: &api.ExecutorEquivocation{
		CommitA: h.commit("w2", commitOpts{result: "A"}),
		CommitB: h.commit("w2", commitOpts{result: "C"}),
	}}))
	h.deliverOK(h.proposerTimeoutTx("w0"))
	for h.chain.NextHeight() <= 10 {
		h.deliverOK()
	}
	h.expectLatest(api.HeaderTypeEpochTransition, 4)
	replayed, err := h.chain.Replay()
	if err != nil {
		t.Fatal(err)
	}
	replayed.Close()
	if err := h.chain.Reopen(); err != nil {
		t.Fatal(err)
	}
	h.commitAll(commitOpts{}, "w0", "w1", "w2")
	h.expectLatest(api.HeaderTypeNormal, 5)
}
