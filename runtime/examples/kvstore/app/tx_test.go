package app_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/quantity"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/app"
)

func TestDecodeTxIsStrict(t *testing.T) {
	insert := kv(1, "k", "v").Encode()
	cases := []struct {
		name string
		raw  []byte
	}{
		{"no method", cbor.Marshal(map[string]any{"nonce": 1})},
		{"two methods", cbor.Marshal(map[string]any{"nonce": 1, "get": map[string]any{"key": []byte("k")}, "remove": map[string]any{"key": []byte("k")}})},
		{"an unknown method", cbor.Marshal(map[string]any{"nonce": 1, "fly": map[string]any{}})},
		{"an unknown argument", cbor.Marshal(map[string]any{"nonce": 1, "get": map[string]any{"key": []byte("k"), "x": 1}})},
		{"trailing bytes", append(append([]byte(nil), insert...), 0)},
		{"a non-canonical integer", bytes.Replace(insert, []byte{0x65, 'n', 'o', 'n', 'c', 'e', 0x01}, []byte{0x65, 'n', 'o', 'n', 'c', 'e', 0x18, 0x01}, 1)},
		{"update_runtime without descriptor", cbor.Marshal(map[string]any{"nonce": 1, "update_runtime": map[string]any{}})},
		{"too large", append(cbor.Marshal(make([]byte, app.MaxTxSize)), 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := app.DecodeTx(c.raw); !errors.Is(err, app.ErrMalformedTx) {
				t.Fatalf("DecodeTx(%x) = %v, want ErrMalformedTx", c.raw, err)
			}
		})
	}
	if tx, err := app.DecodeTx(insert); err != nil || tx.Method() != "insert" || tx.Nonce != 1 {
		t.Fatalf("DecodeTx(insert) = %+v, %v", tx, err)
	}
}

func TestTransactionsHaveGoldenEncodings(t *testing.T) {
	var to staking.Address
	to[0] = staking.AddressKindAccount
	cases := []struct {
		name string
		tx   *app.Tx
		want string
	}{
		{"insert", kv(7, "k", "v"), "a2656e6f6e63650766696e73657274a2636b6579416b6576616c75654176"},
		{"transfer", &app.Tx{Transfer: &staking.Transfer{To: to, Amount: *quantity.NewFromUint64(1)}},
			"a2656e6f6e636500687472616e73666572a262746f5500000000000000000000000000000000000000000066616d6f756e744101"},
	}
	for _, c := range cases {
		got := cbor.Marshal(c.tx)
		if h := hex.EncodeToString(got); h != c.want {
			t.Errorf("%s encodes to %s, want %s", c.name, h, c.want)
		}
	}
}

func FuzzDecodeTx(f *testing.F) {
	var to staking.Address
	for _, tx := range []*app.Tx{
		kv(1, "k", "v"),
		{Get: &app.Key{Key: []byte("k")}},
		{Remove: &app.Key{Key: []byte("k")}},
		{InsertMany: &app.InsertMany{Entries: []app.KeyValue{{Key: []byte("a"), Value: []byte("b")}}}},
		{Transfer: &staking.Transfer{To: to, Amount: *quantity.NewFromUint64(3)}},
		{ReclaimEscrow: &staking.ReclaimEscrow{Account: to, Shares: *quantity.NewFromUint64(3)}},
		{UpdateRuntime: &app.UpdateRuntime{Descriptor: cbor.Marshal("d")}},
	} {
		f.Add(tx.Encode())
	}
	f.Add([]byte{0xa0})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := app.DecodeTx(raw)
		if err != nil {
			if !errors.Is(err, app.ErrMalformedTx) {
				t.Fatalf("DecodeTx error %v is not ErrMalformedTx", err)
			}
			return
		}
		if tx.Method() == "" {
			t.Fatalf("accepted a transaction without exactly one method")
		}
		if !bytes.Equal(tx.Encode(), raw) {
			t.Fatalf("accepted non-canonical bytes %x (re-encodes to %x)", raw, tx.Encode())
		}
		_ = tx.ValidateBasic()
	})
}
