package transaction

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
)

var testChain = hash.Digest([]byte("test chain"))

func testSigner(t testing.TB) *signature.MemorySigner {
	seed := hash.Digest([]byte("transaction test key"))
	s, err := signature.NewSignerFromSeed(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleTx() *Transaction {
	return &Transaction{Nonce: 7, Fee: Fee{Amount: *quantity.NewFromUint64(1500), Gas: 1000}, Method: "staking.Transfer", Body: NewBody(map[string]uint64{"x": 1})}
}

func TestASignedTransactionDecodesVerifiesAndHashesItsRawBytes(t *testing.T) {
	raw, err := Sign(testSigner(t), testChain, sampleTx())
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.Hash != hash.Digest(raw) {
		t.Fatal("the hash is not H(raw bytes)")
	}
	if d.Tx.Nonce != 7 || d.Tx.Fee.Gas != 1000 || d.Tx.Method != "staking.Transfer" || d.Signer() != testSigner(t).Public() {
		t.Fatalf("decoded %+v", d.Tx)
	}
	if err := d.Verify(SignatureContext.ForChain(testChain)); err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(SignatureContext.ForChain(hash.Digest([]byte("other chain")))); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("verifying for another chain: %v", err)
	}
}

func TestDecodeRejectsEverythingButACanonicalValidTransaction(t *testing.T) {
	signer := testSigner(t)
	sign := func(tx *Transaction) []byte {
		raw, err := Sign(signer, testChain, tx)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	good := sign(sampleTx())
	badMethod := sampleTx()
	badMethod.Method = "transfer"
	signed := func(blob []byte) []byte {
		s, err := signature.Sign(signer, SignatureContext.ForChain(testChain), blob)
		if err != nil {
			t.Fatal(err)
		}
		return cbor.Marshal(&signature.Signed{Blob: blob, Signature: *s})
	}
	// A transaction map with its keys out of canonical order: the same value, other bytes.
	unsorted := append([]byte{0xa3, 0x65}, "nonce"...)
	unsorted = append(unsorted, 0x01, 0x66)
	unsorted = append(unsorted, "method"...)
	unsorted = append(unsorted, 0x70)
	unsorted = append(unsorted, "staking.Transfer"...)
	unsorted = append(unsorted, 0x63)
	unsorted = append(unsorted, "fee"...)
	unsorted = append(unsorted, 0xa2, 0x63, 'g', 'a', 's', 0x00, 0x66)
	unsorted = append(unsorted, "amount"...)
	unsorted = append(unsorted, 0x40)
	for _, tc := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty input", nil, ErrMalformedTransaction},
		{"not CBOR", []byte("hello"), ErrMalformedTransaction},
		{"trailing bytes", append(append([]byte(nil), good...), 0x00), ErrMalformedTransaction},
		{"a blob that is not a transaction", signed([]byte{0x01}), ErrMalformedTransaction},
		{"a blob with unknown fields", signed(cbor.Marshal(map[string]any{"nonce": 1, "extra": 2})), ErrMalformedTransaction},
		{"a non-canonical blob", signed(unsorted), ErrMalformedTransaction},
		{"a method without a service", sign(badMethod), ErrMalformedTransaction},
		{"more than MaxSize bytes", make([]byte, MaxSize+1), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.raw); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMethodNamesMustBeServiceDotMethod(t *testing.T) {
	for _, tc := range []struct {
		name MethodName
		ok   bool
	}{
		{"staking.Transfer", true}, {"registry.Register_Node2", true},
		{"", false}, {"staking", false}, {".Transfer", false}, {"staking.", false},
		{"a.b.c", false}, {"staking.Trans fer", false}, {MethodName(make([]byte, 65)), false},
	} {
		if err := tc.name.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if s := MethodName("staking.Transfer").Service(); s != "staking" {
		t.Errorf("Service() = %q", s)
	}
}

func FuzzDecode(f *testing.F) {
	raw, err := Sign(testSigner(f), testChain, sampleTx())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte{})
	f.Add([]byte{0xa2, 0x64, 'b', 'l', 'o', 'b', 0x40})
	bctx := SignatureContext.ForChain(testChain)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to exactly its input and is valid.
		if string(cbor.Marshal(&d.Signed)) != string(data) {
			t.Fatal("accepted a non-canonical envelope")
		}
		if err := d.Tx.ValidateBasic(); err != nil {
			t.Fatal(err)
		}
		_ = d.Verify(bctx)
	})
}
