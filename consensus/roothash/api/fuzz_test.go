package api

import (
	"bytes"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
)

// FuzzDecodeCommitment decodes untrusted bytes both as a commitment envelope and as a body
// blob: nothing may panic, and every body that decodes is canonical (re-encodes to its blob)
// and survives ValidateBasic and signature checks without panicking.
func FuzzDecodeCommitment(f *testing.F) {
	latest := testLatest()
	good := testBody(f, latest, "A")
	good.Messages = sampleMessages()[:2]
	c, err := SignExecutorCommitment(testSigner(f, "w0"), testChain, testRuntime, good)
	if err != nil {
		f.Fatal(err)
	}
	fail := testBody(f, latest, "A")
	fail.Failure, fail.Header, fail.StorageSignatures = FailureUnknown, ComputeResultsHeader{Round: 8}, nil
	cf, err := SignExecutorCommitment(testSigner(f, "w1"), testChain, testRuntime, fail)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cbor.Marshal(c))
	f.Add(cbor.Marshal(cf))
	f.Add(c.Blob)
	f.Add(cf.Blob)
	f.Add(cbor.Marshal(&ExecutorCommitment{}))
	f.Add([]byte{0xa2, 0x64, 'b', 'l', 'o', 'b', 0xf6})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if env, err := DecodeExecutorCommitment(data); err == nil {
			checkBody(t, env)
			_, _ = env.Open(testChain, testRuntime)
		}
		checkBody(t, &ExecutorCommitment{Blob: data})
	})
}

func checkBody(t *testing.T, c *ExecutorCommitment) {
	body, err := c.Body()
	if err != nil {
		return
	}
	if !bytes.Equal(cbor.Marshal(body), c.Blob) {
		t.Fatalf("accepted a non-canonical blob %x", c.Blob)
	}
	if body.ValidateBasic() == nil && body.IsFailure() && body.Header.HasResults() {
		t.Fatal("a failure with results passed ValidateBasic")
	}
	_ = body.ProposedBatch(testLatest())
}

// FuzzDecodeEvidence decodes untrusted evidence and verifies it: nothing may panic, and
// evidence that decodes keeps its meaning through a re-encoding.
func FuzzDecodeEvidence(f *testing.F) {
	latest := testLatest()
	a, b := testBody(f, latest, "A"), testBody(f, latest, "B")
	ca, err := SignExecutorCommitment(testSigner(f, "w0"), testChain, testRuntime, a)
	if err != nil {
		f.Fatal(err)
	}
	cb, err := SignExecutorCommitment(testSigner(f, "w0"), testChain, testRuntime, b)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cbor.Marshal(&Evidence{Executor: &ExecutorEquivocation{CommitA: *ca, CommitB: *cb}}))
	pa := ProposedBatch{InputRoot: hash.Digest([]byte("1")), Header: *latest}
	pb := ProposedBatch{InputRoot: hash.Digest([]byte("2")), Header: *latest}
	sa, err := SignProposedBatch(testSigner(f, "sched"), testChain, &pa)
	if err != nil {
		f.Fatal(err)
	}
	sb, err := SignProposedBatch(testSigner(f, "sched"), testChain, &pb)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cbor.Marshal(&Evidence{ProposedBatch: &ProposedBatchEquivocation{
		BatchA: SignedProposedBatch{Batch: pa, Signature: sa},
		BatchB: SignedProposedBatch{Batch: pb, Signature: sb},
	}}))
	f.Add(cbor.Marshal(&Evidence{}))
	f.Add([]byte{0xa1, 0x68, 'e', 'x', 'e', 'c', 'u', 't', 'o', 'r', 0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvidence(data)
		if err != nil {
			return
		}
		p := &EquivocationParams{ChainContext: testChain, RuntimeID: testRuntime, CurrentRound: latest.Round + 1, MaxEvidenceAge: 4}
		off, err := VerifyEquivocation(p, ev)
		back, err2 := DecodeEvidence(cbor.Marshal(ev))
		if err2 != nil {
			t.Fatalf("re-encoded evidence does not decode: %v", err2)
		}
		off2, err3 := VerifyEquivocation(p, back)
		if (err == nil) != (err3 == nil) || (off != nil && *off != *off2) {
			t.Fatalf("re-encoding changed the verdict: %v / %v", err, err3)
		}
	})
}
