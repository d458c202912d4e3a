package app_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/quantity"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/app"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/sdk"
	"github.com/atoll-project/atoll/runtime/sdk/sdktest"
)

func runtimeID() namespace.Namespace {
	var ns namespace.Namespace
	ns[0], ns[31] = 0x80, 0x0b
	return ns
}

// node runs one kvstore version in-process through the SDK dispatcher, against a chain in an
// in-memory storage.
type node struct {
	chain *sdktest.Chain
	d     *sdk.Dispatcher
}

func newNode(t *testing.T, major uint16) *node {
	t.Helper()
	rt, err := app.New(major)
	if err != nil {
		t.Fatal(err)
	}
	storage := sdktest.NewStorage()
	chain, err := sdktest.NewChain(context.Background(), runtimeID(), storage, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &node{chain: chain, d: sdk.NewDispatcher(rt, storage, nil)}
}

func (n *node) execute(t *testing.T, txs ...*app.Tx) *messages.RuntimeExecuteTxBatchResponse {
	t.Helper()
	ctx := context.Background()
	inputs := make([][]byte, len(txs))
	for i, tx := range txs {
		inputs[i] = tx.Encode()
	}
	req, err := n.chain.ExecuteRequest(ctx, inputs)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := n.d.ExecuteTxBatch(ctx, req)
	if err != nil {
		t.Fatalf("ExecuteTxBatch() = %v", err)
	}
	if err := n.chain.Finalize(ctx, req, resp); err != nil {
		t.Fatalf("Finalize() = %v", err)
	}
	return resp
}

// output decodes tx's output in the latest block into v, or returns its error.
func (n *node) output(t *testing.T, tx *app.Tx, v any) error {
	t.Helper()
	out, err := n.chain.Output(context.Background(), tx.Encode())
	if err != nil || out == nil {
		t.Fatalf("Output() = %v, %v", out, err)
	}
	if out.Error != nil {
		return coded.FromWire(*out.Error)
	}
	if err := cbor.Unmarshal(out.Ok, v); err != nil {
		t.Fatalf("decoding output: %v", err)
	}
	return nil
}

func (n *node) query(t *testing.T, method string, args, v any) error {
	t.Helper()
	resp, err := n.d.Query(context.Background(), n.chain.QueryRequest(method, args))
	if err != nil {
		return err
	}
	if err := cbor.Unmarshal(resp.Data, v); err != nil {
		t.Fatalf("decoding query result: %v", err)
	}
	return nil
}

func kv(nonce uint64, k, v string) *app.Tx {
	return &app.Tx{Nonce: nonce, Insert: &app.KeyValue{Key: []byte(k), Value: []byte(v)}}
}

func TestInsertGetAndRemoveWorkAcrossRounds(t *testing.T) {
	n := newNode(t, 1)
	n.execute(t, kv(0, "k", "v1"), kv(1, "other", "x"))
	insert2 := kv(2, "k", "v2")
	get := &app.Tx{Get: &app.Key{Key: []byte("k")}}
	n.execute(t, insert2, get)

	var old, got []byte
	if err := n.output(t, insert2, &old); err != nil || string(old) != "v1" {
		t.Fatalf("insert output = %q, %v; want the old value v1", old, err)
	}
	if err := n.output(t, get, &got); err != nil || string(got) != "v2" {
		t.Fatalf("get output = %q, %v; want v2", got, err)
	}
	if v, err := n.chain.Tag(context.Background(), []byte("kv.insert"), insert2.Encode()); err != nil || string(v) != "k" {
		t.Errorf("insert tag = %q, %v; want k", v, err)
	}

	remove := &app.Tx{Remove: &app.Key{Key: []byte("k")}}
	n.execute(t, remove)
	var q []byte
	if err := n.query(t, "get", &app.Key{Key: []byte("k")}, &q); err != nil || q != nil {
		t.Fatalf("get after remove = %q, %v; want nothing", q, err)
	}
	if err := n.query(t, "get", &app.Key{Key: []byte("other")}, &q); err != nil || string(q) != "x" {
		t.Fatalf("get other = %q, %v; want x", q, err)
	}
}

func TestMessageTransactionsEmitConsensusMessagesFromTheRuntimeAccount(t *testing.T) {
	n := newNode(t, 1)
	var to staking.Address
	to[20] = 1
	descriptor := cbor.Marshal(map[string]any{"id": "x"})
	txs := []*app.Tx{
		{Transfer: &staking.Transfer{To: to, Amount: *quantity.NewFromUint64(5)}},
		{Withdraw: &staking.Withdraw{From: to, Amount: *quantity.NewFromUint64(6)}},
		{AddEscrow: &staking.Escrow{Account: to, Amount: *quantity.NewFromUint64(7)}},
		{ReclaimEscrow: &staking.ReclaimEscrow{Account: to, Shares: *quantity.NewFromUint64(8)}},
		{UpdateRuntime: &app.UpdateRuntime{Descriptor: descriptor}},
	}
	resp := n.execute(t, txs...)
	if len(resp.Batch.Messages) != len(txs) {
		t.Fatalf("%d messages, want %d", len(resp.Batch.Messages), len(txs))
	}
	for i, tx := range txs {
		var out app.MessageOutput
		if err := n.output(t, tx, &out); err != nil || out.Index != uint32(i) {
			t.Errorf("tx %d output = %+v, %v; want index %d", i, out, err, i)
		}
	}
	if m := resp.Batch.Messages[4].Registry; m == nil || !bytes.Equal(m.UpdateRuntime, descriptor) {
		t.Errorf("update_runtime message = %+v", resp.Batch.Messages[4])
	}
}

func TestTheRuntimeRecordsTheResultsOfItsMessages(t *testing.T) {
	n := newNode(t, 1)
	results := roothash.RoundResults{Messages: []roothash.MessageEvent{{Index: 0}, {Module: "staking", Code: 4, Index: 1}}}
	n.chain.SetRoundResults(results)
	n.execute(t)
	var got roothash.RoundResults
	if err := n.query(t, "message_results", nil, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cbor.Marshal(&got), cbor.Marshal(&results)) {
		t.Fatalf("recorded %+v, want %+v", got, results)
	}
}

func TestVersionOneRefusesInsertManyAndVersionTwoRunsIt(t *testing.T) {
	many := &app.Tx{InsertMany: &app.InsertMany{Entries: []app.KeyValue{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}}}}
	raw := many.Encode()

	v1 := newNode(t, 1)
	check, err := v1.d.CheckTxBatch(context.Background(), v1.chain.CheckRequest([][]byte{raw}))
	if err != nil {
		t.Fatal(err)
	}
	if err := check.Results[0].Error.Err(); !errors.Is(err, app.ErrUnsupportedMethod) {
		t.Fatalf("v1 CheckTx = %v, want ErrUnsupportedMethod", err)
	}

	v2 := newNode(t, 2)
	v2.execute(t, many)
	var count uint64
	if err := v2.output(t, many, &count); err != nil || count != 2 {
		t.Fatalf("v2 output = %d, %v; want 2", count, err)
	}
	var b []byte
	if err := v2.query(t, "get", &app.Key{Key: []byte("b")}, &b); err != nil || string(b) != "2" {
		t.Fatalf("get b = %q, %v", b, err)
	}
}

