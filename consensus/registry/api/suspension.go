package api

import "fmt"

// RuntimeFacts are what the registry knows about one runtime when it decides on suspension
// at an epoch transition, after the scheduler has reported its elections for the new epoch.
type RuntimeFacts struct {
	// HasActiveDeployment: the runtime has a deployment valid in the new epoch.
	HasActiveDeployment bool
	// CommitteeElected: the scheduler elected committees for the runtime in the new epoch
	// (false for a suspended runtime, which is not elected).
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
	// Resume: move the runtime back to the active set; it is elected at the next epoch
	// transition.
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
//   - a suspended runtime resumes once its owner passes the stake check and unexpired nodes
//     are registered for it.
func DecideSuspension(f RuntimeFacts) SuspensionDecision {
	switch {
	case !f.HasActiveDeployment:
		return LeaveAlone
	case !f.Suspended && (!f.CommitteeElected || !f.OwnerStakeOK):
		return Suspend
	case f.Suspended && f.OwnerStakeOK && f.HasUnexpiredNodes:
		return Resume
	}
	return LeaveAlone
}

// ResumesOnNodeRegistration reports whether a node registration that pays maintenance for a
// runtime resumes it: the runtime is suspended and its owner passes the stake check. The
// runtime is then elected at the next epoch transition.
func ResumesOnNodeRegistration(suspended, ownerStakeOK bool) bool {
	return suspended && ownerStakeOK
}
