package roothash_test

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/keyformat"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/roothash"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// The registry and scheduler applications are written in parallel; these fakes stand in for
// them with the same contract: the registry keeps runtimes, nodes, suspension and node status
// in its own state and publishes runtime notices; the scheduler publishes an election per
// runtime at every epoch transition. Tests drive them by transactions, so that chains replay.

var (
	fakeRegKeyFmt   = keyformat.New(consensus.PrefixRegistry, keyformat.Uint8, keyformat.Fixed(32))
	fakeSchedKeyFmt = keyformat.New(consensus.PrefixScheduler, keyformat.Uint8, keyformat.Fixed(32))
)

const (
	fakeRuntimes  uint8 = 1
	fakeSuspended uint8 = 2
	fakeNodes     uint8 = 3
	fakeStatus    uint8 = 4
)

const (
	methodTestSuspend         transaction.MethodName = "registry.TestSuspend"
	methodTestRegisterRuntime transaction.MethodName = "registry.TestRegisterRuntime"
	methodTestSetElection     transaction.MethodName = "scheduler.TestSetElection"
)

// fakeStatusRecord is the node status the fake registry keeps.
type fakeStatusRecord struct {
	FrozenUntil    beacon.EpochTime               `cbor:"frozen_until"`
	LivenessFaults map[namespace.Namespace]uint64 `cbor:"liveness_faults,omitempty"`
}

type noticeMsg struct {
	Kind roothash.NoticeKind
	ID   namespace.Namespace
}

func (noticeMsg) MessageKind() string { return "registry.TestNotice" }

type updateRuntimeMsg struct {
	Caller     namespace.Namespace
	Descriptor []byte
}

func (updateRuntimeMsg) MessageKind() string { return "registry.TestUpdateRuntime" }

type electionMsg struct{ schedulerapi.ElectionResult }

func (electionMsg) MessageKind() string { return "scheduler.TestElection" }

// fakeRegistry is the "registry" application and roothash's Registry.
type fakeRegistry struct {
	runtimes []registryapi.Runtime
	nodes    []node.Node
}

var (
	_ consensus.Application = (*fakeRegistry)(nil)
	_ roothash.Registry     = (*fakeRegistry)(nil)
)

func (*fakeRegistry) Name() string { return registryapi.ModuleName }
func (*fakeRegistry) Methods() []transaction.MethodName {
	return []transaction.MethodName{methodTestSuspend, methodTestRegisterRuntime}
}
func (*fakeRegistry) Messages() []string { return []string{updateRuntimeMsg{}.MessageKind()} }

func (r *fakeRegistry) InitChain(ctx *consensus.Context, _ *genesis.Document) error {
	for i := range r.runtimes {
		if err := put(ctx.State(), fakeRegKeyFmt.Encode(fakeRuntimes, r.runtimes[i].ID), &r.runtimes[i]); err != nil {
			return err
		}
	}
	for i := range r.nodes {
		if err := put(ctx.State(), fakeRegKeyFmt.Encode(fakeNodes, r.nodes[i].ID), &r.nodes[i]); err != nil {
			return err
		}
	}
	return nil
}

func (*fakeRegistry) BeginBlock(*consensus.Context) error { return nil }
func (*fakeRegistry) EndBlock(*consensus.Context) error   { return nil }

func (r *fakeRegistry) ExecuteTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	switch tx.Method {
	case methodTestSuspend:
		var id namespace.Namespace
		if err := cbor.Unmarshal(tx.Body, &id); err != nil {
			return err
		}
		if err := ctx.State().Insert(fakeRegKeyFmt.Encode(fakeSuspended, id), []byte{1}); err != nil {
			return err
		}
		_, err := ctx.Publish(noticeMsg{Kind: roothash.NoticeSuspended, ID: id})
		return err
	case methodTestRegisterRuntime:
		var rt registryapi.Runtime
		if err := cbor.Unmarshal(tx.Body, &rt); err != nil {
			return err
		}
		if err := put(ctx.State(), fakeRegKeyFmt.Encode(fakeRuntimes, rt.ID), &rt); err != nil {
			return err
		}
		_, err := ctx.Publish(noticeMsg{Kind: roothash.NoticeRegistered, ID: rt.ID})
		return err
	}
	return transaction.ErrUnknownMethod
}

