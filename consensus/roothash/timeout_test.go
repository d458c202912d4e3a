package roothash_test

import (
	"testing"

	"github.com/atoll-project/atoll/consensus/roothash/api"
)

func TestAProposerTimeoutArmsTheTimerAndALateSchedulerStillFinalizes(t *testing.T) {
	h := newHarness(t, options{})
	// The latest block was made at height 1; proposer timeouts are allowed from 1 + 2.
	h.deliverErr(h.proposerTimeoutTx("w0"), api.ErrProposerTimeoutTooEarly)
	h.deliverErr(h.proposerTimeoutTx("b0"), api.ErrNotInCommittee)
	h.deliverOK(h.proposerTimeoutTx("w0"))
	armedAt := h.chain.Height()
	if rs := h.runtimeState(); rs.NextTimeout != armedAt+roundTimeout {
		t.Fatalf("timer at %d, want %d", rs.NextTimeout, armedAt+roundTimeout)
	}
	h.deliverErr(h.proposerTimeoutTx("w1"), api.ErrPoolNotEmpty)
	h.idle(1)
	h.commitAll(commitOpts{}, "w2", "w0", "w1")
	h.expectLatest(api.HeaderTypeNormal, 2)
}

func TestTheRoundFailsAtTheTimeoutWhenTheSchedulerNeverCommits(t *testing.T) {
	h := newHarness(t, options{})
	h.idle(1)
	h.deliverOK(h.proposerTimeoutTx("w1"))
	h.commitAll(commitOpts{}, "w0", "w1")
	h.idle(roundTimeout - 2)
	h.expectLatest(api.HeaderTypeEpochTransition, 1)
	res := h.deliverOK()
	h.expectLatest(api.HeaderTypeRoundFailed, 2)
	evs := h.roundEvents(res)
	if len(evs) != 1 || evs[0].RoundFailed == nil || evs[0].RoundFailed.Reason != api.FailedSchedulerMissing {
		t.Fatalf("events at the timeout: %+v", evs)
	}
	if rs := h.runtimeState(); rs.NextTimeout != 0 {
		t.Fatal("the RoundFailed block left the timer armed")
	}
}

func TestAStragglerWithinTheAllowanceIsToleratedAtTheTimeout(t *testing.T) {
	h := newHarness(t, options{})
	h.commitAll(commitOpts{}, "w2", "w0")
	h.idle(roundTimeout - 1)
	h.expectLatest(api.HeaderTypeEpochTransition, 1)
	h.deliverOK()
	h.expectLatest(api.HeaderTypeNormal, 2)
}

func TestStragglersBeyondTheAllowanceDeclareADiscrepancyAndTheBackupsDeadlineFailsTheRound(t *testing.T) {
	h := newHarness(t, options{})
	h.commitAll(commitOpts{}, "w2")
	h.idle(roundTimeout - 1)
	res := h.deliverOK()
	evs := h.roundEvents(res)
	if len(evs) != 1 || evs[0].ExecutionDiscrepancyDetected == nil || !evs[0].ExecutionDiscrepancyDetected.Timeout {
		t.Fatalf("events at the timeout: %+v, want a timeout discrepancy", evs)
	}
	h.idle(roundTimeout*3/2 - 1)
	h.expectLatest(api.HeaderTypeEpochTransition, 1)
	h.deliverOK()
	h.expectLatest(api.HeaderTypeRoundFailed, 2)
}
