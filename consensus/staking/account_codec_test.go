package staking

import (
	"bytes"
	"math/big"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus/staking/api"
)

func drawQuantity(t *rapid.T, label string) quantity.Quantity {
	var n big.Int
	switch rapid.IntRange(0, 3).Draw(t, label+"_kind") {
	case 0: // zero
	case 1:
		n.SetUint64(rapid.Uint64Range(1, 300).Draw(t, label))
	case 2:
		n.SetUint64(rapid.Uint64().Draw(t, label))
	default:
		n.SetBytes(rapid.SliceOfN(rapid.Byte(), 1, quantity.MaxSize).Draw(t, label))
	}
	q, err := quantity.FromBigInt(&n)
	if err != nil {
		t.Fatal(err)
	}
	return *q
}

func drawAccount(t *rapid.T) *api.Account {
	a := &api.Account{
		General: api.GeneralAccount{Balance: drawQuantity(t, "balance")},
		Escrow: api.EscrowAccount{
			Active:    api.SharePool{Balance: drawQuantity(t, "active"), TotalShares: drawQuantity(t, "active_shares")},
			Debonding: api.SharePool{Balance: drawQuantity(t, "debonding"), TotalShares: drawQuantity(t, "debonding_shares")},
		},
	}
	switch rapid.IntRange(0, 3).Draw(t, "nonce_kind") {
	case 0:
	case 1:
		a.General.Nonce = rapid.Uint64Range(1, 70_000).Draw(t, "nonce")
	default:
		a.General.Nonce = rapid.Uint64().Draw(t, "nonce")
	}
	switch rapid.IntRange(0, 3).Draw(t, "claims_kind") {
	case 0:
		a.Escrow.Claims = map[string][]api.ThresholdKind{}
	case 1:
		a.Escrow.Claims = map[string][]api.ThresholdKind{"registry.node.x": {api.KindEntity, api.KindNodeValidator}}
	}
	return a
}

func TestTheAccountCodecMatchesTheGenericCodecOnEveryAccount(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := drawAccount(t)
		want := cbor.Marshal(a)
		got := encodeAccount(a)
		if !bytes.Equal(got, want) {
			t.Fatalf("encodeAccount = %x, cbor.Marshal = %x", got, want)
		}
		var generic, fast api.Account
		if err := cbor.UnmarshalTrusted(want, &generic); err != nil {
			t.Fatal(err)
		}
		if err := decodeAccount(want, &fast); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, generic) {
			t.Fatalf("decodeAccount = %+v, cbor.UnmarshalTrusted = %+v", fast, generic)
		}
	})
}

func TestTheAccountFastPathDecodesWhatItEncodes(t *testing.T) {
	a := &api.Account{General: api.GeneralAccount{Balance: *quantity.NewFromUint64(999_999_987_655), Nonce: 12345}}
	var got api.Account
	if !decodeAccountFast(encodeAccount(a), &got) {
		t.Fatal("the fast path refused an account without claims")
	}
	if got.General.Nonce != 12345 || got.General.Balance.Cmp(&a.General.Balance) != 0 {
		t.Fatalf("decoded %+v", got)
	}
}

func TestTheAccountDecoderFailsLikeTheGenericDecoder(t *testing.T) {
	good := encodeAccount(&api.Account{General: api.GeneralAccount{Balance: *quantity.NewFromUint64(5), Nonce: 1}})
	for _, raw := range [][]byte{
		nil,
		{0xf6},
		good[:len(good)-1],
		append(bytes.Clone(good), 0x00),
		bytes.Replace(good, []byte("\x41\x05"), []byte("\x42\x00\x05"), 1), // leading zero byte
	} {
		var fast, generic api.Account
		errFast := decodeAccount(raw, &fast)
		errGeneric := cbor.UnmarshalTrusted(raw, &generic)
		if (errFast == nil) != (errGeneric == nil) {
			t.Fatalf("%x: decodeAccount error %v, generic error %v", raw, errFast, errGeneric)
		}
	}
}

