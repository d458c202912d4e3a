package commitment

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// behavior is what a node does in a round: commit result A or B on the scheduler's batch,
// commit a failure, stay silent, or commit result A on another batch.
type behavior string

const (
	resultA  behavior = "A"
	resultB  behavior = "B"
	failure  behavior = "fail"
	silent   behavior = "silent"
	otherRun behavior = "other"
)

const maxBackups = 4

// commitmentCache signs and verifies each (committee size, node, behavior) once.
type commitmentCache struct {
	h        *harness
	verified map[string]*Verified
}

func (c *commitmentCache) get(t *testing.T, workers int, node string, b behavior) *Verified {
	key := fmt.Sprintf("%d/%s/%s", workers, node, b)
	if v, ok := c.verified[key]; ok {
		return v
	}
	c.h.cfg.Committee = Committee{Workers: c.h.keys("w", workers), Backups: c.h.keys("b", maxBackups)}
	o := commitOptions{}
	switch b {
	case failure:
		o["failure"] = []string{"unknown"}
	case otherRun:
		o["batch"] = []string{"other"}
	default:
		o["result"] = []string{string(b)}
	}
	v, err := VerifyCommitment(c.h.verifyParams(), c.h.buildCommitment(node, o))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	c.verified[key] = v
	return v
}

// roundCase is one generated round: what each worker and backup does.
type roundCase struct {
	workers    []behavior
	backups    []behavior
	backupSize uint64
	stragglers uint64
}

func (rc *roundCase) config(h *harness) PoolConfig {
	cfg := h.cfg
	cfg.Committee = Committee{Workers: h.keys("w", len(rc.workers)), Backups: h.keys("b", len(rc.backups))}
	cfg.Params.GroupBackupSize = rc.backupSize
	cfg.Params.AllowedStragglers = rc.stragglers
	return cfg
}

func (rc *roundCase) scheduler(h *harness) int {
	return int((h.cfg.Latest.Round + 1) % uint64(len(rc.workers)))
}

// decision is what a round came to, in a comparable form.
type decision struct {
	status   Status
	result   string
	reason   api.RoundFailureReason
	slashed  string
	liveness string
}

