package roothash

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
)

// Registry is what roothash needs of the registry service: reads of its state, the node
// penalties roothash decides, and the meaning of its messages. consensus/registry provides it;
// it must be safe for concurrent use (CheckTx and FinalizeBlock run side by side) and keep no
// per-block state of its own.
type Registry interface {
	// Runtimes returns every registered runtime (active or suspended), sorted by ID.
	Runtimes(s consensus.State) ([]*registryapi.Runtime, error)
	// Runtime returns the runtime's current descriptor, nil when it is not registered.
	Runtime(s consensus.State, id namespace.Namespace) (*registryapi.Runtime, error)
	// IsSuspended reports whether the runtime is in the suspended set.
	IsSuspended(s consensus.State, id namespace.Namespace) (bool, error)
	// Node returns a node's descriptor (kept after expiry while it is slashable), nil when
	// unknown.
	Node(s consensus.State, id signature.PublicKey) (*node.Node, error)
	// FreezeNode freezes a slashed node for interval epochs from the current epoch.
	FreezeNode(ctx *consensus.Context, id signature.PublicKey, interval beacon.EpochTime) error
	// RecordLivenessFault counts a liveness fault of the node in the runtime (a failure
	// commitment in a round whose backups settled on a result).
	RecordLivenessFault(ctx *consensus.Context, id signature.PublicKey, runtime namespace.Namespace) error
	// UpdateRuntimeMessage returns the message that asks the registry to apply a descriptor
	// update sent by a runtime-governed runtime (the registry authorises and validates it).
	UpdateRuntimeMessage(caller namespace.Namespace, descriptor []byte) consensus.Message
	// NoticeKinds lists the kinds of the registry's messages roothash handles.
	NoticeKinds() []string
	// Notice interprets a registry message of one of NoticeKinds.
	Notice(msg consensus.Message) (RuntimeNotice, bool)
}

// NoticeKind says what a registry message tells roothash.
type NoticeKind uint8

const (
	// NoticeRegistered: a runtime was registered (or its descriptor updated).
	NoticeRegistered NoticeKind = 1
	// NoticeSuspended: a runtime moved to the suspended set.
	NoticeSuspended NoticeKind = 2
)

// RuntimeNotice is a registry message as roothash reads it.
type RuntimeNotice struct {
	Kind      NoticeKind
	RuntimeID namespace.Namespace
}

// Scheduler is what roothash needs of the scheduler service: the meaning of its election
// messages. Committees are taken from the election message and kept in roothash's state, so
// roothash never reads the scheduler's state.
type Scheduler interface {
	// ElectionKinds lists the kinds of the scheduler's election messages.
	ElectionKinds() []string
	// Election interprets an election message of one of ElectionKinds.
	Election(msg consensus.Message) (*schedulerapi.ElectionResult, bool)
}
