package registry_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/beacon"
	beaconapi "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/scheduler"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// A stand-in "roothash" application: it does what roothash does to the registry (freezes and
// slashes nodes, delivers update_runtime messages) by test transactions, and records, in
// order, the registry and scheduler messages it receives, so that tests can check what the
// real roothash would see.

const (
	methodFreeze        transaction.MethodName = "roothash.TestFreeze"
	methodSlash         transaction.MethodName = "roothash.TestSlash"
	methodUpdateRuntime transaction.MethodName = "roothash.TestUpdateRuntime"
)

type freezeBody struct {
	Node     signature.PublicKey `cbor:"node"`
	Interval beaconapi.EpochTime `cbor:"interval"`
}

type slashBody struct {
	Entity signature.PublicKey `cbor:"entity"`
}

type updateBody struct {
	Caller     [32]byte `cbor:"caller"`
	Descriptor []byte   `cbor:"descriptor"`
}

// observed is one message the stand-in received.
type observed struct {
	Kind    string   `cbor:"kind"`
	Runtime [32]byte `cbor:"runtime"`
	Outcome uint8    `cbor:"outcome,omitempty"`
	Height  int64    `cbor:"height"`
}

var logKey = []byte{consensus.PrefixRoothash, 0x01}

type roothashStandIn struct{}

func (roothashStandIn) Name() string { return "roothash" }
func (roothashStandIn) Methods() []transaction.MethodName {
	return []transaction.MethodName{methodFreeze, methodSlash, methodUpdateRuntime}
}
func (roothashStandIn) Messages() []string {
	return []string{api.MessageKindRuntimeRegistered, api.MessageKindRuntimeUpdated, api.MessageKindRuntimeSuspended, api.MessageKindRuntimeResumed, schedulerapi.MessageKindElectionResult}
}
func (roothashStandIn) InitChain(*consensus.Context, *genesis.Document) error { return nil }
func (roothashStandIn) BeginBlock(*consensus.Context) error                   { return nil }
func (roothashStandIn) EndBlock(*consensus.Context) error                     { return nil }
func (roothashStandIn) Query(*consensus.Context, string, []byte) (any, error) {
	return nil, consensus.ErrUnknownQuery
}

func (roothashStandIn) ExecuteTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	switch tx.Method {
	case methodFreeze:
		var b freezeBody
		if err := cbor.Unmarshal(tx.Body, &b); err != nil {
			return err
		}
		return registry.FreezeNodeFor(ctx, b.Node, b.Interval)
	case methodSlash:
		var b slashBody
		if err := cbor.Unmarshal(tx.Body, &b); err != nil {
			return err
		}
		_, err := staking.Slash(ctx, staking.SlashRequest{Offender: stakingapi.NewAddress(b.Entity), Reason: stakingapi.SlashLiveness})
		return err
	case methodUpdateRuntime:
		var b updateBody
		if err := cbor.Unmarshal(tx.Body, &b); err != nil {
			return err
		}
		_, err := ctx.Publish(api.UpdateRuntimeMessage{Caller: b.Caller, Descriptor: b.Descriptor})
		return err
	}
	return transaction.ErrUnknownMethod
}

func (roothashStandIn) HandleMessage(ctx *consensus.Context, msg consensus.Message) (any, error) {
	o := observed{Kind: msg.MessageKind(), Height: ctx.Height()}
	switch m := msg.(type) {
	case api.RuntimeRegistered:
		o.Runtime = m.Runtime.ID
	case api.RuntimeUpdated:
		o.Runtime = m.Runtime.ID
	case api.RuntimeSuspended:
		o.Runtime = m.RuntimeID
	case api.RuntimeResumed:
		o.Runtime = m.RuntimeID
	case schedulerapi.ElectionResult:
		o.Runtime, o.Outcome = m.RuntimeID, uint8(m.Outcome)
	default:
		return nil, fmt.Errorf("unexpected %T", msg)
	}
	var log []observed
	if raw, err := ctx.State().Get(logKey); err != nil {
		return nil, err
	} else if raw != nil {
		if err := cbor.UnmarshalTrusted(raw, &log); err != nil {
			return nil, err
		}
	}
	log = append(log, o)
	return nil, ctx.State().Insert(logKey, cbor.Marshal(log))
}

func testApps() []consensus.Application {
	return []consensus.Application{beacon.New(), staking.New(), registry.New(), scheduler.New(), roothashStandIn{}}
}

// harness is a memchain with the real beacon, staking, registry and scheduler applications
// and the stand-in roothash. Epochs are 10 blocks; block 1 is in epoch 0 and block 10 starts
// epoch 1. Validator 0's entity (escrow 1000) and accounts 0..3 (balance 1000) are funded.
type harness struct {
	t      testing.TB
	f      *memchain.Fixture
	c      *memchain.Chain
	nonces map[signature.PublicKey]uint64
	last   *memchain.BlockResult
}

const epochInterval = 10

