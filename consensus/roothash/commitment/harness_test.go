package commitment

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// harness drives a pool from scenario scripts. Nodes are named: w<i> workers, b<i> backups,
// s<i> storage nodes, anything else an outsider. Results and batches are labels: result A has
// roots H("io-A"), H("state-A"); batch main has input root H("input-main").
type harness struct {
	t       testing.TB
	chain   hash.Hash
	runtime namespace.Namespace
	signers map[string]*signature.MemorySigner
	names   map[signature.PublicKey]string
	labels  map[hash.Hash]string

	cfg      PoolConfig
	previous api.Header
	storage  []signature.PublicKey
	limits   Limits
	tee      bool
	pool     *Pool
	// finalized is the results of the round the pool finalized, for the next block.
	finalized *FinalizedRound
}

func newHarness(t testing.TB) *harness {
	return &harness{
		t:       t,
		chain:   hash.Digest([]byte("atoll/commitment-test: chain")),
		runtime: namespace.Namespace(hash.Digest([]byte("atoll/commitment-test: runtime"))),
		signers: make(map[string]*signature.MemorySigner),
		names:   make(map[signature.PublicKey]string),
		labels:  make(map[hash.Hash]string),
	}
}

func (h *harness) signer(name string) *signature.MemorySigner {
	if s, ok := h.signers[name]; ok {
		return s
	}
	seed := hash.Digest([]byte("atoll/commitment-test: key " + name))
	s, err := signature.NewSignerFromSeed(seed[:])
	if err != nil {
		h.t.Fatal(err)
	}
	h.signers[name] = s
	h.names[s.Public()] = name
	return s
}

func (h *harness) key(name string) signature.PublicKey { return h.signer(name).Public() }

func (h *harness) name(pk signature.PublicKey) string {
	if n, ok := h.names[pk]; ok {
		return n
	}
	return pk.String()[:8]
}

func (h *harness) label(kind, label string) hash.Hash {
	d := hash.Digest([]byte(kind + "-" + label))
	h.labels[d] = label
	return d
}

func (h *harness) keys(prefix string, n int) []signature.PublicKey {
	out := make([]signature.PublicKey, n)
	for i := range out {
		out[i] = h.key(prefix + strconv.Itoa(i))
	}
	return out
}

func (h *harness) nameList(pks []signature.PublicKey) string {
	if len(pks) == 0 {
		return "(none)"
	}
	names := make([]string, len(pks))
	for i, pk := range pks {
		names[i] = h.name(pk)
	}
	return strings.Join(names, " ")
}

// scenario holds the arguments of setup with their defaults.
type scenario struct {
	workers, backups, backupSize, stragglers int
	roundTimeout, proposeTimeout             int64
	storage, minReplication, maxMessages     int
	latestRound                              uint64
	latestHeight                             int64
	tee                                      bool
}

func defaultScenario() scenario {
	return scenario{workers: 3, backups: 3, backupSize: -1, roundTimeout: 4, proposeTimeout: 2, storage: 3,
		minReplication: 2, maxMessages: 4, latestRound: 5, latestHeight: 10}
}

func (h *harness) setup(td *datadriven.TestData) string {
	s := defaultScenario()
	td.MaybeScanArgs(h.t, "workers", &s.workers)
	td.MaybeScanArgs(h.t, "backups", &s.backups)
	td.MaybeScanArgs(h.t, "backup-size", &s.backupSize)
	td.MaybeScanArgs(h.t, "stragglers", &s.stragglers)
	td.MaybeScanArgs(h.t, "round-timeout", &s.roundTimeout)
	td.MaybeScanArgs(h.t, "propose-timeout", &s.proposeTimeout)
	td.MaybeScanArgs(h.t, "storage", &s.storage)
	td.MaybeScanArgs(h.t, "min-replication", &s.minReplication)
	td.MaybeScanArgs(h.t, "max-messages", &s.maxMessages)
	td.MaybeScanArgs(h.t, "latest-round", &s.latestRound)
	td.MaybeScanArgs(h.t, "latest-height", &s.latestHeight)
	s.tee = td.HasArg("tee")
	h.apply(s)
	var b strings.Builder
	fmt.Fprintf(&b, "workers: %s\n", h.nameList(h.cfg.Committee.Workers))
	fmt.Fprintf(&b, "backups: %s (quorum %d)\n", h.nameList(h.cfg.Committee.Backups), h.cfg.Params.GroupBackupSize/2+1)
	fmt.Fprintf(&b, "storage: %s (min replication %d)\n", h.nameList(h.storage), s.minReplication)
	b.WriteString(h.roundLine())
	return b.String()
}

