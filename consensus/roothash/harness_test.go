package roothash_test

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/beacon"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/roothash"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// The test network: three workers, three backups, two storage nodes, each node with its own
// entity (a funded fixture account that escrows escrowAmount with itself in the first block),
// and one runtime whose account the funder endows with runtimeEndowment.
var (
	workerNames  = []string{"w0", "w1", "w2"}
	backupNames  = []string{"b0", "b1", "b2"}
	storageNames = []string{"s0", "s1"}
	nodeNames    = append(append(append([]string{}, workerNames...), backupNames...), storageNames...)
)

const (
	escrowAmount      = 10_000
	runtimeEndowment  = 5_000
	incorrectSlash    = 100
	equivocationSlash = 300
	incorrectFreeze   = 2
	roundTimeout      = 4
	proposeTimeout    = 2
)

type options struct {
	epochInterval  int64
	maxEvidenceAge uint64
	// backups overrides the elected backups (the configured group_backup_size stays 3).
	backups []string
	// runtime, when set, edits the test runtime's descriptor.
	runtime func(*registryapi.Runtime)
}

type harness struct {
	t      *testing.T
	fix    *memchain.Fixture
	chain  *memchain.Chain
	reg    *fakeRegistry
	keys   map[string]*signature.MemorySigner
	entity map[string]*signature.MemorySigner
	funder *signature.MemorySigner
	nonces map[signature.PublicKey]uint64
	rt     registryapi.Runtime
	// workers are the current committee's workers, in election order.
	workers []string
}

