package api

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/mkvs/node"
)

var (
	testChain   = hash.Digest([]byte("atoll/roothash-test: chain"))
	testRuntime = namespace.Namespace(hash.Digest([]byte("atoll/roothash-test: runtime")))
)

func testSigner(t testing.TB, name string) *signature.MemorySigner {
	t.Helper()
	seed := hash.Digest([]byte("atoll/roothash-test: key " + name))
	s, err := signature.NewSignerFromSeed(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testBody returns a signed-over success body for round latest.Round+1 with result label.
func testBody(t testing.TB, latest *Header, label string) *ComputeBody {
	t.Helper()
	round := latest.Round + 1
	input := hash.Digest([]byte("input"))
	inputReceipt := InputReceipt(latest.Namespace, round, input)
	sig, err := SignReceipt(testSigner(t, "s0"), testChain, &inputReceipt)
	if err != nil {
		t.Fatal(err)
	}
	b := &ComputeBody{
		Header: ComputeResultsHeader{
			Round:        round,
			PreviousHash: latest.Hash(),
			IORoot:       hash.Digest([]byte("io-" + label)),
			StateRoot:    hash.Digest([]byte("state-" + label)),
			MessagesHash: MessagesHash(nil),
		},
		InputRoot:        input,
		InputStorageSigs: []StorageSignature{sig},
	}
	b.TxnSchedSig, err = SignProposedBatch(testSigner(t, "scheduler"), testChain, b.ProposedBatch(latest))
	if err != nil {
		t.Fatal(err)
	}
	results := ResultsReceipt(latest.Namespace, round, b.Header.IORoot, b.Header.StateRoot)
	rs, err := SignReceipt(testSigner(t, "s1"), testChain, &results)
	if err != nil {
		t.Fatal(err)
	}
	b.StorageSignatures = []StorageSignature{rs}
	return b
}

func testLatest() *Header {
	h := sampleHeader()
	h.Namespace = testRuntime
	return &h
}

func TestTheSigningContextsHaveTheirDesignedNames(t *testing.T) {
	for ctx, want := range map[signature.Context]string{
		ProposedBatchContext:        "atoll/roothash: proposed batch",
		ExecutorCommitmentContext:   "atoll/roothash: executor commitment",
		ComputeResultsHeaderContext: "atoll/roothash: compute results header",
		ReceiptContext:              "atoll/storage: receipt",
	} {
		if ctx.Name() != want || !ctx.IsChainBound() || !ctx.IsRuntimeBound() {
			t.Errorf("context %q (chain %t, runtime %t), want %q bound to chain and runtime", ctx.Name(), ctx.IsChainBound(), ctx.IsRuntimeBound(), want)
		}
	}
}

func TestASignedCommitmentOpensOnlyForItsChainAndRuntime(t *testing.T) {
	latest := testLatest()
	body := testBody(t, latest, "A")
	c, err := SignExecutorCommitment(testSigner(t, "w0"), testChain, testRuntime, body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Open(testChain, testRuntime)
	if err != nil {
		t.Fatal(err)
	}
	if !SameResult(got, body) || got.InputRoot != body.InputRoot {
		t.Error("the opened body differs")
	}
	if _, err := c.Open(testChain, namespace.Namespace{1}); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("opened for another runtime: %v", err)
	}
	if _, err := c.Open(hash.Digest([]byte("other chain")), testRuntime); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("opened for another chain: %v", err)
	}
	dec, err := DecodeExecutorCommitment(cbor.Marshal(c))
	if err != nil || dec.Node() != testSigner(t, "w0").Public() {
		t.Errorf("round trip: %v", err)
	}
}

func TestANonCanonicalBlobIsMalformed(t *testing.T) {
	body := testBody(t, testLatest(), "A")
	blob := cbor.Marshal(body)
	// Re-encode the leading map header in a longer form: decodes, but is not canonical.
	long := append([]byte{0xb8, blob[0] & 0x1f}, blob[1:]...)
	c := ExecutorCommitment{Blob: long}
	if _, err := c.Body(); !errors.Is(err, ErrMalformedCommitment) {
		t.Errorf("Body() = %v, want ErrMalformedCommitment", err)
	}
}

func TestComputeBodyValidateBasicNamesTheBrokenRule(t *testing.T) {
	latest := testLatest()
	failure := func(b *ComputeBody) {
		b.Failure = FailureUnknown
		b.Header = ComputeResultsHeader{Round: b.Header.Round, PreviousHash: b.Header.PreviousHash}
		b.StorageSignatures = nil
	}
	rak := signature.RawSignature{1}
	cases := []struct {
		name   string
		mutate func(b *ComputeBody)
		want   error
	}{
		{"a success is valid", func(*ComputeBody) {}, nil},
		{"a bare failure is valid", failure, nil},
		{"an unknown failure value", func(b *ComputeBody) { b.Failure = 3 }, ErrMalformedCommitment},
		{"no txn_sched_sig", func(b *ComputeBody) { b.TxnSchedSig = signature.Signature{} }, ErrMissingTxnSchedSig},
		{"a zero input root", func(b *ComputeBody) { b.InputRoot = hash.Hash{} }, ErrMalformedCommitment},
		{"a success with a zero state root", func(b *ComputeBody) { b.Header.StateRoot = hash.Hash{} }, ErrMalformedCommitment},
		{"a success with a zero messages hash", func(b *ComputeBody) { b.Header.MessagesHash = hash.Hash{} }, ErrMalformedCommitment},
		{"a malformed message", func(b *ComputeBody) { b.Messages = []Message{{}} }, ErrMalformedCommitment},
		{"a failure with an io root", func(b *ComputeBody) { failure(b); b.Header.IORoot = hash.Digest() }, ErrFailureWithResults},
		{"a failure with a messages hash", func(b *ComputeBody) { failure(b); b.Header.MessagesHash = hash.Empty }, ErrFailureWithResults},
		{"a failure with receipts", func(b *ComputeBody) { failure(b); b.StorageSignatures = b.InputStorageSigs }, ErrFailureWithResults},
		{"a failure with a RAK signature", func(b *ComputeBody) { failure(b); b.RAKSig = &rak }, ErrFailureWithResults},
		{"a failure with messages", func(b *ComputeBody) { failure(b); b.Messages = sampleMessages()[:1] }, ErrFailureWithResults},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := testBody(t, latest, "A")
			c.mutate(b)
			err := b.ValidateBasic()
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Errorf("ValidateBasic() = %v, want %v", err, c.want)
			}
		})
	}
}