// setupDefaults sets up the default scenario.
func (h *harness) setupDefaults() { h.apply(defaultScenario()) }

func (h *harness) apply(s scenario) {
	if s.backupSize < 0 {
		s.backupSize = s.backups
	}
	h.tee = s.tee
	h.storage = h.keys("s", s.storage)
	h.limits = Limits{MinWriteReplication: uint64(s.minReplication), MaxMessages: uint64(s.maxMessages)}
	h.cfg = PoolConfig{
		Latest: api.Header{
			Namespace:    h.runtime,
			Round:        s.latestRound,
			Timestamp:    1_700_000_000,
			HeaderType:   api.HeaderTypeNormal,
			PreviousHash: hash.Digest([]byte("parent")),
			IORoot:       h.label("io", "genesis"),
			StateRoot:    h.label("state", "genesis"),
			MessagesHash: hash.Empty,
		},
		LatestHeight: s.latestHeight,
		Committee:    Committee{Workers: h.keys("w", s.workers), Backups: h.keys("b", s.backups)},
		Params: Params{
			GroupBackupSize:     uint64(s.backupSize),
			AllowedStragglers:   uint64(s.stragglers),
			RoundTimeout:        s.roundTimeout,
			ProposeBatchTimeout: s.proposeTimeout,
		},
	}
	h.newPool()
}

func (h *harness) roundLine() string {
	round := h.cfg.Round()
	return fmt.Sprintf("round %d: scheduler %s, latest block at height %d\n",
		round, h.name(h.cfg.Committee.Scheduler(round)), h.cfg.LatestHeight)
}

func (h *harness) newPool() {
	p, err := NewPool(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.pool = p
	h.finalized = nil
}

func (h *harness) verifyParams() *VerifyParams {
	p := &VerifyParams{
		ChainContext:     h.chain,
		Latest:           &h.cfg.Latest,
		Committee:        &h.cfg.Committee,
		StorageCommittee: h.storage,
		Limits:           h.limits,
	}
	if h.tee {
		raks := make(map[signature.PublicKey]signature.PublicKey)
		for _, pk := range h.cfg.Committee.Workers {
			raks[pk] = h.key("rak-" + h.name(pk))
		}
		for _, pk := range h.cfg.Committee.Backups {
			raks[pk] = h.key("rak-" + h.name(pk))
		}
		p.TEE = &TEEPolicy{RAKs: raks}
	}
	return p
}

// testMessages returns n messages that depend on the result label.
func testMessages(label string, n int) []api.Message {
	msgs := make([]api.Message, n)
	for i := range msgs {
		to := staking.NewAddress(hash.Digest([]byte(label)))
		msgs[i] = api.Message{Staking: &api.StakingMessage{Transfer: &staking.Transfer{To: to, Amount: *quantity.NewFromUint64(uint64(i + 1))}}}
	}
	return msgs
}

func (h *harness) run(t *testing.T, td *datadriven.TestData) string {
	switch td.Cmd {
	case "setup":
		return h.setup(td)
	case "commit":
		var height int64
		td.ScanArgs(t, "height", &height)
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(td.Input), "\n") {
			h.commitLine(&b, height, line)
		}
		b.WriteString(h.statusLine())
		return b.String()
	case "tick":
		var height int64
		td.ScanArgs(t, "height", &height)
		var b strings.Builder
		h.printOutcome(&b, h.pool.CheckTimeout(height))
		b.WriteString(h.statusLine())
		return b.String()
	case "proposer-timeout":
		var (
			node   string
			height int64
		)
		td.ScanArgs(t, "node", &node)
		td.ScanArgs(t, "height", &height)
		var b strings.Builder
		out, err := h.pool.ProposerTimeout(height, h.key(node))
		if err != nil {
			fmt.Fprintf(&b, "rejected: %s\n", codeOf(err))
		} else {
			b.WriteString("accepted\n")
			h.printOutcome(&b, out)
		}
		b.WriteString(h.statusLine())
		return b.String()
	case "new-block":
		var height int64
		td.ScanArgs(t, "height", &height)
		return h.newBlock(height)
	case "pool":
		return h.dumpPool()
	default:
		t.Fatalf("unknown command %q", td.Cmd)
		return ""
	}
}

