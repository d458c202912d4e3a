package roothash

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/registry"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
)

// NewWithServices returns the roothash application over the real registry and scheduler
// applications (consensus/registry, consensus/scheduler), which must run in the same mux.
func NewWithServices() *App {
	return &App{registry: registryService{}, scheduler: schedulerService{}}
}

// registryService is Registry over consensus/registry's API.
type registryService struct{}

var (
	_ Registry  = registryService{}
	_ Scheduler = schedulerService{}
)

func (registryService) Runtimes(s consensus.State) ([]*registryapi.Runtime, error) {
	return registry.Runtimes(s)
}

// Runtime returns the registry's descriptor snapshot of the current epoch, or the latest
// descriptor of a runtime registered since the last transition (for its genesis block).
func (registryService) Runtime(s consensus.State, id namespace.Namespace) (*registryapi.Runtime, error) {
	rt, err := registry.GetEpochRuntime(s, id)
	if err != nil || rt != nil {
		return rt, err
	}
	return registry.GetRuntime(s, id)
}

func (registryService) IsSuspended(s consensus.State, id namespace.Namespace) (bool, error) {
	return registry.IsSuspended(s, id)
}

func (registryService) Node(s consensus.State, id signature.PublicKey) (*node.Node, error) {
	return registry.GetNode(s, id)
}

func (registryService) FreezeNode(ctx *consensus.Context, id signature.PublicKey, interval beacon.EpochTime) error {
	return registry.FreezeNodeFor(ctx, id, interval)
}

func (registryService) RecordLivenessFault(ctx *consensus.Context, id signature.PublicKey, runtime namespace.Namespace) error {
	return registry.RecordLivenessFault(ctx, id, runtime)
}

func (registryService) UpdateRuntimeMessage(caller namespace.Namespace, descriptor []byte) consensus.Message {
	return registryapi.UpdateRuntimeMessage{Caller: caller, Descriptor: descriptor}
}

func (registryService) NoticeKinds() []string {
	return []string{registryapi.MessageKindRuntimeRegistered, registryapi.MessageKindRuntimeSuspended}
}

func (registryService) Notice(msg consensus.Message) (RuntimeNotice, bool) {
	switch m := msg.(type) {
	case registryapi.RuntimeRegistered:
		return registeredNotice(m.Runtime)
	case *registryapi.RuntimeRegistered:
		return registeredNotice(m.Runtime)
	case registryapi.RuntimeSuspended:
		return RuntimeNotice{Kind: NoticeSuspended, RuntimeID: m.RuntimeID}, true
	case *registryapi.RuntimeSuspended:
		return RuntimeNotice{Kind: NoticeSuspended, RuntimeID: m.RuntimeID}, true
	}
	return RuntimeNotice{}, false
}

func registeredNotice(rt *registryapi.Runtime) (RuntimeNotice, bool) {
	if rt == nil {
		return RuntimeNotice{}, false
	}
	return RuntimeNotice{Kind: NoticeRegistered, RuntimeID: rt.ID}, true
}

// schedulerService is Scheduler over the scheduler's ElectionResult messages.
type schedulerService struct{}

func (schedulerService) ElectionKinds() []string {
	return []string{schedulerapi.MessageKindElectionResult}
}

func (schedulerService) Election(msg consensus.Message) (*schedulerapi.ElectionResult, bool) {
	switch m := msg.(type) {
	case schedulerapi.ElectionResult:
		return &m, true
	case *schedulerapi.ElectionResult:
		return m, true
	}
	return nil, false
}
