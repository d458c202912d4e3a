package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/version"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/mkvs/writelog"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/sdk"
	"github.com/atoll-project/atoll/runtime/sdk/sdktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errTestFailure = coded.New("sdktest-runtime", 1, "the transaction asked to fail")

// testTx is the transaction of testRuntime: an operation and its arguments.
type testTx struct {
	Op    string `cbor:"op"`
	Key   []byte `cbor:"key,omitempty"`
	Value []byte `cbor:"value,omitempty"`
	Count int    `cbor:"count,omitempty"`
	Nonce int    `cbor:"nonce,omitempty"`
}

func (tx testTx) raw() []byte { return cbor.Marshal(&tx) }

// testRuntime exercises the SDK's rules:
//
//	set          key = value, output the old value
//	set_and_fail key = value, emit a message and a tag, then fail
//	emit         emit count transfers
//	fill         write count keys key||i = value
//	tag          emit tag key = value
//	get          output the value of key
//	refuse       refused by CheckTx
//	block        wait until the request is cancelled (signals started first)
//	write_in_check  try to write in CheckTx
type testRuntime struct {
	started chan struct{}
	// beginResults receives what BeginBatch saw, when not nil.
	beginResults chan roothash.RoundResults
}

func (r *testRuntime) Version() version.Version { return version.Version{Major: 3, Minor: 1} }

func (r *testRuntime) DecodeTx(raw []byte) (sdk.Tx, error) {
	var tx testTx
	if err := cbor.UnmarshalCanonical(raw, &tx); err != nil {
		return nil, fmt.Errorf("%w: %w", sdk.ErrMalformedTx, err)
	}
	return &tx, nil
}

func (r *testRuntime) CheckTx(ctx *sdk.TxContext, t sdk.Tx) error {
	tx := t.(*testTx)
	switch tx.Op {
	case "refuse":
		return errTestFailure
	case "write_in_check":
		return ctx.State().Insert(tx.Key, tx.Value)
	}
	return nil
}

func (r *testRuntime) ExecuteTx(ctx *sdk.TxContext, t sdk.Tx) (any, error) {
	tx := t.(*testTx)
	st := ctx.State()
	switch tx.Op {
	case "set":
		old, err := st.Get(tx.Key)
		if err != nil {
			return nil, err
		}
		return old, st.Insert(tx.Key, tx.Value)
	case "set_and_fail":
		if err := st.Insert(tx.Key, tx.Value); err != nil {
			return nil, err
		}
		if _, err := ctx.EmitMessage(transfer(1)); err != nil {
			return nil, err
		}
		if err := ctx.EmitTag([]byte("t"), tx.Value); err != nil {
			return nil, err
		}
		return nil, errTestFailure
	case "emit":
		var last uint32
		for i := range tx.Count {
			idx, err := ctx.EmitMessage(transfer(uint64(i + 1)))
			if err != nil {
				return nil, err
			}
			last = idx
		}
		return last, nil
	case "fill":
		for i := range tx.Count {
			if err := st.Insert(fmt.Appendf(append([]byte(nil), tx.Key...), "%04d", i), tx.Value); err != nil {
				return nil, err
			}
		}
		return tx.Count, nil
	case "tag":
		return nil, ctx.EmitTag(tx.Key, tx.Value)
	case "get":
		return st.Get(tx.Key)
	case "block":
		close(r.started)
		<-ctx.Context().Done()
		_, err := st.Get([]byte("anything"))
		return nil, err
	case "seed":
		seed := ctx.Seed()
		return []any{ctx.Round(), ctx.Timestamp(), ctx.Epoch(), seed[:]}, nil
	}
	return nil, fmt.Errorf("unknown op %q", tx.Op)
}

func (r *testRuntime) BeginBatch(ctx *sdk.TxContext) error {
	if r.beginResults != nil {
		r.beginResults <- ctx.RoundResults()
	}
	return nil
}

func (r *testRuntime) Query(ctx *sdk.QueryContext, method string, args []byte) (any, error) {
	if method != "get" {
		return nil, errTestFailure
	}
	var key []byte
	if err := cbor.Unmarshal(args, &key); err != nil {
		return nil, err
	}
	return ctx.State().Get(key)
}

