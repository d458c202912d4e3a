package roothash

import (
	"testing"

	"github.com/atoll-project/atoll/common/namespace"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
)

func TestTheRealServicesMessagesAreUnderstood(t *testing.T) {
	a := NewWithServices()
	id := namespace.Namespace{7}
	for _, kind := range []string{registryapi.MessageKindRuntimeRegistered, registryapi.MessageKindRuntimeSuspended, schedulerapi.MessageKindElectionResult} {
		found := false
		for _, k := range a.Messages() {
			found = found || k == kind
		}
		if !found {
			t.Fatalf("roothash does not subscribe to %s", kind)
		}
	}
	if n, ok := a.registry.Notice(registryapi.RuntimeRegistered{Runtime: &registryapi.Runtime{ID: id}}); !ok || n.Kind != NoticeRegistered || n.RuntimeID != id {
		t.Fatalf("registered notice: %+v %t", n, ok)
	}
	if _, ok := a.registry.Notice(registryapi.RuntimeRegistered{}); ok {
		t.Fatal("a registration without a descriptor was understood")
	}
	if n, ok := a.registry.Notice(registryapi.RuntimeSuspended{RuntimeID: id}); !ok || n.Kind != NoticeSuspended || n.RuntimeID != id {
		t.Fatalf("suspended notice: %+v %t", n, ok)
	}
	if res, ok := a.scheduler.Election(schedulerapi.ElectionResult{RuntimeID: id, Outcome: schedulerapi.OutcomeElected}); !ok || res.RuntimeID != id {
		t.Fatal("the election result was not understood")
	}
	if _, ok := a.scheduler.Election(registryapi.RuntimeSuspended{}); ok {
		t.Fatal("a registry message was taken for an election")
	}
}
