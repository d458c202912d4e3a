package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/mkvs/writelog"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/sdk"
	"github.com/atoll-project/atoll/runtime/sdk/iotree"
)

func genesis(kv ...string) writelog.WriteLog {
	var wl writelog.WriteLog
	for i := 0; i+1 < len(kv); i += 2 {
		wl = append(wl, writelog.LogEntry{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	wl.Sort()
	return wl
}

func TestTransactionsSeeTheWritesOfEarlierOnesAndTheHostGetsTheSameRoots(t *testing.T) {
	h := newHarness(t, &testRuntime{}, genesis("a", "0"))
	set1 := testTx{Op: "set", Key: []byte("a"), Value: []byte("1")}.raw()
	set2 := testTx{Op: "set", Key: []byte("a"), Value: []byte("2")}.raw()
	get := testTx{Op: "get", Key: []byte("a")}.raw()
	resp := h.execute(t, set1, set2, get)

	if got, want := resp.TxHashes, []hash.Hash{hash.Digest(set1), hash.Digest(set2), hash.Digest(get)}; !slices.Equal(got, want) {
		t.Fatalf("TxHashes = %v, want %v", got, want)
	}
	for raw, want := range map[string]string{string(set1): "0", string(set2): "1", string(get): "2"} {
		if v, err := h.output(t, []byte(raw)); err != nil || !bytes.Equal(v.([]byte), []byte(want)) {
			t.Errorf("output = %v, %v; want %q", v, err, want)
		}
	}
	if got := h.get(t, "a"); string(got) != "2" {
		t.Errorf("state a = %q, want 2", got)
	}
	if n := len(resp.Batch.StateWriteLog); n != 1 {
		t.Errorf("state write log has %d entries, want 1 (net changes only)", n)
	}
}

func TestTheIOWriteLogHoldsOnlyOutputsAndTags(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	set := testTx{Op: "set", Key: []byte("k"), Value: []byte("v")}.raw()
	tag := testTx{Op: "tag", Key: []byte("color"), Value: []byte("blue")}.raw()
	resp := h.execute(t, set, tag)

	want := [][]byte{iotree.OutputKey(hash.Digest(set)), iotree.OutputKey(hash.Digest(tag)), iotree.TagKey([]byte("color"), hash.Digest(tag))}
	slices.SortFunc(want, bytes.Compare)
	var got [][]byte
	for _, e := range resp.Batch.IOWriteLog {
		got = append(got, e.Key)
	}
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("io write log keys = %x, want %x", got, want)
	}
	if v, err := h.chain.Tag(context.Background(), []byte("color"), tag); err != nil || string(v) != "blue" {
		t.Errorf("tag = %q, %v; want blue", v, err)
	}
}

func TestAFailingTransactionLeavesNoStateChangeMessageOrTag(t *testing.T) {
	h := newHarness(t, &testRuntime{}, genesis("a", "0"))
	fail := testTx{Op: "set_and_fail", Key: []byte("a"), Value: []byte("x")}.raw()
	resp := h.execute(t, fail)

	if _, err := h.output(t, fail); !errors.Is(err, errTestFailure) {
		t.Fatalf("output error = %v, want errTestFailure", err)
	}
	if len(resp.Batch.StateWriteLog) != 0 || len(resp.Batch.Messages) != 0 || resp.Batch.Header.MessagesHash != hash.Empty {
		t.Errorf("failed tx left state %v, messages %v", resp.Batch.StateWriteLog, resp.Batch.Messages)
	}
	if len(resp.Batch.IOWriteLog) != 1 {
		t.Errorf("io write log has %d entries, want only the output", len(resp.Batch.IOWriteLog))
	}
	if got := h.get(t, "a"); string(got) != "0" {
		t.Errorf("state a = %q, want 0", got)
	}
}

func TestATransactionRefusedByCheckTxIsExecutedAsFailed(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	refuse := testTx{Op: "refuse"}.raw()
	h.execute(t, refuse)
	if _, err := h.output(t, refuse); !errors.Is(err, errTestFailure) {
		t.Fatalf("output error = %v, want errTestFailure", err)
	}
}

func TestATransactionPastMaxMessagesFailsAndTheOthersKeepTheirMessages(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	h.chain.MaxMessages = 3
	two := testTx{Op: "emit", Count: 2}.raw()
	twoMore := testTx{Op: "emit", Count: 2, Nonce: 1}.raw()
	one := testTx{Op: "emit", Count: 1}.raw()
	resp := h.execute(t, two, twoMore, one)

	if _, err := h.output(t, twoMore); !errors.Is(err, sdk.ErrTooManyMessages) {
		t.Fatalf("second tx: %v, want ErrTooManyMessages", err)
	}
	if v, err := h.output(t, one); err != nil || v != uint64(2) {
		t.Fatalf("third tx output = %v, %v; want message index 2", v, err)
	}
	if n := len(resp.Batch.Messages); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
	if resp.Batch.Header.MessagesHash != roothash.MessagesHash(resp.Batch.Messages) {
		t.Errorf("messages hash does not match the messages")
	}
}

func TestTheBatchStopsBeforeATransactionThatWouldPassTheEntryLimit(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	// Each fill of 3 keys costs 3 state entries and 1 output.
	h.chain.Limits = messages.BatchLimits{MaxApplyWriteLogEntries: 10}
	fills := [][]byte{
		testTx{Op: "fill", Key: []byte("a"), Count: 3}.raw(),
		testTx{Op: "fill", Key: []byte("b"), Count: 3}.raw(),
		testTx{Op: "fill", Key: []byte("c"), Count: 3}.raw(),
		testTx{Op: "fill", Key: []byte("d"), Count: 1}.raw(),
	}
	resp := h.execute(t, fills...)

	if got, want := resp.TxHashes, []hash.Hash{hash.Digest(fills[0]), hash.Digest(fills[1])}; !slices.Equal(got, want) {
		t.Fatalf("executed %v, want the first two", got)
	}
	if got, want := resp.Unexecuted, []hash.Hash{hash.Digest(fills[2]), hash.Digest(fills[3])}; !slices.Equal(got, want) {
		t.Fatalf("unexecuted %v, want the last two (the batch stops, in order)", got)
	}
	if n := len(resp.Batch.StateWriteLog) + len(resp.Batch.IOWriteLog); n > 10 {
		t.Errorf("write logs hold %d entries, limit 10", n)
	}
}

func TestATransactionThatAloneBreaksALimitIsExecutedAsFailedNotDeferred(t *testing.T) {
	for _, c := range []struct {
		name   string
		limits messages.BatchLimits
	}{
		{"entries", messages.BatchLimits{MaxApplyWriteLogEntries: 10}},
		{"bytes", messages.BatchLimits{MaxBatchBytes: 2000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, &testRuntime{}, nil)
			h.chain.Limits = c.limits
			small := testTx{Op: "set", Key: []byte("s"), Value: []byte("1")}.raw()
			huge := testTx{Op: "fill", Key: []byte("h"), Count: 20, Value: bytes.Repeat([]byte{1}, 100)}.raw()
			resp := h.execute(t, small, huge)

			if len(resp.Unexecuted) != 0 || len(resp.TxHashes) != 2 {
				t.Fatalf("executed %d, unexecuted %d; want both executed", len(resp.TxHashes), len(resp.Unexecuted))
			}
			if _, err := h.output(t, huge); !errors.Is(err, sdk.ErrTxTooLarge) {
				t.Fatalf("huge tx: %v, want ErrTxTooLarge", err)
			}
			if h.get(t, "h0000") != nil || string(h.get(t, "s")) != "1" {
				t.Errorf("state: the failed tx wrote, or the small one did not")
			}
		})
	}
}

func TestARepeatedInputRunsOnceAtItsFirstPosition(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	emit := testTx{Op: "emit", Count: 1}.raw()
	other := testTx{Op: "set", Key: []byte("k"), Value: []byte("v")}.raw()
	resp := h.execute(t, emit, other, emit)

	if got, want := resp.TxHashes, []hash.Hash{hash.Digest(emit), hash.Digest(other)}; !slices.Equal(got, want) {
		t.Fatalf("TxHashes = %v, want each input once", got)
	}
	if len(resp.Batch.Messages) != 1 {
		t.Errorf("%d messages, want 1", len(resp.Batch.Messages))
	}
}

func TestAMalformedInputIsRejectedWithoutOutput(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	bad := []byte{0xff}
	good := testTx{Op: "set", Key: []byte("k"), Value: []byte("v")}.raw()
	resp := h.execute(t, bad, good)

	if !slices.Equal(resp.TxRejectHashes, []hash.Hash{hash.Digest(bad)}) || !slices.Equal(resp.TxHashes, []hash.Hash{hash.Digest(good)}) {
		t.Fatalf("rejected %v, executed %v", resp.TxRejectHashes, resp.TxHashes)
	}
	if out, err := h.chain.Output(context.Background(), bad); err != nil || out != nil {
		t.Errorf("malformed input has output %v, %v", out, err)
	}
}

func TestInputsThatDoNotGiveTheInputRootAreRefused(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	ctx := context.Background()
	req, err := h.chain.ExecuteRequest(ctx, [][]byte{testTx{Op: "get", Key: []byte("k")}.raw()})
	if err != nil {
		t.Fatal(err)
	}
	req.Inputs = append(req.Inputs, testTx{Op: "get", Key: []byte("smuggled")}.raw())
	_, err = h.d.ExecuteTxBatch(ctx, req)
	wantCoded(t, err, sdk.ErrInputRootMismatch)
}

func TestAHostServingBadProofsMakesTheStateUnavailable(t *testing.T) {
	h := newHarness(t, &testRuntime{}, genesis("a", "0", "b", "1"))
	ctx := context.Background()
	d := sdk.NewDispatcher(&testRuntime{}, tamperingStorage{h.storage}, nil)

	req, err := h.chain.ExecuteRequest(ctx, [][]byte{testTx{Op: "get", Key: []byte("a")}.raw()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.ExecuteTxBatch(ctx, req)
	wantCoded(t, err, sdk.ErrStateUnavailable)

	_, err = d.Query(ctx, h.chain.QueryRequest("get", []byte("a")))
	wantCoded(t, err, sdk.ErrStateUnavailable)
}

func TestStateWritesInCheckTxAreRefused(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	resp, err := h.d.CheckTxBatch(context.Background(), h.chain.CheckRequest([][]byte{
		testTx{Op: "write_in_check", Key: []byte("k")}.raw(),
	}))
	if err != nil {
		t.Fatal(err)
	}
	wantCoded(t, resp.Results[0].Error.Err(), sdk.ErrReadOnly)
}

func TestCheckTxBatchGivesOneCodedResultPerInput(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	resp, err := h.d.CheckTxBatch(context.Background(), h.chain.CheckRequest([][]byte{
		testTx{Op: "set", Key: []byte("k")}.raw(),
		{0xff},
		testTx{Op: "refuse"}.raw(),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 3 || !resp.Results[0].IsSuccess() {
		t.Fatalf("results = %+v", resp.Results)
	}
	wantCoded(t, resp.Results[1].Error.Err(), sdk.ErrMalformedTx)
	wantCoded(t, resp.Results[2].Error.Err(), errTestFailure)
}

func TestTheRuntimeSeesTheRoundResultsBeforeTheTransactions(t *testing.T) {
	rt := &testRuntime{beginResults: make(chan roothash.RoundResults, 1)}
	h := newHarness(t, rt, nil)
	results := roothash.RoundResults{Messages: []roothash.MessageEvent{{Index: 0}, {Module: "staking", Code: 3, Index: 1}}}
	h.chain.SetRoundResults(results)
	h.execute(t)
	got := <-rt.beginResults
	if !bytes.Equal(cbor.Marshal(&got), cbor.Marshal(&results)) {
		t.Fatalf("BeginBatch saw %+v, want %+v", got, results)
	}
}

func TestTheSeedTimeAndRoundComeFromTheBlock(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	h.chain.Epoch = 9
	seed := testTx{Op: "seed"}.raw()
	block := h.chain.Block()
	h.execute(t, seed)
	v, err := h.output(t, seed)
	if err != nil {
		t.Fatal(err)
	}
	bh := block.Hash()
	want := hash.Digest([]byte("atoll/sdk: round seed"), bh[:])
	got := v.([]any)
	if got[0] != block.Round+1 || got[1] != block.Timestamp || got[2] != uint64(9) || !bytes.Equal(got[3].([]byte), want[:]) {
		t.Fatalf("round, time, epoch, seed = %v, want %d %d 9 %s", got, block.Round+1, block.Timestamp, want)
	}
}

func TestAbortCancelsABatchInFlightAndAnswersOnceItReturned(t *testing.T) {
	rt := &testRuntime{started: make(chan struct{})}
	h := newHarness(t, rt, genesis("a", "0"))
	ctx := context.Background()
	req, err := h.chain.ExecuteRequest(ctx, [][]byte{testTx{Op: "block"}.raw()})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := h.d.ExecuteTxBatch(ctx, req)
		errc <- err
	}()
	<-rt.started
	if err := h.d.Abort(ctx); err != nil {
		t.Fatalf("Abort() = %v", err)
	}
	select {
	case err := <-errc:
		wantCoded(t, err, sdk.ErrAborted)
	default:
		t.Fatal("Abort returned before the batch did")
	}
}

func TestABlockOfAnotherRuntimeIsRefusedAfterTheHandshake(t *testing.T) {
	h := newHarness(t, &testRuntime{}, nil)
	ctx := context.Background()
	var other = testNamespace()
	other[5] = 1
	if _, err := h.d.RuntimeInfo(ctx, &messages.RuntimeInfoRequest{RuntimeID: other}); err != nil {
		t.Fatal(err)
	}
	_, err := h.d.Query(ctx, h.chain.QueryRequest("get", []byte("a")))
	wantCoded(t, err, sdk.ErrWrongRuntime)
}
