package roothash_test

import (
	"testing"

	"github.com/atoll-project/atoll/consensus/roothash/api"
)

func (h *harness) evidenceTx(ev *api.Evidence) []byte {
	return h.tx(h.funder, api.MethodSubmitEvidence, &api.SubmitEvidence{ID: h.rt.ID, Evidence: *ev})
}

func TestSubmittedEquivocationEvidenceIsSlashedOnce(t *testing.T) {
	h := newHarness(t, options{})
	ev := &api.Evidence{Executor: &api.ExecutorEquivocation{
		CommitA: h.commit("w1", commitOpts{result: "A"}),
		CommitB: h.commit("w1", commitOpts{result: "B"}),
	}}
	runtimeBefore := h.balance(h.runtimeAddress())
	h.deliverOK(h.evidenceTx(ev))
	if got := h.slashedBy("w1"); got != equivocationSlash {
		t.Fatalf("w1 lost %d, want %d", got, equivocationSlash)
	}
	if got := h.balance(h.runtimeAddress()) - runtimeBefore; got != equivocationSlash {
		t.Fatalf("the runtime's account received %d", got)
	}
	if st := h.status("w1"); st.FrozenUntil == 0 {
		t.Fatal("the equivocating node is not frozen")
	}
	h.deliverErr(h.evidenceTx(ev), api.ErrAlreadySlashed)
	same := &api.Evidence{Executor: &api.ExecutorEquivocation{CommitA: ev.Executor.CommitA, CommitB: ev.Executor.CommitA}}
	h.deliverErr(h.evidenceTx(same), api.ErrInvalidEvidence)
	if got := h.slashedBy("w1"); got != equivocationSlash {
		t.Fatalf("w1 lost %d after the repeats, want %d", got, equivocationSlash)
	}
	h.checkSupply()
}

func TestAnEquivocationInThePoolIsSlashedAndItsEvidenceThenRejected(t *testing.T) {
	h := newHarness(t, options{})
	a, b := h.commit("w1", commitOpts{result: "A"}), h.commit("w1", commitOpts{result: "B"})
	h.deliverOK(h.commitTx("w1", a))
	h.deliverOK(h.commitTx("w1", b))
	if got := h.slashedBy("w1"); got != equivocationSlash {
		t.Fatalf("w1 lost %d, want %d", got, equivocationSlash)
	}
	h.deliverErr(h.evidenceTx(&api.Evidence{Executor: &api.ExecutorEquivocation{CommitA: a, CommitB: b}}), api.ErrAlreadySlashed)
}

func TestEvidenceOlderThanMaxEvidenceAgeIsRejected(t *testing.T) {
	h := newHarness(t, options{maxEvidenceAge: 2})
	ev := &api.Evidence{Executor: &api.ExecutorEquivocation{
		CommitA: h.commit("w0", commitOpts{result: "A"}),
		CommitB: h.commit("w0", commitOpts{result: "B"}),
	}}
	for range 3 {
		h.commitAll(commitOpts{}, "w0", "w1", "w2")
	}
	// Evidence of round 2 while round 5 is executed: 2 + 2 < 5.
	h.deliverErr(h.evidenceTx(ev), api.ErrEvidenceTooOld)
	if got := h.slashedBy("w0"); got != 0 {
		t.Fatalf("too-old evidence slashed %d", got)
	}
}
