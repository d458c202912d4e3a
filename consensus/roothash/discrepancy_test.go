package roothash_test

import (
	"testing"

	"github.com/atoll-project/atoll/consensus/roothash/api"
)

func discrepancyDeclared(evs []api.Event) bool {
	for _, e := range evs {
		if e.ExecutionDiscrepancyDetected != nil {
			return true
		}
	}
	return false
}

func TestBackupsResolvingForTheSchedulerFinalizeAndSlashTheDissentingWorker(t *testing.T) {
	h := newHarness(t, options{})
	// Round 2: w2 schedules; w1 disagrees.
	h.commitAll(commitOpts{}, "w2", "w0")
	res := h.commitAll(commitOpts{result: "B"}, "w1")
	if !discrepancyDeclared(h.roundEvents(res)) {
		t.Fatal("no discrepancy declared")
	}
	runtimeBefore := h.balance(h.runtimeAddress())
	h.commitAll(commitOpts{}, "b0", "b1")
	h.expectLatest(api.HeaderTypeNormal, 2)
	if got := h.slashedBy("w1"); got != incorrectSlash {
		t.Fatalf("w1 lost %d, want %d", got, incorrectSlash)
	}
	for _, honest := range []string{"w0", "w2", "b0", "b1", "b2"} {
		if got := h.slashedBy(honest); got != 0 {
			t.Fatalf("honest %s lost %d", honest, got)
		}
	}
	if got := h.balance(h.runtimeAddress()) - runtimeBefore; got != incorrectSlash {
		t.Fatalf("the runtime's account received %d, want %d", got, incorrectSlash)
	}
	if st := h.status("w1"); st.FrozenUntil != incorrectFreeze {
		t.Fatalf("w1 frozen until epoch %d, want %d", st.FrozenUntil, incorrectFreeze)
	}
	h.checkSupply()
}

func TestBackupsResolvingAgainstTheSchedulerFailTheRoundAndSlashTheScheduler(t *testing.T) {
	h := newHarness(t, options{})
	h.commitAll(commitOpts{result: "lie"}, "w2")
	h.commitAll(commitOpts{}, "w0", "w1")
	res := h.commitAll(commitOpts{}, "b0", "b1")
	h.expectLatest(api.HeaderTypeRoundFailed, 2)
	failed := false
	for _, e := range h.roundEvents(res) {
		if e.RoundFailed != nil && e.RoundFailed.Reason == api.FailedDisagreesWithScheduler {
			failed = true
		}
	}
	if !failed {
		t.Fatal("no RoundFailed event naming the scheduler's disagreement")
	}
	if got := h.slashedBy("w2"); got != incorrectSlash {
		t.Fatalf("the lying scheduler lost %d, want %d", got, incorrectSlash)
	}
	for _, honest := range []string{"w0", "w1", "b0", "b1"} {
		if got := h.slashedBy(honest); got != 0 {
			t.Fatalf("honest %s lost %d", honest, got)
		}
	}
	if st := h.status("w2"); st.FrozenUntil == 0 {
		t.Fatal("the lying scheduler is not frozen")
	}
	h.checkSupply()
}

func TestAFailureCommitmentIsNotSlashedButCountsAsALivenessFault(t *testing.T) {
	h := newHarness(t, options{})
	h.commitAll(commitOpts{}, "w2", "w1")
	h.commitAll(commitOpts{failure: true}, "w0")
	h.commitAll(commitOpts{}, "b0", "b1")
	h.expectLatest(api.HeaderTypeNormal, 2)
	if got := h.slashedBy("w0"); got != 0 {
		t.Fatalf("a failure commitment was slashed %d", got)
	}
	if st := h.status("w0"); st.LivenessFaults[h.rt.ID] != 1 || st.FrozenUntil != 0 {
		t.Fatalf("w0's status %+v, want one liveness fault and no freeze", st)
	}
}

func TestASingleByzantineBackupSlashesNoHonestNode(t *testing.T) {
	h := newHarness(t, options{})
	h.commitAll(commitOpts{}, "w2", "w0")
	h.commitAll(commitOpts{failure: true}, "w1")
	h.commitAll(commitOpts{result: "evil"}, "b0")
	h.commitAll(commitOpts{}, "b1", "b2")
	h.expectLatest(api.HeaderTypeNormal, 2)
	if got := h.slashedBy("b0"); got != incorrectSlash {
		t.Fatalf("the byzantine backup lost %d, want %d", got, incorrectSlash)
	}
	for _, honest := range []string{"w0", "w1", "w2", "b1", "b2"} {
		if got := h.slashedBy(honest); got != 0 {
			t.Fatalf("honest %s lost %d", honest, got)
		}
	}
}

func TestTooFewElectedBackupsFailTheRoundOnAnyDiscrepancy(t *testing.T) {
	h := newHarness(t, options{backups: []string{"b0"}})
	h.commitAll(commitOpts{}, "w2", "w0")
	h.commitAll(commitOpts{result: "B"}, "w1")
	h.expectLatest(api.HeaderTypeRoundFailed, 2)
}