func (r *fakeRegistry) HandleMessage(ctx *consensus.Context, msg consensus.Message) (any, error) {
	m, ok := msg.(updateRuntimeMsg)
	if !ok {
		return nil, consensus.ErrNoHandler
	}
	old, err := r.Runtime(ctx.State(), m.Caller)
	if err != nil {
		return nil, err
	}
	if old == nil {
		return nil, fmt.Errorf("%w: no runtime %s", registryapi.ErrInvalidArgument, m.Caller)
	}
	if err := registryapi.AuthorizeRuntimeMessage(old, m.Caller); err != nil {
		return nil, err
	}
	rt, err := registryapi.DecodeRuntime(m.Descriptor)
	if err != nil {
		return nil, err
	}
	if rt.ID != old.ID {
		return nil, fmt.Errorf("%w: the id is immutable", registryapi.ErrInvalidArgument)
	}
	return nil, put(ctx.State(), fakeRegKeyFmt.Encode(fakeRuntimes, rt.ID), rt)
}

func (*fakeRegistry) Query(*consensus.Context, string, []byte) (any, error) {
	return nil, consensus.ErrUnknownQuery
}

func (r *fakeRegistry) Runtimes(s consensus.State) ([]*registryapi.Runtime, error) {
	var out []*registryapi.Runtime
	err := consensus.IteratePrefix(s, fakeRegKeyFmt.Prefix(fakeRuntimes), func(_, value []byte) (bool, error) {
		var rt registryapi.Runtime
		if err := cbor.UnmarshalTrusted(value, &rt); err != nil {
			return false, err
		}
		out = append(out, &rt)
		return true, nil
	})
	return out, err
}

func (r *fakeRegistry) Runtime(s consensus.State, id namespace.Namespace) (*registryapi.Runtime, error) {
	var rt registryapi.Runtime
	found, err := get(s, fakeRegKeyFmt.Encode(fakeRuntimes, id), &rt)
	if err != nil || !found {
		return nil, err
	}
	return &rt, nil
}

func (r *fakeRegistry) IsSuspended(s consensus.State, id namespace.Namespace) (bool, error) {
	raw, err := s.Get(fakeRegKeyFmt.Encode(fakeSuspended, id))
	return raw != nil, err
}

func (r *fakeRegistry) Node(s consensus.State, id signature.PublicKey) (*node.Node, error) {
	var n node.Node
	found, err := get(s, fakeRegKeyFmt.Encode(fakeNodes, id), &n)
	if err != nil || !found {
		return nil, err
	}
	return &n, nil
}

func (r *fakeRegistry) status(s consensus.State, id signature.PublicKey) (*fakeStatusRecord, error) {
	var st fakeStatusRecord
	_, err := get(s, fakeRegKeyFmt.Encode(fakeStatus, id), &st)
	return &st, err
}

func (r *fakeRegistry) FreezeNode(ctx *consensus.Context, id signature.PublicKey, interval beacon.EpochTime) error {
	st, err := r.status(ctx.State(), id)
	if err != nil {
		return err
	}
	st.FrozenUntil = max(st.FrozenUntil, ctx.Epoch()+interval)
	return put(ctx.State(), fakeRegKeyFmt.Encode(fakeStatus, id), st)
}

func (r *fakeRegistry) RecordLivenessFault(ctx *consensus.Context, id signature.PublicKey, rt namespace.Namespace) error {
	st, err := r.status(ctx.State(), id)
	if err != nil {
		return err
	}
	if st.LivenessFaults == nil {
		st.LivenessFaults = map[namespace.Namespace]uint64{}
	}
	st.LivenessFaults[rt]++
	return put(ctx.State(), fakeRegKeyFmt.Encode(fakeStatus, id), st)
}