// FuzzDecodeAccount checks that whatever input the fast path accepts, the generic decoder
// accepts too and decodes to the same account.
func FuzzDecodeAccount(f *testing.F) {
	f.Add(encodeAccount(&api.Account{}))
	f.Add(encodeAccount(&api.Account{General: api.GeneralAccount{Balance: *quantity.NewFromUint64(1 << 40), Nonce: 300}}))
	f.Add(encodeAccount(&api.Account{Escrow: api.EscrowAccount{Active: api.SharePool{Balance: *quantity.NewFromUint64(7), TotalShares: *quantity.NewFromUint64(7)}}}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var fast api.Account
		if !decodeAccountFast(raw, &fast) {
			return
		}
		var generic api.Account
		if err := cbor.UnmarshalTrusted(raw, &generic); err != nil {
			t.Fatalf("%x: the fast path accepted what the generic decoder rejects: %v", raw, err)
		}
		if !reflect.DeepEqual(fast, generic) {
			t.Fatalf("%x: decodeAccountFast = %+v, generic = %+v", raw, fast, generic)
		}
	})
}

func TestAccountKeysAreThoseOfTheKeyFormat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var addr api.Address
		copy(addr[:], rapid.SliceOfN(rapid.Byte(), api.AddressSize, api.AddressSize).Draw(t, "address"))
		addr[0] = api.AddressKindAccount
		key := accountKey(addr)
		if want := accountKeyFmt.Encode(tableAccount, addr); !bytes.Equal(key[:], want) {
			t.Fatalf("accountKey = %x, key format gives %x", key, want)
		}
	})
}

func TestTheTransferFastPathDecodesExactlyTheCanonicalEncodings(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr := api.Transfer{Amount: drawQuantity(t, "amount")}
		copy(tr.To[:], rapid.SliceOfN(rapid.Byte(), api.AddressSize, api.AddressSize).Draw(t, "to"))
		tr.To[0] = rapid.SampledFrom([]byte{api.AddressKindAccount, api.AddressKindRuntime}).Draw(t, "kind")
		raw := cbor.Marshal(&tr)
		var fast api.Transfer
		if !decodeTransferFast(raw, &fast) {
			t.Fatalf("the fast path refused the canonical %x", raw)
		}
		var generic api.Transfer
		if err := cbor.UnmarshalCanonical(raw, &generic); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, generic) {
			t.Fatalf("decodeTransferFast = %+v, generic = %+v", fast, generic)
		}
	})
	// A non-shortest length head is not canonical: left to the generic decoder, which refuses it.
	tr := api.Transfer{To: api.Address{api.AddressKindAccount}, Amount: *quantity.NewFromUint64(5)}
	long := bytes.Replace(cbor.Marshal(&tr), []byte("amount\x41\x05"), []byte("amount\x58\x01\x05"), 1)
	if decodeTransferFast(long, new(api.Transfer)) || cbor.UnmarshalCanonical(long, new(api.Transfer)) == nil {
		t.Fatalf("%x accepted", long)
	}
}

// FuzzDecodeTransfer checks that whatever the transfer fast path accepts, the canonical
// decoder accepts too and decodes to the same transfer.
func FuzzDecodeTransfer(f *testing.F) {
	f.Add(cbor.Marshal(&api.Transfer{To: api.Address{api.AddressKindAccount, 1, 2}, Amount: *quantity.NewFromUint64(1)}))
	f.Add(cbor.Marshal(&api.Transfer{To: api.Address{api.AddressKindRuntime}}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var fast api.Transfer
		if !decodeTransferFast(raw, &fast) {
			return
		}
		var generic api.Transfer
		if err := cbor.UnmarshalCanonical(raw, &generic); err != nil {
			t.Fatalf("%x: the fast path accepted what the canonical decoder rejects: %v", raw, err)
		}
		if !reflect.DeepEqual(fast, generic) {
			t.Fatalf("%x: decodeTransferFast = %+v, generic = %+v", raw, fast, generic)
		}
	})
}

func BenchmarkAccountCodec(b *testing.B) {
	a := &api.Account{General: api.GeneralAccount{Balance: *quantity.NewFromUint64(999_999_987_655), Nonce: 12345}}
	raw := cbor.Marshal(a)
	b.Run("generic decode", func(b *testing.B) {
		for b.Loop() {
			var x api.Account
			_ = cbor.UnmarshalTrusted(raw, &x)
		}
	})
	b.Run("fast decode", func(b *testing.B) {
		for b.Loop() {
			var x api.Account
			_ = decodeAccount(raw, &x)
		}
	})
	b.Run("generic encode", func(b *testing.B) {
		for b.Loop() {
			_ = cbor.Marshal(a)
		}
	})
	b.Run("fast encode", func(b *testing.B) {
		for b.Loop() {
			_ = encodeAccount(a)
		}
	})
}