func TestAgreementComparesInputRootAndResultsOnly(t *testing.T) {
	latest := testLatest()
	a, a2, b := testBody(t, latest, "A"), testBody(t, latest, "A"), testBody(t, latest, "B")
	a2.StorageSignatures = nil
	a2.Messages = sampleMessages()
	if !Agree(a, a2) || !SameResult(a, a2) {
		t.Error("receipts and messages changed agreement")
	}
	if Agree(a, b) || SameResult(a, b) {
		t.Error("different results agree")
	}
	other := *a
	other.InputRoot = hash.Digest([]byte("other input"))
	if Agree(a, &other) || !SameResult(a, &other) {
		t.Error("input root: Agree must compare it, SameResult must not")
	}
	f1, f2 := *a, *a
	f1.Failure, f2.Failure = FailureUnknown, FailureStateUnavailable
	f1.Header, f2.Header = ComputeResultsHeader{Round: a.Header.Round}, ComputeResultsHeader{Round: a.Header.Round}
	if !Agree(&f1, &f2) || SameResult(&f1, &f2) || Agree(&f1, a) {
		t.Error("failures agree with each other (whatever the value) and only with each other")
	}
}

// The golden values pin the encodings that are signed: a change is a consensus change.
const (
	goldenInputReceipt   = "a803086b7619281ff41520aec61f982835d45dbe0c321439199e7c26038c4ce6"
	goldenResultsReceipt = "58334fd610842a96c275cebe59211a6057f80b9e81ff0de750ec46c0bea5a0a0"
)

func TestReceiptBodiesMatchTheGoldenVectors(t *testing.T) {
	ns := namespace.Namespace{0x2a}
	in := InputReceipt(ns, 7, hash.Digest([]byte("input")))
	res := ResultsReceipt(ns, 7, hash.Digest([]byte("io")), hash.Digest([]byte("state")))
	for _, c := range []struct {
		name string
		body ReceiptBody
		want string
	}{{"input", in, goldenInputReceipt}, {"results", res, goldenResultsReceipt}} {
		if err := c.body.ValidateBasic(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if got := hash.DigestCBOR(&c.body).String(); got != c.want {
			t.Errorf("%s receipt hash = %s, want %s (encoding %x)", c.name, got, c.want, cbor.Marshal(&c.body))
		}
	}
}

func TestAReceiptVerifiesOnlyOverTheRootsItWasSignedFor(t *testing.T) {
	body := ResultsReceipt(testRuntime, 7, hash.Digest([]byte("io")), hash.Digest([]byte("state")))
	sig, err := SignReceipt(testSigner(t, "s0"), testChain, &body)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(testChain, &body); err != nil {
		t.Fatal(err)
	}
	swapped := ResultsReceipt(testRuntime, 7, hash.Digest([]byte("state")), hash.Digest([]byte("io")))
	later := ResultsReceipt(testRuntime, 8, hash.Digest([]byte("io")), hash.Digest([]byte("state")))
	for _, b := range []ReceiptBody{swapped, later} {
		if err := sig.Verify(testChain, &b); !errors.Is(err, ErrInvalidReceipt) {
			t.Errorf("verified over %+v: %v", b, err)
		}
	}
}

func TestReceiptBodyValidateBasicRejectsMalformedBodies(t *testing.T) {
	h := hash.Digest([]byte("root"))
	for name, b := range map[string]ReceiptBody{
		"version 0":       {RootTypes: []node.RootType{node.RootTypeIO}, Roots: []hash.Hash{h}},
		"no roots":        {Version: ReceiptVersion},
		"more types":      {Version: ReceiptVersion, RootTypes: []node.RootType{node.RootTypeIO, node.RootTypeState}, Roots: []hash.Hash{h}},
		"an invalid type": {Version: ReceiptVersion, RootTypes: []node.RootType{node.RootTypeInvalid}, Roots: []hash.Hash{h}},
		"a type twice":    {Version: ReceiptVersion, RootTypes: []node.RootType{node.RootTypeIO, node.RootTypeIO}, Roots: []hash.Hash{h, h}},
	} {
		if err := b.ValidateBasic(); !errors.Is(err, ErrInvalidReceipt) {
			t.Errorf("%s: ValidateBasic() = %v", name, err)
		}
	}
}