func codeOf(err error) string {
	module, code := errors.Code(err)
	msg := err.Error()
	if e, ok := errors.Lookup(module, code); ok {
		msg = e.Message()
	}
	return fmt.Sprintf("%s/%d (%s)", module, code, msg)
}

func (h *harness) commitLine(b *strings.Builder, height int64, line string) {
	nodeName, args, err := datadriven.ParseLine(line)
	if err != nil {
		h.t.Fatalf("%q: %v", line, err)
	}
	c := h.buildCommitment(nodeName, parseCommitOptions(args))
	v, err := VerifyCommitment(h.verifyParams(), c)
	if err != nil {
		fmt.Fprintf(b, "%s: rejected: %s\n", nodeName, codeOf(err))
		return
	}
	out, err := h.pool.AddCommitment(height, v)
	switch {
	case err != nil:
		fmt.Fprintf(b, "%s: rejected: %s\n", nodeName, codeOf(err))
	case len(out.Events) == 0 && len(out.Equivocations) == 0:
		fmt.Fprintf(b, "%s: ignored (same result already committed)\n", nodeName)
	case len(out.Events) == 0:
		fmt.Fprintf(b, "%s: not counted (differs from its earlier commitment)\n", nodeName)
		h.printOutcome(b, out)
	default:
		fmt.Fprintf(b, "%s: accepted\n", nodeName)
		h.printOutcome(b, out)
	}
}

func (h *harness) printOutcome(b *strings.Builder, out *Outcome) {
	for _, ev := range out.Events {
		switch {
		case ev.ExecutorCommitted != nil:
			body, _ := ev.ExecutorCommitted.Commitment.Body()
			fmt.Fprintf(b, "  event: executor committed %s (%s)\n", h.name(ev.ExecutorCommitted.Commitment.Node()), h.describe(body))
		case ev.ExecutionDiscrepancyDetected != nil:
			fmt.Fprintf(b, "  event: discrepancy detected in round %d (timeout: %t)\n",
				ev.ExecutionDiscrepancyDetected.Round, ev.ExecutionDiscrepancyDetected.Timeout)
		case ev.Finalized != nil:
			fmt.Fprintf(b, "  event: round %d finalized\n", ev.Finalized.Round)
		case ev.RoundFailed != nil:
			fmt.Fprintf(b, "  event: round %d failed: %s\n", ev.RoundFailed.Round, ev.RoundFailed.Reason)
		}
		if ev.RuntimeID != h.runtime {
			h.t.Errorf("event for runtime %s", ev.RuntimeID)
		}
	}
	if f := out.Finalized; f != nil {
		signers := make([]signature.PublicKey, len(f.StorageSignatures))
		for i := range f.StorageSignatures {
			signers[i] = f.StorageSignatures[i].Key()
		}
		fmt.Fprintf(b, "  finalized: result %s with %d messages, receipts by %s\n",
			h.labels[f.Header.IORoot], len(f.Messages), h.nameList(signers))
		h.finalized = f
	}
	if len(out.IncorrectResults) != 0 {
		fmt.Fprintf(b, "  slash for incorrect results: %s\n", h.nameList(out.IncorrectResults))
	}
	if len(out.LivenessFaults) != 0 {
		fmt.Fprintf(b, "  liveness faults: %s\n", h.nameList(out.LivenessFaults))
	}
	for i := range out.Equivocations {
		b.WriteString("  " + h.describeEvidence(&out.Equivocations[i]) + "\n")
	}
}