func (*fakeRegistry) UpdateRuntimeMessage(caller namespace.Namespace, descriptor []byte) consensus.Message {
	return updateRuntimeMsg{Caller: caller, Descriptor: descriptor}
}

func (*fakeRegistry) NoticeKinds() []string { return []string{noticeMsg{}.MessageKind()} }

func (*fakeRegistry) Notice(msg consensus.Message) (roothash.RuntimeNotice, bool) {
	m, ok := msg.(noticeMsg)
	return roothash.RuntimeNotice{Kind: m.Kind, RuntimeID: m.ID}, ok
}

// fakeScheduler is the "scheduler" application and roothash's Scheduler: at every epoch it
// publishes, for each runtime it was told about, the election stored for it.
type fakeScheduler struct {
	elections []schedulerapi.ElectionResult
}

var (
	_ consensus.Application = (*fakeScheduler)(nil)
	_ roothash.Scheduler    = (*fakeScheduler)(nil)
)

func (*fakeScheduler) Name() string { return schedulerapi.ModuleName }
func (*fakeScheduler) Methods() []transaction.MethodName {
	return []transaction.MethodName{methodTestSetElection}
}
func (*fakeScheduler) Messages() []string { return []string{beacon.MessageKindEpochChanged} }

func (f *fakeScheduler) InitChain(ctx *consensus.Context, _ *genesis.Document) error {
	for i := range f.elections {
		if err := put(ctx.State(), fakeSchedKeyFmt.Encode(uint8(1), f.elections[i].RuntimeID), &f.elections[i]); err != nil {
			return err
		}
	}
	return nil
}

func (*fakeScheduler) BeginBlock(*consensus.Context) error { return nil }
func (*fakeScheduler) EndBlock(*consensus.Context) error   { return nil }

func (f *fakeScheduler) ExecuteTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	var res schedulerapi.ElectionResult
	if err := cbor.Unmarshal(tx.Body, &res); err != nil {
		return err
	}
	return put(ctx.State(), fakeSchedKeyFmt.Encode(uint8(1), res.RuntimeID), &res)
}

func (f *fakeScheduler) HandleMessage(ctx *consensus.Context, msg consensus.Message) (any, error) {
	m, ok := msg.(beacon.EpochChangedMessage)
	if !ok {
		return nil, consensus.ErrNoHandler
	}
	var elections []schedulerapi.ElectionResult
	err := consensus.IteratePrefix(ctx.State(), fakeSchedKeyFmt.Prefix(uint8(1)), func(_, value []byte) (bool, error) {
		var res schedulerapi.ElectionResult
		if err := cbor.UnmarshalTrusted(value, &res); err != nil {
			return false, err
		}
		elections = append(elections, res)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for _, res := range elections {
		res.Epoch = m.Epoch
		if res.Executor != nil {
			res.Executor.ValidFor = m.Epoch
			res.Storage.ValidFor = m.Epoch
		}
		if _, err := ctx.Publish(electionMsg{res}); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (*fakeScheduler) Query(*consensus.Context, string, []byte) (any, error) {
	return nil, consensus.ErrUnknownQuery
}

func (*fakeScheduler) ElectionKinds() []string { return []string{electionMsg{}.MessageKind()} }

func (*fakeScheduler) Election(msg consensus.Message) (*schedulerapi.ElectionResult, bool) {
	m, ok := msg.(electionMsg)
	if !ok {
		return nil, false
	}
	return &m.ElectionResult, true
}

func put(s consensus.State, key []byte, v any) error { return s.Insert(key, cbor.Marshal(v)) }

func get(s consensus.State, key []byte, dst any) (bool, error) {
	raw, err := s.Get(key)
	if err != nil || raw == nil {
		return false, err
	}
	return true, cbor.UnmarshalTrusted(raw, dst)
}