func transfer(amount uint64) roothash.Message {
	var to staking.Address
	to[20] = 7
	return roothash.Message{Staking: &roothash.StakingMessage{Transfer: &staking.Transfer{To: to, Amount: *quantity.NewFromUint64(amount)}}}
}

func testNamespace() namespace.Namespace {
	var ns namespace.Namespace
	ns[0], ns[31] = 0x80, 0x05
	return ns
}

// harness runs a runtime in-process against a chain kept in an in-memory storage.
type harness struct {
	chain   *sdktest.Chain
	storage *sdktest.Storage
	d       *sdk.Dispatcher
}

func newHarness(t *testing.T, rt sdk.Runtime, genesis writelog.WriteLog) *harness {
	t.Helper()
	storage := sdktest.NewStorage()
	chain, err := sdktest.NewChain(context.Background(), testNamespace(), storage, genesis)
	if err != nil {
		t.Fatalf("NewChain() = %v", err)
	}
	return &harness{chain: chain, storage: storage, d: sdk.NewDispatcher(rt, storage, nil)}
}

// execute runs a batch of inputs and finalizes its result on the chain.
func (h *harness) execute(t *testing.T, inputs ...[]byte) *messages.RuntimeExecuteTxBatchResponse {
	t.Helper()
	ctx := context.Background()
	req, err := h.chain.ExecuteRequest(ctx, inputs)
	if err != nil {
		t.Fatalf("ExecuteRequest() = %v", err)
	}
	resp, err := h.d.ExecuteTxBatch(ctx, req)
	if err != nil {
		t.Fatalf("ExecuteTxBatch() = %v", err)
	}
	if err := h.chain.Finalize(ctx, req, resp); err != nil {
		t.Fatalf("Finalize() = %v", err)
	}
	return resp
}

// output returns the decoded output of raw in the latest block: its ok value decoded into
// a fresh any, or its error.
func (h *harness) output(t *testing.T, raw []byte) (any, error) {
	t.Helper()
	out, err := h.chain.Output(context.Background(), raw)
	if err != nil {
		t.Fatalf("Output() = %v", err)
	}
	if out == nil {
		t.Fatalf("no output for %x", raw)
	}
	if out.Error != nil {
		return nil, coded.FromWire(*out.Error)
	}
	var v any
	if err := cbor.Unmarshal(out.Ok, &v); err != nil {
		t.Fatalf("decoding output: %v", err)
	}
	return v, nil
}

func (h *harness) get(t *testing.T, key string) []byte {
	t.Helper()
	v, err := h.chain.StateGet(context.Background(), []byte(key))
	if err != nil {
		t.Fatalf("StateGet(%q) = %v", key, err)
	}
	return v
}

// tamperingStorage serves proofs from rs with their first entry corrupted.
type tamperingStorage struct{ rs syncer.ReadSyncer }

func (s tamperingStorage) tamper(resp *syncer.ProofResponse, err error) (*syncer.ProofResponse, error) {
	if err != nil {
		return nil, err
	}
	p := resp.Proof
	p.Entries = append([][]byte(nil), p.Entries...)
	if len(p.Entries) > 0 && len(p.Entries[0]) > 1 {
		e := append([]byte(nil), p.Entries[0]...)
		e[len(e)-1] ^= 1
		p.Entries[0] = e
	}
	return &syncer.ProofResponse{Proof: p}, nil
}

func (s tamperingStorage) SyncGet(ctx context.Context, req *syncer.GetRequest) (*syncer.ProofResponse, error) {
	return s.tamper(s.rs.SyncGet(ctx, req))
}

func (s tamperingStorage) SyncGetPrefixes(ctx context.Context, req *syncer.GetPrefixesRequest) (*syncer.ProofResponse, error) {
	return s.tamper(s.rs.SyncGetPrefixes(ctx, req))
}

func (s tamperingStorage) SyncIterate(ctx context.Context, req *syncer.IterateRequest) (*syncer.ProofResponse, error) {
	return s.tamper(s.rs.SyncIterate(ctx, req))
}

func wantCoded(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}