// play runs the round: workers commit at 11 in workerOrder, the round timer (15) fires,
// backups commit at 16 in backupOrder, and the backups' deadline fires.
func play(t *testing.T, c *commitmentCache, rc *roundCase, workerOrder, backupOrder []int) decision {
	h := c.h
	p, err := NewPool(rc.config(h))
	if err != nil {
		t.Fatal(err)
	}
	var d decision
	record := func(out *Outcome) {
		if out.Finalized != nil {
			d.result = h.labels[out.Finalized.Header.IORoot]
		}
		if out.FailureReason != 0 {
			d.reason = out.FailureReason
		}
		// Backups that commit after the decision never enter the pool, so only the workers'
		// slashes and faults are independent of the order.
		for _, pk := range out.IncorrectResults {
			if p.Config.Committee.Role(pk) == RoleWorker {
				d.slashed += h.name(pk) + " "
			}
		}
		for _, pk := range out.LivenessFaults {
			if p.Config.Committee.Role(pk) == RoleWorker {
				d.liveness += h.name(pk) + " "
			}
		}
	}
	add := func(height int64, name string, b behavior) {
		if b == silent {
			return
		}
		out, err := p.AddCommitment(height, c.get(t, len(rc.workers), name, b))
		switch {
		case err == nil:
			record(out)
		case errors.Is(err, api.ErrRoundDecided), errors.Is(err, api.ErrBackupOutsideDiscrepancy):
		default:
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, i := range workerOrder {
		add(11, "w"+strconv.Itoa(i), rc.workers[i])
	}
	record(p.CheckTimeout(15))
	for _, i := range backupOrder {
		add(16, "b"+strconv.Itoa(i), rc.backups[i])
	}
	if at, ok := p.NextTimeout(); ok {
		record(p.CheckTimeout(at))
	}
	d.status = p.Status()
	return d
}

// reference decides a round naively from the behaviors, by DESIGN.md §3 read directly.
func reference(rc *roundCase, sched int) decision {
	s := rc.workers[sched]
	if !slices.ContainsFunc(rc.workers, func(b behavior) bool { return b != silent }) {
		// Nothing arms the timer: an idle runtime fails no rounds.
		return decision{status: StatusWaiting}
	}
	if s == silent {
		return decision{status: StatusFailed, reason: api.FailedSchedulerMissing}
	}
	disagree, missing := s == failure, uint64(0)
	for _, b := range rc.workers {
		switch b {
		case silent, otherRun:
			missing++
		default:
			disagree = disagree || b != s
		}
	}
	if !disagree && missing <= rc.stragglers {
		return decision{status: StatusFinalized, result: string(s)}
	}
	quorum := int(rc.backupSize/2 + 1)
	votes := map[behavior]int{}
	left := 0
	for _, b := range rc.backups {
		switch b {
		case silent:
			left++
		case resultA, resultB, failure:
			votes[b]++
		}
	}
	best := 0
	for _, w := range []behavior{resultA, resultB, failure} {
		best = max(best, votes[w])
		if votes[w] >= quorum {
			return settled(rc, s, w)
		}
	}
	if best+left < quorum {
		return decision{status: StatusFailed, reason: api.FailedQuorumUnreachable}
	}
	return decision{status: StatusFailed, reason: api.FailedBackupTimeout}
}

func settled(rc *roundCase, s, winner behavior) decision {
	if winner == failure {
		return decision{status: StatusFailed, reason: api.FailedBackupsVotedFailure}
	}
	d := decision{status: StatusFinalized, result: string(s)}
	if s != winner {
		d = decision{status: StatusFailed, reason: api.FailedDisagreesWithScheduler}
	}
	supported := slices.Contains(rc.workers, winner)
	for i, b := range rc.workers {
		switch {
		case b == failure:
			d.liveness += "w" + strconv.Itoa(i) + " "
		case supported && (b == resultA || b == resultB) && b != winner:
			d.slashed += "w" + strconv.Itoa(i) + " "
		}
	}
	return d
}

func TestAnyOrderOfTheSameCommitmentsReachesTheSameDecision(t *testing.T) {
	c := &commitmentCache{h: newHarness(t), verified: make(map[string]*Verified)}
	c.h.setupDefaults()
	all := []behavior{resultA, resultB, failure, silent, otherRun}
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(rt, "workers")
		rc := &roundCase{
			workers: rapid.SliceOfN(rapid.SampledFrom(all), n, n).Draw(rt, "worker behaviors"),
			backups: rapid.SliceOfN(rapid.SampledFrom(all), 0, maxBackups).Draw(rt, "backup behaviors"),
		}
		sched := rc.scheduler(c.h)
		// The scheduler's batch is the round's batch by definition.
		rc.workers[sched] = rapid.SampledFrom([]behavior{resultA, resultB, failure, silent}).Draw(rt, "scheduler behavior")
		rc.backupSize = uint64(len(rc.backups) + rapid.IntRange(0, 2).Draw(rt, "unelected backups"))
		rc.stragglers = uint64(rapid.IntRange(0, (n-1)/2).Draw(rt, "stragglers"))

		wIdx, bIdx := indices(len(rc.workers)), indices(len(rc.backups))
		first := play(t, c, rc, rapid.Permutation(wIdx).Draw(rt, "worker order"), rapid.Permutation(bIdx).Draw(rt, "backup order"))
		second := play(t, c, rc, rapid.Permutation(wIdx).Draw(rt, "other worker order"), rapid.Permutation(bIdx).Draw(rt, "other backup order"))
		if first != second {
			rt.Fatalf("orders disagree: %+v vs %+v", first, second)
		}
		if want := reference(rc, sched); first != want {
			rt.Fatalf("pool decided %+v, the reference %+v", first, want)
		}
	})
}

func indices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