func TestCheckTxRefusesBadArgumentsWithCodedErrors(t *testing.T) {
	n := newNode(t, 1)
	var to staking.Address
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"ok", kv(0, "k", "v").Encode(), nil},
		{"empty key", kv(0, "", "v").Encode(), app.ErrInvalidArgument},
		{"long key", kv(0, string(make([]byte, app.MaxKeySize+1)), "v").Encode(), app.ErrInvalidArgument},
		{"long value", kv(0, "k", string(make([]byte, app.MaxValueSize+1))).Encode(), app.ErrInvalidArgument},
		{"zero escrow", (&app.Tx{AddEscrow: &staking.Escrow{Account: to}}).Encode(), app.ErrInvalidArgument},
		{"non-canonical descriptor", (&app.Tx{UpdateRuntime: &app.UpdateRuntime{Descriptor: []byte{0x18, 0x01}}}).Encode(), app.ErrInvalidArgument},
		{"not a transaction", []byte("hello"), app.ErrMalformedTx},
	}
	inputs := make([][]byte, len(cases))
	for i, c := range cases {
		inputs[i] = c.raw
	}
	resp, err := n.d.CheckTxBatch(context.Background(), n.chain.CheckRequest(inputs))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if err := resp.Results[i].Error.Err(); !errors.Is(err, c.want) && (c.want != nil || err != nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestAnUnknownQueryIsACodedError(t *testing.T) {
	n := newNode(t, 1)
	var v any
	if err := n.query(t, "list", nil, &v); !errors.Is(err, app.ErrUnknownQuery) {
		t.Fatalf("Query(list) = %v, want ErrUnknownQuery", err)
	}
}
