package api

import "fmt"

// RuntimeFacts are what the registry knows about one runtime when it decides on suspension
// at an epoch transition, after the scheduler has reported its elections for the new epoch.
type RuntimeFacts struct {
	// HasActiveDeployment: the runtime has a deployment valid in the new epoch.
	HasActiveDeployment bool
	// CommitteeElected: the scheduler elected committees for the runtime in the new epoch
	// (false for a suspended runtime that MayResume does not admit to the election).
	CommitteeElected bool
	// OwnerStakeOK: the runtime's staking address (Runtime.StakingAddress) passes its stake
	// check.
	OwnerStakeOK bool
	// HasUnexpiredNodes: some node registered for the runtime is live in the new epoch.
	HasUnexpiredNodes bool
	// Suspended: the runtime is in the suspended set.
	Suspended bool
}

// SuspensionDecision is what to do with a runtime at an epoch transition.
type SuspensionDecision uint8

const (
	// LeaveAlone: keep the runtime where it is (active or suspended).
	LeaveAlone SuspensionDecision = iota
	// Suspend: move the runtime to the suspended set (roothash emits a Suspended block and
	// clears its committee).
	Suspend
	// Resume: move the runtime back to the active set with the committees just elected.
	Resume
)

// String names the decision.
func (d SuspensionDecision) String() string {
	switch d {
	case LeaveAlone:
		return "leave alone"
	case Suspend:
		return "suspend"
	case Resume:
		return "resume"
	}
	return fmt.Sprintf("unknown(%d)", uint8(d))
}

// DecideSuspension is the epoch-transition rule of DESIGN.md §3 (Suspension):
//   - a runtime with no active deployment yet is left alone (neither elected nor suspended);
//   - an active runtime is suspended when it got no executor committee or its owner fails
//     the stake check;
//   - a suspended runtime resumes once its owner passes the stake check and its unexpired
//     nodes are enough to elect a committee; with too few it stays suspended quietly, so a
//     runtime with some nodes but too few is not resumed and suspended again every epoch.
func DecideSuspension(f RuntimeFacts) SuspensionDecision {
	switch {
	case !f.HasActiveDeployment:
		return LeaveAlone
	case !f.Suspended && (!f.CommitteeElected || !f.OwnerStakeOK):
		return Suspend
	case f.Suspended && f.OwnerStakeOK && f.HasUnexpiredNodes && f.CommitteeElected:
		return Resume
	}
	return LeaveAlone
}

// MayResume reports whether a suspended runtime takes part in an epoch transition's
// elections: it has an active deployment, its owner passes the stake check and unexpired
// nodes are registered for it (f.CommitteeElected is not yet known). DecideSuspension then
// resumes it if it got a committee. An active runtime is always elected.
func MayResume(f RuntimeFacts) bool {
	return f.Suspended && f.HasActiveDeployment && f.OwnerStakeOK && f.HasUnexpiredNodes
}

// ResumesOnNodeRegistration reports whether a node registration that pays maintenance for a
// runtime resumes it: the runtime is suspended and its owner passes the stake check. The
// runtime is then elected at the next epoch transition (and suspended again if that gets it
// no committee).
func ResumesOnNodeRegistration(suspended, ownerStakeOK bool) bool {
	return suspended && ownerStakeOK
}