func newHarness(t *testing.T, o options) *harness {
	t.Helper()
	if o.epochInterval == 0 {
		o.epochInterval = 1000
	}
	if o.maxEvidenceAge == 0 {
		o.maxEvidenceAge = 10
	}
	if o.backups == nil {
		o.backups = backupNames
	}
	h := &harness{t: t, keys: map[string]*signature.MemorySigner{}, entity: map[string]*signature.MemorySigner{}, nonces: map[signature.PublicKey]uint64{}}
	fix, err := memchain.NewFixture(memchain.FixtureParams{
		Validators: 1, Accounts: len(nodeNames) + 1, Balance: 1_000_000, EpochInterval: o.epochInterval,
		Tweak: func(d *genesis.Document) {
			d.Staking.Params.Slashing = stakingapi.SlashingParams{
				IncorrectResults: stakingapi.SlashParams{Amount: *quantity.NewFromUint64(incorrectSlash), FreezeInterval: incorrectFreeze},
				Equivocation:     stakingapi.SlashParams{Amount: *quantity.NewFromUint64(equivocationSlash), FreezeInterval: 3},
			}
			p := api.DefaultConsensusParameters()
			p.MaxEvidenceAge = o.maxEvidenceAge
			p.MaxPastRootsStored = 5
			d.Roothash = &genesis.RoothashGenesis{Params: p}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.fix = fix
	for i, name := range nodeNames {
		h.keys[name] = memchain.TestSigner("node", i)
		h.entity[name] = fix.Accounts[i]
	}
	h.funder = fix.Accounts[len(nodeNames)]
	h.rt = testRuntime(h.funder.Public())
	if o.runtime != nil {
		o.runtime(&h.rt)
	}
	reg := &fakeRegistry{runtimes: []registryapi.Runtime{h.rt}}
	for _, name := range nodeNames {
		reg.nodes = append(reg.nodes, node.Node{
			ID: h.keys[name].Public(), EntityID: h.entity[name].Public(), Expiration: 100,
			Runtimes: []node.Runtime{{ID: h.rt.ID, Version: version.Version{Major: 1}}},
		})
	}
	h.reg = reg
	h.workers = workerNames
	election := h.election(workerNames, o.backups)
	sched := &fakeScheduler{elections: []schedulerapi.ElectionResult{election}}
	h.chain, err = memchain.New(memchain.Config{Genesis: fix.Genesis, NewApps: func() []consensus.Application {
		rh, err := roothash.New(roothash.Config{Registry: reg, Scheduler: sched})
		if err != nil {
			t.Fatal(err)
		}
		return []consensus.Application{beacon.New(), staking.New(), reg, sched, rh}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.chain.Close)
	// The first block: every entity escrows with itself, the funder endows the runtime, and
	// the first epoch's election makes the EpochTransition block of round 1.
	var txs [][]byte
	for _, name := range nodeNames {
		e := h.entity[name]
		txs = append(txs, h.tx(e, stakingapi.MethodAddEscrow, &stakingapi.Escrow{Account: stakingapi.NewAddress(e.Public()), Amount: *quantity.NewFromUint64(escrowAmount)}))
	}
	txs = append(txs, h.tx(h.funder, stakingapi.MethodTransfer, &stakingapi.Transfer{To: h.runtimeAddress(), Amount: *quantity.NewFromUint64(runtimeEndowment)}))
	h.deliverOK(txs...)
	return h
}

func testRuntime(owner signature.PublicKey) registryapi.Runtime {
	return registryapi.Runtime{
		ID:       namespace.Namespace(hash.Digest([]byte("roothash test runtime"))),
		EntityID: owner,
		Genesis:  registryapi.RuntimeGenesis{StateRoot: hash.Digest([]byte("genesis state"))},
		Kind:     registryapi.KindCompute,
		Executor: registryapi.ExecutorParameters{
			GroupSize: 3, GroupBackupSize: 3, AllowedStragglers: 1, RoundTimeout: roundTimeout, MaxMessages: 8,
		},
		TxnScheduler:    registryapi.TxnSchedulerParameters{MaxBatchSize: 100, MaxBatchSizeBytes: 1 << 16, BatchFlushTimeout: 100, ProposeBatchTimeout: proposeTimeout},
		Storage:         registryapi.StorageParameters{GroupSize: 2, MinWriteReplication: 2, MaxApplyWriteLogEntries: 1000, MaxApplyOps: 2},
		AdmissionPolicy: registryapi.AdmissionPolicy{AnyNode: &registryapi.AnyNodePolicy{}},
		GovernanceModel: registryapi.GovernanceRuntime,
		Deployments:     []registryapi.VersionInfo{{Version: version.Version{Major: 1}}},
	}
}

func (h *harness) election(workers, backups []string) schedulerapi.ElectionResult {
	ex := &schedulerapi.Committee{Kind: schedulerapi.KindExecutor, RuntimeID: h.rt.ID}
	for _, n := range workers {
		ex.Members = append(ex.Members, schedulerapi.CommitteeNode{Role: schedulerapi.RoleWorker, PublicKey: h.keys[n].Public()})
	}
	for _, n := range backups {
		ex.Members = append(ex.Members, schedulerapi.CommitteeNode{Role: schedulerapi.RoleBackup, PublicKey: h.keys[n].Public()})
	}
	st := &schedulerapi.Committee{Kind: schedulerapi.KindStorage, RuntimeID: h.rt.ID}
	for _, n := range storageNames {
		st.Members = append(st.Members, schedulerapi.CommitteeNode{Role: schedulerapi.RoleWorker, PublicKey: h.keys[n].Public()})
	}
	return schedulerapi.ElectionResult{RuntimeID: h.rt.ID, Outcome: schedulerapi.OutcomeElected, Executor: ex, Storage: st}
}

func (h *harness) runtimeAddress() stakingapi.Address { return stakingapi.NewRuntimeAddress(h.rt.ID) }

// tx signs a transaction with the signer's next nonce.
func (h *harness) tx(signer *signature.MemorySigner, method transaction.MethodName, body any) []byte {
	n := h.nonces[signer.Public()]
	h.nonces[signer.Public()] = n + 1
	return h.fix.SignTx(signer, memchain.Tx{Nonce: n, Gas: 1_000_000, Method: method, Body: body})
}

func (h *harness) deliver(txs ...[]byte) *memchain.BlockResult {
	h.t.Helper()
	res, err := h.chain.Deliver(txs...)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// deliverOK delivers a block and fails unless every transaction succeeded.
func (h *harness) deliverOK(txs ...[]byte) *memchain.BlockResult {
	h.t.Helper()
	res := h.deliver(txs...)
	for i := range txs {
		if err := res.TxErr(i); err != nil {
			h.t.Fatalf("transaction %d of block %d: %v", i, res.Height, err)
		}
	}
	return res
}

// deliverErr delivers one transaction and checks that it fails with want.
func (h *harness) deliverErr(tx []byte, want error) *memchain.BlockResult {
	h.t.Helper()
	res := h.deliver(tx)
	if err := res.TxErr(0); !errors.Is(err, want) {
		h.t.Fatalf("transaction failed with %v, want %v", err, want)
	}
	return res
}

func (h *harness) query(method string, args, out any) error {
	return h.chain.Query(method, args, out, 0)
}

func (h *harness) latest() api.Header {
	h.t.Helper()
	var hdr api.Header
	if err := h.query(api.QueryLatestBlock, &api.RuntimeQuery{ID: h.rt.ID}, &hdr); err != nil {
		h.t.Fatal(err)
	}
	return hdr
}

func (h *harness) runtimeState() api.RuntimeState {
	h.t.Helper()
	var rs api.RuntimeState
	if err := h.query(api.QueryRuntimeState, &api.RuntimeQuery{ID: h.rt.ID}, &rs); err != nil {
		h.t.Fatal(err)
	}
	return rs
}

func (h *harness) roundResults() api.RoundResults {
	h.t.Helper()
	var rr api.RoundResults
	if err := h.query(api.QueryRoundResults, &api.RuntimeQuery{ID: h.rt.ID}, &rr); err != nil {
		h.t.Fatal(err)
	}
	return rr
}

func (h *harness) account(addr stakingapi.Address) stakingapi.Account {
	h.t.Helper()
	var a stakingapi.Account
	if err := h.query(stakingapi.QueryAccount, &stakingapi.OwnerQuery{Owner: addr}, &a); err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) escrow(name string) uint64 {
	a := h.account(stakingapi.NewAddress(h.entity[name].Public()))
	return a.Escrow.Active.Balance.ToBigInt().Uint64()
}

func (h *harness) balance(addr stakingapi.Address) uint64 {
	a := h.account(addr)
	return a.General.Balance.ToBigInt().Uint64()
}

func (h *harness) status(name string) fakeStatusRecord {
	h.t.Helper()
	var st *fakeStatusRecord
	err := h.chain.ReadState(func(s consensus.State) error {
		var err error
		st, err = h.reg.status(s, h.keys[name].Public())
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return *st
}

func (h *harness) checkSupply() {
	h.t.Helper()
	if err := h.chain.ReadState(staking.CheckSupply); err != nil {
		h.t.Fatal(err)
	}
}

// commitOpts describe one commitment.
type commitOpts struct {
	// result labels the result roots ("A" when empty); failure commits a failure instead.
	result  string
	failure bool
	// batch labels the input root ("main" when empty).
	batch string
	// messages are the round's messages: hashed by everyone, attached by the scheduler.
	messages []api.Message
	// on is the block to build on (the latest when nil).
	on *api.Header
}

func (h *harness) schedulerOf(round uint64) string {
	return h.workers[round%uint64(len(h.workers))]
}

func (h *harness) commit(name string, o commitOpts) api.ExecutorCommitment {
	h.t.Helper()
	latest := h.latest()
	if o.on != nil {
		latest = *o.on
	}
	if o.result == "" {
		o.result = "A"
	}
	if o.batch == "" {
		o.batch = "main"
	}
	round := latest.Round + 1
	input := hash.Digest([]byte("input " + o.batch))
	inputReceipt := api.InputReceipt(h.rt.ID, round, input)
	body := api.ComputeBody{
		Header:           api.ComputeResultsHeader{Round: round, PreviousHash: latest.Hash()},
		InputRoot:        input,
		InputStorageSigs: h.receipts(&inputReceipt),
		Failure:          api.FailureNone,
	}
	batch := api.ProposedBatch{InputRoot: input, InputStorageSigs: body.InputStorageSigs, Header: latest}
	sig, err := api.SignProposedBatch(h.keys[h.schedulerOf(round)], h.fix.ChainContext, &batch)
	if err != nil {
		h.t.Fatal(err)
	}
	body.TxnSchedSig = sig
	if o.failure {
		body.Failure = api.FailureUnknown
	} else {
		body.Header.IORoot = hash.Digest([]byte("io " + o.result))
		body.Header.StateRoot = hash.Digest([]byte("state " + o.result))
		body.Header.MessagesHash = api.MessagesHash(o.messages)
		results := api.ResultsReceipt(h.rt.ID, round, body.Header.IORoot, body.Header.StateRoot)
		body.StorageSignatures = h.receipts(&results)
		if name == h.schedulerOf(round) {
			body.Messages = o.messages
		}
	}
	c, err := api.SignExecutorCommitment(h.keys[name], h.fix.ChainContext, h.rt.ID, &body)
	if err != nil {
		h.t.Fatal(err)
	}
	return *c
}

func (h *harness) receipts(body *api.ReceiptBody) []api.StorageSignature {
	var out []api.StorageSignature
	for _, name := range storageNames {
		s, err := api.SignReceipt(h.keys[name], h.fix.ChainContext, body)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// commitTx wraps commitments in an ExecutorCommit signed by the first committer.
func (h *harness) commitTx(signer string, cs ...api.ExecutorCommitment) []byte {
	return h.tx(h.keys[signer], api.MethodExecutorCommit, &api.ExecutorCommit{ID: h.rt.ID, Commits: cs})
}

// commitAll delivers one block with one ExecutorCommit per named node.
func (h *harness) commitAll(o commitOpts, names ...string) *memchain.BlockResult {
	h.t.Helper()
	var txs [][]byte
	for _, n := range names {
		txs = append(txs, h.commitTx(n, h.commit(n, o)))
	}
	return h.deliverOK(txs...)
}

// events returns the roothash events of a block's transactions and of the block itself.
func (h *harness) events(res *memchain.BlockResult) []consensus.Event {
	h.t.Helper()
	var out []consensus.Event
	for _, r := range res.TxResults {
		evs, err := roothash.DecodeEvents(r.Events)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, evs...)
	}
	evs, err := roothash.DecodeEvents(res.Events)
	if err != nil {
		h.t.Fatal(err)
	}
	return append(out, evs...)
}

// expectLatest checks the latest block's type and round.
func (h *harness) expectLatest(typ api.HeaderType, round uint64) api.Header {
	h.t.Helper()
	hdr := h.latest()
	if hdr.HeaderType != typ || hdr.Round != round {
		h.t.Fatalf("latest block is %s at round %d, want %s at round %d", hdr.HeaderType, hdr.Round, typ, round)
	}
	return hdr
}

// idle delivers n empty blocks.
func (h *harness) idle(n int) {
	h.t.Helper()
	for range n {
		h.deliverOK()
	}
}

// proposerTimeoutTx is a worker's proposer-timeout transaction for the next round.
func (h *harness) proposerTimeoutTx(name string) []byte {
	return h.tx(h.keys[name], api.MethodProposerTimeout, &api.ProposerTimeout{ID: h.rt.ID, Round: h.latest().Round + 1})
}

// roundEvents returns the runtime events of a block (its transactions' and its own).
func (h *harness) roundEvents(res *memchain.BlockResult) []api.Event {
	var out []api.Event
	for _, ev := range h.events(res) {
		if e, ok := ev.(api.Event); ok {
			out = append(out, e)
		}
	}
	return out
}

// slashedBy reports the stake the named node's entity lost.
func (h *harness) slashedBy(name string) uint64 { return escrowAmount - h.escrow(name) }
