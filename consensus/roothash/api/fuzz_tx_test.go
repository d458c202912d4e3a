package api

import (
	"bytes"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

// FuzzDecodeTxBodies decodes untrusted bytes as each roothash transaction body: nothing may
// panic, and every body that decodes is canonical (re-encodes to the same bytes) and passes
// its own ValidateBasic.
func FuzzDecodeTxBodies(f *testing.F) {
	latest := testLatest()
	body := testBody(f, latest, "A")
	c, err := SignExecutorCommitment(testSigner(f, "w0"), testChain, testRuntime, body)
	if err != nil {
		f.Fatal(err)
	}
	other := testBody(f, latest, "B")
	c2, err := SignExecutorCommitment(testSigner(f, "w0"), testChain, testRuntime, other)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cbor.Marshal(&ExecutorCommit{ID: testRuntime, Commits: []ExecutorCommitment{*c}}))
	f.Add(cbor.Marshal(&ExecutorCommit{ID: testRuntime}))
	f.Add(cbor.Marshal(&ProposerTimeout{ID: testRuntime, Round: 9}))
	f.Add(cbor.Marshal(&SubmitEvidence{ID: testRuntime, Evidence: Evidence{Executor: &ExecutorEquivocation{CommitA: *c, CommitB: *c2}}}))
	f.Add(cbor.Marshal(&SubmitEvidence{ID: testRuntime}))
	f.Add([]byte{0xa0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := DecodeExecutorCommit(data); err == nil {
			checkCanonical(t, data, b)
			if len(b.Commits) == 0 || len(b.Commits) > MaxCommitsPerTx {
				t.Fatalf("accepted %d commitments", len(b.Commits))
			}
		}
		if b, err := DecodeProposerTimeout(data); err == nil {
			checkCanonical(t, data, b)
		}
		if b, err := DecodeSubmitEvidence(data); err == nil {
			checkCanonical(t, data, b)
			if err := b.Evidence.ValidateBasic(); err != nil {
				t.Fatalf("accepted evidence failing ValidateBasic: %v", err)
			}
		}
	})
}

func checkCanonical(t *testing.T, data []byte, v any) {
	t.Helper()
	if !bytes.Equal(cbor.Marshal(v), data) {
		t.Fatalf("decoded %x, which re-encodes differently", data)
	}
}
