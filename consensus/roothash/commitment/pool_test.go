package commitment

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// goldenPoolHash pins the CBOR encoding of the pool state below: the pool lives in consensus
// state, so a change to its encoding is a consensus change and must be deliberate.
const goldenPoolHash = "8ece5fcf6b50648ef615a1b221a808a38f9725872ce72fc43bfd864e01c218f6"

// discrepancyPool returns a pool in a discrepancy with two worker commitments.
func discrepancyPool(t *testing.T) (*harness, *Pool) {
	h := newHarness(t)
	h.setupDefaults()
	for _, c := range []struct {
		node string
		opts commitOptions
	}{
		{"w0", commitOptions{"result": {"A"}, "msgs": {"1"}}},
		{"w1", commitOptions{"failure": {"unknown"}}},
	} {
		v, err := VerifyCommitment(h.verifyParams(), h.buildCommitment(c.node, c.opts))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.pool.AddCommitment(11, v); err != nil {
			t.Fatal(err)
		}
	}
	if h.pool.Status() != StatusDiscrepancy {
		t.Fatalf("status %s, want discrepancy", h.pool.Status())
	}
	return h, h.pool
}

func TestPoolEncodingMatchesTheGoldenVector(t *testing.T) {
	_, p := discrepancyPool(t)
	enc := p.Encode()
	if got := hash.Digest(enc).String(); got != goldenPoolHash {
		t.Errorf("pool encoding hash = %s, want %s\nencoding: %s", got, goldenPoolHash, hex.EncodeToString(enc))
	}
}

func TestADecodedPoolContinuesExactlyWhereTheEncodedOneStopped(t *testing.T) {
	h, p := discrepancyPool(t)
	back, err := DecodePool(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Encode(), p.Encode()) {
		t.Fatal("the decoded pool encodes differently")
	}
	var outs [2][]*Outcome
	for i, pool := range []*Pool{p, back} {
		for _, b := range []string{"b0", "b1"} {
			v, err := VerifyCommitment(h.verifyParams(), h.buildCommitment(b, commitOptions{"result": {"A"}, "msgs": {"1"}}))
			if err != nil {
				t.Fatal(err)
			}
			out, err := pool.AddCommitment(12, v)
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = append(outs[i], out)
		}
	}
	// Outcomes hold quantities with unexported fields; their canonical encodings compare.
	if !bytes.Equal(cbor.Marshal(outs[0]), cbor.Marshal(outs[1])) {
		t.Error("the decoded pool decided differently")
	}
	if last := outs[1][1]; last.Status != StatusFinalized || len(last.Finalized.Messages) != 1 || len(last.LivenessFaults) != 1 {
		t.Errorf("decoded pool outcome = %+v, want finalized with 1 message and 1 liveness fault", last)
	}
}

func TestDecodePoolRejectsGarbageAndBrokenConfigurations(t *testing.T) {
	if _, err := DecodePool([]byte{0xa0}); err == nil {
		t.Error("a pool without a configuration decoded")
	}
	if _, err := DecodePool([]byte("not cbor")); err == nil {
		t.Error("garbage decoded")
	}
}

func TestNewPoolRejectsInvalidConfigurations(t *testing.T) {
	h := newHarness(t)
	h.setupDefaults()
	w := h.key("w0")
	cases := map[string]func(c *PoolConfig){
		"no workers":             func(c *PoolConfig) { c.Committee.Workers = nil },
		"a worker twice":         func(c *PoolConfig) { c.Committee.Workers = []signature.PublicKey{w, w} },
		"a worker as a backup":   func(c *PoolConfig) { c.Committee.Backups = []signature.PublicKey{w} },
		"a zero round timeout":   func(c *PoolConfig) { c.Params.RoundTimeout = 0 },
		"a negative propose":     func(c *PoolConfig) { c.Params.ProposeBatchTimeout = -1 },
		"an invalid header type": func(c *PoolConfig) { c.Latest.HeaderType = 0 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := h.cfg
			cfg.Committee = Committee{Workers: h.cfg.Committee.Workers, Backups: h.cfg.Committee.Backups}
			mutate(&cfg)
			if _, err := NewPool(cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestTheTimerIsReportedUntilTheRoundIsDecided(t *testing.T) {
	h := newHarness(t)
	h.setupDefaults()
	if _, ok := h.pool.NextTimeout(); ok {
		t.Fatal("an empty pool has a timeout")
	}
	if _, err := h.pool.ProposerTimeout(12, h.key("w1")); err != nil {
		t.Fatal(err)
	}
	if at, ok := h.pool.NextTimeout(); !ok || at != 16 {
		t.Fatalf("NextTimeout = %d, %t; want 16", at, ok)
	}
	out := h.pool.CheckTimeout(16)
	if out.Status != StatusFailed || out.FailureReason != api.FailedSchedulerMissing {
		t.Fatalf("outcome %+v, want failed with the scheduler missing", out)
	}
	if _, ok := h.pool.NextTimeout(); ok {
		t.Error("a decided pool has a timeout")
	}
	if _, err := h.pool.ProposerTimeout(17, h.key("w1")); !errors.Is(err, api.ErrRoundDecided) {
		t.Errorf("proposer timeout after the decision: %v, want ErrRoundDecided", err)
	}
}

func TestAPoolRejectsCommitmentsVerifiedForAnotherRound(t *testing.T) {
	h := newHarness(t)
	h.setupDefaults()
	v, err := VerifyCommitment(h.verifyParams(), h.buildCommitment("w1", commitOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	h.newBlock(11)
	if _, err := h.pool.AddCommitment(12, v); !errors.Is(err, api.ErrWrongRound) {
		t.Errorf("AddCommitment = %v, want ErrWrongRound", err)
	}
}

func TestVerifyCommitmentsJudgesEachCommitmentOfABatchOnItsOwn(t *testing.T) {
	h := newHarness(t)
	h.setupDefaults()
	cs := []api.ExecutorCommitment{
		*h.buildCommitment("w0", commitOptions{}),
		*h.buildCommitment("w1", commitOptions{"fault": {"signature"}}),
		*h.buildCommitment("w2", commitOptions{"fault": {"receipt-roots"}}),
		*h.buildCommitment("w1", commitOptions{"fault": {"round"}}),
		*h.buildCommitment("w2", commitOptions{"failure": {"unknown"}}),
	}
	want := []error{nil, api.ErrInvalidSignature, api.ErrInvalidReceipt, api.ErrWrongRound, nil}
	vs, errs := VerifyCommitments(h.verifyParams(), cs)
	for i := range cs {
		if !errors.Is(errs[i], want[i]) || (errs[i] == nil) != (vs[i] != nil) || (want[i] == nil) != (errs[i] == nil) {
			t.Errorf("commitment %d: verified %v, error %v; want error %v", i, vs[i] != nil, errs[i], want[i])
		}
	}
	if vs[0].Role() != RoleWorker || vs[0].Node() != h.key("w0") {
		t.Errorf("verified commitment 0 has role %s and node %s", vs[0].Role(), h.name(vs[0].Node()))
	}
}

func TestVerifyCommitmentsRejectsEverythingWithBrokenParameters(t *testing.T) {
	h := newHarness(t)
	h.setupDefaults()
	c := h.buildCommitment("w0", commitOptions{})
	p := h.verifyParams()
	p.Limits.MinWriteReplication = 0
	if _, err := VerifyCommitment(p, c); err == nil {
		t.Error("accepted with min_write_replication 0")
	} else if module, _ := errors.Code(err); module == api.ModuleName {
		t.Errorf("broken parameters gave the coded error %v", err)
	}
}
