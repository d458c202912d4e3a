package api

import (
	"testing"

	"github.com/atoll-project/atoll/common/namespace"
)

func TestDecideSuspensionFollowsDesignSuspension(t *testing.T) {
	for _, tc := range []struct {
		name  string
		facts RuntimeFacts
		want  SuspensionDecision
	}{
		{"a runtime with no active deployment yet is left alone", RuntimeFacts{Suspended: false}, LeaveAlone},
		{"a suspended runtime with no active deployment yet is left alone", RuntimeFacts{Suspended: true, OwnerStakeOK: true, HasUnexpiredNodes: true}, LeaveAlone},
		{"an active runtime with a committee and stake stays", RuntimeFacts{HasActiveDeployment: true, CommitteeElected: true, OwnerStakeOK: true, HasUnexpiredNodes: true}, LeaveAlone},
		{"an active runtime without a committee is suspended", RuntimeFacts{HasActiveDeployment: true, OwnerStakeOK: true, HasUnexpiredNodes: true}, Suspend},
		{"an active runtime whose owner lacks stake is suspended", RuntimeFacts{HasActiveDeployment: true, CommitteeElected: true, HasUnexpiredNodes: true}, Suspend},
		{"a suspended runtime with stake and a committee elected resumes", RuntimeFacts{HasActiveDeployment: true, Suspended: true, OwnerStakeOK: true, HasUnexpiredNodes: true, CommitteeElected: true}, Resume},
		{"a suspended runtime with stake whose nodes are too few for a committee stays suspended", RuntimeFacts{HasActiveDeployment: true, Suspended: true, OwnerStakeOK: true, HasUnexpiredNodes: true}, LeaveAlone},
		{"a suspended runtime without stake stays suspended", RuntimeFacts{HasActiveDeployment: true, Suspended: true, HasUnexpiredNodes: true}, LeaveAlone},
		{"a suspended runtime without unexpired nodes stays suspended", RuntimeFacts{HasActiveDeployment: true, Suspended: true, OwnerStakeOK: true}, LeaveAlone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecideSuspension(tc.facts); got != tc.want {
				t.Errorf("DecideSuspension(%+v) = %s, want %s", tc.facts, got, tc.want)
			}
		})
	}
}

func TestOnlyASuspendedDeployedRuntimeWithStakeAndNodesTakesPartInTheElections(t *testing.T) {
	all := RuntimeFacts{HasActiveDeployment: true, Suspended: true, OwnerStakeOK: true, HasUnexpiredNodes: true}
	if !MayResume(all) {
		t.Errorf("MayResume(%+v) = false", all)
	}
	for name, f := range map[string]RuntimeFacts{
		"active":        {HasActiveDeployment: true, OwnerStakeOK: true, HasUnexpiredNodes: true},
		"not deployed":  {Suspended: true, OwnerStakeOK: true, HasUnexpiredNodes: true},
		"without stake": {HasActiveDeployment: true, Suspended: true, HasUnexpiredNodes: true},
		"without nodes": {HasActiveDeployment: true, Suspended: true, OwnerStakeOK: true},
	} {
		if MayResume(f) {
			t.Errorf("%s: MayResume(%+v) = true", name, f)
		}
	}
}

func TestANodeRegistrationResumesASuspendedRuntimeWhoseOwnerHasStake(t *testing.T) {
	if !ResumesOnNodeRegistration(true, true) {
		t.Error("suspended runtime with stake must resume")
	}
	if ResumesOnNodeRegistration(true, false) || ResumesOnNodeRegistration(false, true) {
		t.Error("resumed without stake, or an active runtime resumed")
	}
}

func TestNodeStatusTracksFreezesAndLivenessFaults(t *testing.T) {
	var s NodeStatus
	if s.IsFrozen(0) {
		t.Error("a fresh node is not frozen")
	}
	s.Freeze(10, 5)
	if !s.IsFrozen(14) || s.IsFrozen(15) {
		t.Errorf("frozen at 10 for 5 epochs: end %d", s.FreezeEndTime)
	}
	s.Freeze(11, 1)
	if s.FreezeEndTime != 15 {
		t.Errorf("a shorter freeze shortened the longer one: end %d", s.FreezeEndTime)
	}
	rt := namespace.Namespace{1}
	s.RecordFailure(rt, 20)
	if !s.IsSuspended(rt, 21) || s.IsSuspended(rt, 22) {
		t.Errorf("first failure excludes for 2 epochs: %+v", s.Faults[rt])
	}
	for i := 0; i < 10; i++ {
		s.RecordFailure(rt, 20)
	}
	if got := s.Faults[rt].SuspendedUntil; got != 20+64 {
		t.Errorf("exclusion capped at 64 epochs, got until %d", got)
	}
	if s.IsSuspended(namespace.Namespace{2}, 21) {
		t.Error("a fault in one runtime excludes the node from another")
	}
	for i := 0; i < 11; i++ {
		s.RecordSuccess(rt)
	}
	if _, ok := s.Faults[rt]; ok {
		t.Error("the record of a node with no failures left is kept")
	}
	s.RecordSuccess(rt)
}
