package api

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
)

func signCommitment(t *testing.T, signer string, runtime namespace.Namespace, b *ComputeBody) ExecutorCommitment {
	t.Helper()
	c, err := SignExecutorCommitment(testSigner(t, signer), testChain, runtime, b)
	if err != nil {
		t.Fatal(err)
	}
	return *c
}

func signBatch(t *testing.T, signer string, latest *Header, input string) SignedProposedBatch {
	t.Helper()
	b := ProposedBatch{InputRoot: hash.Digest([]byte(input)), Header: *latest}
	sig, err := SignProposedBatch(testSigner(t, signer), testChain, &b)
	if err != nil {
		t.Fatal(err)
	}
	return SignedProposedBatch{Batch: b, Signature: sig}
}

func TestVerifyEquivocationAcceptsOnlyRecentRealEquivocations(t *testing.T) {
	latest := testLatest()
	round := latest.Round + 1
	a, b := testBody(t, latest, "A"), testBody(t, latest, "B")
	// The same result A with fresh receipts (another storage node signed it).
	fresh := testBody(t, latest, "A")
	results := ResultsReceipt(testRuntime, round, fresh.Header.IORoot, fresh.Header.StateRoot)
	rs, err := SignReceipt(testSigner(t, "s2"), testChain, &results)
	if err != nil {
		t.Fatal(err)
	}
	fresh.StorageSignatures = []StorageSignature{rs}
	failA, failB := testBody(t, latest, "A"), testBody(t, latest, "A")
	for i, f := range []*ComputeBody{failA, failB} {
		f.Failure = Failure(i + 1)
		f.Header = ComputeResultsHeader{Round: round, PreviousHash: latest.Hash()}
		f.StorageSignatures = nil
	}
	nextLatest := *latest
	nextLatest.Round++
	later := testBody(t, &nextLatest, "B")
	otherParent := *latest
	otherParent.Timestamp++
	forked := testBody(t, &otherParent, "B")

	executor := func(x, y ExecutorCommitment) *Evidence {
		return &Evidence{Executor: &ExecutorEquivocation{CommitA: x, CommitB: y}}
	}
	batches := func(x, y SignedProposedBatch) *Evidence {
		return &Evidence{ProposedBatch: &ProposedBatchEquivocation{BatchA: x, BatchB: y}}
	}
	tampered := signCommitment(t, "w0", testRuntime, b)
	tampered.Signature.Signature[0] ^= 1
	badBatch := signBatch(t, "sched", latest, "input-2")
	badBatch.Signature.Signature[0] ^= 1

	cases := []struct {
		name       string
		ev         *Evidence
		current    uint64
		want       error
		wantKind   OffenceKind
		wantSigner string
	}{
		{"two different results are equivocation", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", testRuntime, b)), round, nil, OffenceExecutor, "w0"},
		{"a result and a failure are equivocation", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", testRuntime, failA)), round, nil, OffenceExecutor, "w0"},
		{"two different failure values are equivocation", executor(signCommitment(t, "w0", testRuntime, failA), signCommitment(t, "w0", testRuntime, failB)), round, nil, OffenceExecutor, "w0"},
		{"evidence exactly max_evidence_age old is accepted", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", testRuntime, b)), round + 10, nil, OffenceExecutor, "w0"},
		{"the same result re-signed with fresh receipts is not equivocation", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", testRuntime, fresh)), round, ErrInvalidEvidence, 0, ""},
		{"commitments by two signers are not equivocation", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w1", testRuntime, b)), round, ErrInvalidEvidence, 0, ""},
		{"commitments for two rounds are not equivocation", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", testRuntime, later)), round + 1, ErrInvalidEvidence, 0, ""},
		{"commitments on two previous blocks are not equivocation", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", testRuntime, forked)), round, ErrInvalidEvidence, 0, ""},
		{"commitments for two runtimes are not equivocation", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", namespace.Namespace{7}, b)), round, ErrInvalidEvidence, 0, ""},
		{"a bad signature is rejected", executor(signCommitment(t, "w0", testRuntime, a), tampered), round, ErrInvalidEvidence, 0, ""},
		{"evidence older than max_evidence_age is rejected", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", testRuntime, b)), round + 11, ErrEvidenceTooOld, 0, ""},
		{"evidence from a future round is rejected", executor(signCommitment(t, "w0", testRuntime, a), signCommitment(t, "w0", testRuntime, b)), round - 1, ErrInvalidEvidence, 0, ""},
		{"two batches over different input roots are equivocation", batches(signBatch(t, "sched", latest, "input-1"), signBatch(t, "sched", latest, "input-2")), round, nil, OffenceProposedBatch, "sched"},
		{"two batches over one input root are not equivocation", batches(signBatch(t, "sched", latest, "input-1"), signBatch(t, "sched", latest, "input-1")), round, ErrInvalidEvidence, 0, ""},
		{"batches by two schedulers are not equivocation", batches(signBatch(t, "sched", latest, "input-1"), signBatch(t, "w1", latest, "input-2")), round, ErrInvalidEvidence, 0, ""},
		{"batches for two rounds are not equivocation", batches(signBatch(t, "sched", latest, "input-1"), signBatch(t, "sched", &nextLatest, "input-2")), round + 1, ErrInvalidEvidence, 0, ""},
		{"a bad batch signature is rejected", batches(signBatch(t, "sched", latest, "input-1"), badBatch), round, ErrInvalidEvidence, 0, ""},
		{"batch evidence older than max_evidence_age is rejected", batches(signBatch(t, "sched", latest, "input-1"), signBatch(t, "sched", latest, "input-2")), round + 11, ErrEvidenceTooOld, 0, ""},
		{"evidence of no kind is malformed", &Evidence{}, round, ErrMalformedEvidence, 0, ""},
		{"evidence of both kinds is malformed", &Evidence{Executor: &ExecutorEquivocation{}, ProposedBatch: &ProposedBatchEquivocation{}}, round, ErrMalformedEvidence, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &EquivocationParams{ChainContext: testChain, RuntimeID: testRuntime, CurrentRound: c.current, MaxEvidenceAge: 10}
			off, err := VerifyEquivocation(p, c.ev)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("VerifyEquivocation() = %v, want %v", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if off.Kind != c.wantKind || off.Signer != testSigner(t, c.wantSigner).Public() || off.RuntimeID != testRuntime {
				t.Errorf("offence %+v, want kind %s by %s", off, c.wantKind, c.wantSigner)
			}
			if off.Round != round && off.Round != round+1 {
				t.Errorf("offence round %d", off.Round)
			}
			// Evidence survives its own encoding.
			back, err := DecodeEvidence(cbor.Marshal(c.ev))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := VerifyEquivocation(p, back); err != nil {
				t.Errorf("decoded evidence: %v", err)
			}
		})
	}
}

// goldenComputeBodyHash pins the signed encoding of a commitment body.
const goldenComputeBodyHash = "9b653a999e8b0830edf435cf77461f3dc74742596ec955d2e55c743b034b532c"

func TestComputeBodyEncodingMatchesTheGoldenVector(t *testing.T) {
	b := testBody(t, testLatest(), "A")
	rak := signature.RawSignature{0xaa}
	b.RAKSig = &rak
	b.Messages = sampleMessages()[:1]
	if got := hash.DigestCBOR(b).String(); got != goldenComputeBodyHash {
		t.Errorf("body hash = %s, want %s (encoding %x)", got, goldenComputeBodyHash, cbor.Marshal(b))
	}
}