// describeEvidence verifies evidence the pool reported and says what it proves.
func (h *harness) describeEvidence(ev *api.Evidence) string {
	off, err := api.VerifyEquivocation(&api.EquivocationParams{
		ChainContext:   h.chain,
		RuntimeID:      h.runtime,
		CurrentRound:   h.cfg.Round(),
		MaxEvidenceAge: 10,
	}, ev)
	if err != nil {
		return fmt.Sprintf("equivocation evidence that does not verify: %v", err)
	}
	return fmt.Sprintf("equivocation: %s by %s in round %d (evidence verifies)", off.Kind, h.name(off.Signer), off.Round)
}

func (h *harness) describe(body *api.ComputeBody) string {
	var s string
	if body.IsFailure() {
		s = "failure " + body.Failure.String()
	} else {
		s = "result " + h.labels[body.Header.IORoot]
	}
	return s + " on batch " + h.labels[body.InputRoot]
}

func (h *harness) statusLine() string {
	p := h.pool
	s := "status: " + p.Status().String()
	if p.Timer != nil {
		s += fmt.Sprintf("; timer armed at %d, fires at %d", p.Timer.ArmedAt, p.Timer.Deadline)
	}
	return s + "\n"
}

func (h *harness) newBlock(height int64) string {
	latest := h.cfg.Latest
	next := api.Header{
		Version:      api.HeaderVersion,
		Namespace:    latest.Namespace,
		Round:        latest.Round + 1,
		Timestamp:    latest.Timestamp + 6,
		PreviousHash: latest.Hash(),
		IORoot:       latest.IORoot,
		StateRoot:    latest.StateRoot,
		MessagesHash: latest.MessagesHash,
	}
	switch h.pool.Decided {
	case StatusFinalized:
		next.HeaderType = api.HeaderTypeNormal
		next.IORoot, next.StateRoot = h.finalized.Header.IORoot, h.finalized.Header.StateRoot
		next.MessagesHash = h.finalized.Header.MessagesHash
		next.StorageSignatures = h.finalized.StorageSignatures
	case StatusFailed:
		next.HeaderType = api.HeaderTypeRoundFailed
	default:
		next.HeaderType = api.HeaderTypeEpochTransition
	}
	h.previous = h.cfg.Latest
	h.cfg.Latest, h.cfg.LatestHeight = next, height
	h.newPool()
	return fmt.Sprintf("new block: round %d, %s\n", next.Round, next.HeaderType) + h.roundLine() + h.statusLine()
}

func (h *harness) dumpPool() string {
	var b strings.Builder
	b.WriteString(h.statusLine())
	if d := h.pool.Discrepancy; d != nil {
		fmt.Fprintf(&b, "discrepancy declared at %d (timeout: %t)\n", d.DeclaredAt, d.Timeout)
	}
	recs := slices.Clone(h.pool.Commitments)
	for i := range recs {
		fmt.Fprintf(&b, "%s (%s): %s\n", h.name(recs[i].Node()), recs[i].Role, h.describe(&recs[i].Body))
	}
	return b.String()
}

func TestPoolScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/pool", func(t *testing.T, path string) {
		h := newHarness(t)
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			if td.Cmd == "setup" {
				h = newHarness(t)
			}
			return h.run(t, td)
		})
	})
}