func newHarness(t testing.TB, tweak func(*genesis.Document)) *harness {
	t.Helper()
	f, err := memchain.NewFixture(memchain.FixtureParams{
		Validators: 1, Accounts: 4, Balance: 1000, SelfEscrow: 1000, EpochInterval: epochInterval, Tweak: tweak,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := memchain.New(memchain.Config{Genesis: f.Genesis, NewApps: testApps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &harness{t: t, f: f, c: c, nonces: make(map[signature.PublicKey]uint64)}
}

// nonce returns signer's next nonce and counts it (every delivered transaction spends one).
func (h *harness) nonce(s signature.Signer) uint64 {
	n := h.nonces[s.Public()]
	h.nonces[s.Public()] = n + 1
	return n
}

// deliver delivers one block with txs and returns its result.
func (h *harness) deliver(txs ...[]byte) *memchain.BlockResult {
	h.t.Helper()
	res, err := h.c.Deliver(txs...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.last = res
	return res
}

// mustDeliver delivers one transaction and fails the test if it fails.
func (h *harness) mustDeliver(tx []byte) *memchain.BlockResult {
	h.t.Helper()
	res := h.deliver(tx)
	if err := res.TxErr(0); err != nil {
		h.t.Fatalf("transaction failed at height %d: %v", res.Height, err)
	}
	return res
}

// deliverErr delivers one transaction that must fail with want.
func (h *harness) deliverErr(tx []byte, want error) {
	h.t.Helper()
	res := h.deliver(tx)
	if err := res.TxErr(0); !errors.Is(err, want) {
		h.t.Fatalf("got %v, want %v", err, want)
	}
}

// epoch returns the epoch of the last delivered block.
func (h *harness) epoch() beaconapi.EpochTime {
	return beaconapi.EpochTime(h.c.Height() / epochInterval)
}

// toEpoch delivers empty blocks until the first block of epoch e has been delivered, and
// returns the results of the blocks delivered.
func (h *harness) toEpoch(e beaconapi.EpochTime) []*memchain.BlockResult {
	h.t.Helper()
	var out []*memchain.BlockResult
	for h.c.Height() < int64(e)*epochInterval {
		out = append(out, h.deliver())
	}
	return out
}

// read runs fn on the latest committed state.
func (h *harness) read(fn func(s consensus.State) error) {
	h.t.Helper()
	if err := h.c.ReadState(fn); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) suspended(rt [32]byte) bool {
	var out bool
	h.read(func(s consensus.State) (err error) { out, err = registry.IsSuspended(s, rt); return })
	return out
}

func (h *harness) account(addr stakingapi.Address) *stakingapi.Account {
	var a *stakingapi.Account
	h.read(func(s consensus.State) (err error) { a, err = staking.GetAccount(s, addr); return })
	return a
}

// observedLog returns the messages the stand-in roothash received.
func (h *harness) observedLog() []observed {
	var log []observed
	h.read(func(s consensus.State) error {
		raw, err := s.Get(logKey)
		if err != nil || raw == nil {
			return err
		}
		return cbor.UnmarshalTrusted(raw, &log)
	})
	return log
}

// events decodes the events of kind in res (its block events and its transactions' events).
func events[E consensus.Event](t *testing.T, res *memchain.BlockResult) []E {
	t.Helper()
	var zero E
	var out []E
	all := res.Events
	for _, r := range res.TxResults {
		all = append(all, r.Events...)
	}
	for _, ev := range all {
		if ev.Type != zero.EventKind() {
			continue
		}
		var e E
		if err := consensus.DecodeEvent(ev, any(&e).(consensus.Event)); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// The signers of the tests: the entities are funded accounts.
func entitySigner(i int) *signature.MemorySigner { return memchain.TestSigner("account", i) }

// withStake sets the stake thresholds and gives accounts 0..3 an escrow of escrow each.
func withStake(entity, nodeKind, runtime, escrow uint64) func(*genesis.Document) {
	return func(d *genesis.Document) {
		th := &d.Staking.Params.Thresholds
		th.Entity = *quantity.NewFromUint64(entity)
		th.NodeValidator = *quantity.NewFromUint64(nodeKind)
		th.NodeCompute = *quantity.NewFromUint64(nodeKind)
		th.NodeStorage = *quantity.NewFromUint64(nodeKind)
		th.Runtime = *quantity.NewFromUint64(runtime)
		if escrow == 0 {
			return
		}
		for i := 0; i < 4; i++ {
			addr := stakingapi.NewAddress(entitySigner(i).Public())
			d.Staking.Delegations = append(d.Staking.Delegations, stakingapi.GenesisDelegation{From: addr, To: addr, Amount: *quantity.NewFromUint64(escrow)})
			if err := d.Staking.TotalSupply.Add(quantity.NewFromUint64(escrow)); err != nil {
				panic(err)
			}
		}
	}
}

// registerEntity registers entity i listing the node keys.
func (h *harness) registerEntity(i int, nodes ...signature.PublicKey) {
	h.t.Helper()
	s := entitySigner(i)
	h.mustDeliver(h.f.RegisterEntityTx(s, h.nonce(s), nodes...))
}

// nodeTx returns a registration of n paid by its entity signer with enough gas.
func (h *harness) nodeTx(payer signature.Signer, n *node.Node, nodeIndex int) []byte {
	return h.f.RegisterNodeTx(payer, memchain.TestNodeSigner(nodeIndex), h.nonce(payer), 1_000_000, n)
}
