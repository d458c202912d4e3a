package quantity

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

func q(s string) *Quantity {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// max is 2^256 - 1, the largest Quantity.
var maxDecimal = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)).String()

func TestCBORFormIsTheMinimalBigEndianByteString(t *testing.T) {
	cases := []struct {
		value string
		cbor  string
	}{
		{"0", "40"},
		{"1", "4101"},
		{"255", "41ff"},
		{"256", "420100"},
		{"1000000000", "443b9aca00"},
		{"18446744073709551616", "49010000000000000000"},
		{maxDecimal, "5820" + strings.Repeat("ff", 32)},
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			v := q(c.value)
			if got := hex.EncodeToString(cbor.Marshal(v)); got != c.cbor {
				t.Fatalf("pointer encodes as %s, want %s", got, c.cbor)
			}
			if got := hex.EncodeToString(cbor.Marshal(*v)); got != c.cbor {
				t.Fatalf("value encodes as %s, want %s", got, c.cbor)
			}
			var back Quantity
			data, _ := hex.DecodeString(c.cbor)
			if err := cbor.UnmarshalCanonical(data, &back); err != nil || back.Cmp(v) != 0 {
				t.Fatalf("decoding %s: %v, %s", c.cbor, err, back.String())
			}
		})
	}
}

func TestDecodingRejectsNonMinimalAndOversizeEncodings(t *testing.T) {
	cases := []struct {
		name string
		cbor string
		want error
	}{
		{"a zero byte for zero", "4100", ErrMalformed},
		{"a leading zero byte", "42000a", ErrMalformed},
		{"33 bytes", "5821" + strings.Repeat("01", 33), ErrMalformed},
		{"33 bytes with a leading zero", "5821" + strings.Repeat("00", 1) + strings.Repeat("ff", 32), ErrMalformed},
		{"an integer", "01", ErrMalformed},
		{"a text string", "6131", ErrMalformed},
		{"null", "f6", ErrMalformed},
		{"undefined", "f7", ErrMalformed},
		{"an array", "8101", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, _ := hex.DecodeString(c.cbor)
			var v Quantity
			err := cbor.Unmarshal(data, &v)
			if err == nil {
				t.Fatalf("%s decoded to %s", c.cbor, v.String())
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}

func TestQuantityFieldsEncodeInsideStructs(t *testing.T) {
	type account struct {
		Balance Quantity  `cbor:"balance"`
		Escrow  *Quantity `cbor:"escrow,omitempty"`
	}
	a := account{Balance: *NewFromUint64(10)}
	enc := cbor.Marshal(&a)
	if got, want := hex.EncodeToString(enc), "a16762616c616e6365410a"; got != want {
		t.Fatalf("encoding %s, want %s", got, want)
	}
	var back account
	if err := cbor.UnmarshalCanonical(enc, &back); err != nil || back.Balance.Cmp(NewFromUint64(10)) != 0 || back.Escrow != nil {
		t.Fatalf("round trip: %v, %+v", err, back)
	}
}

func TestTextFormIsStrictDecimal(t *testing.T) {
	good := []string{"0", "1", "42", "18446744073709551616", maxDecimal}
	for _, s := range good {
		v, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if text, _ := v.MarshalText(); string(text) != s || v.String() != s {
			t.Errorf("%q comes back as %q / %q", s, text, v.String())
		}
	}
	bad := []struct {
		text string
		want error
	}{
		{"", ErrMalformed},
		{"-1", ErrMalformed},
		{"+1", ErrMalformed},
		{"01", ErrMalformed},
		{"00", ErrMalformed},
		{"1_000", ErrMalformed},
		{"1e3", ErrMalformed},
		{" 1", ErrMalformed},
		{"0x10", ErrMalformed},
		{new(big.Int).Lsh(big.NewInt(1), 256).String(), ErrOverflow},
		{strings.Repeat("9", 79), ErrOverflow},
	}
	for _, c := range bad {
		if _, err := Parse(c.text); !errors.Is(err, c.want) {
			t.Errorf("Parse(%q): %v, want %v", c.text, err, c.want)
		}
	}
}

func TestJSONUsesTheDecimalString(t *testing.T) {
	type doc struct {
		Amount Quantity `json:"amount"`
	}
	data, err := json.Marshal(doc{Amount: *NewFromUint64(12345)})
	if err != nil || string(data) != `{"amount":"12345"}` {
		t.Fatalf("JSON %s, %v", data, err)
	}
	var back doc
	if err := json.Unmarshal(data, &back); err != nil || back.Amount.String() != "12345" {
		t.Fatalf("JSON round trip: %v %s", err, back.Amount.String())
	}
}

func TestArithmeticStaysInRangeOrFailsLeavingTheValueUnchanged(t *testing.T) {
	type op func(a, b *Quantity) error
	add := (*Quantity).Add
	sub := (*Quantity).Sub
	mul := (*Quantity).Mul
	quo := (*Quantity).Quo
	cases := []struct {
		name    string
		op      op
		a, b    string
		want    string
		wantErr error
	}{
		{"adding", add, "2", "3", "5", nil},
		{"adding zero", add, "7", "0", "7", nil},
		{"adding up to the maximum", add, maxDecimal, "0", maxDecimal, nil},
		{"adding past the maximum fails", add, maxDecimal, "1", maxDecimal, ErrOverflow},
		{"subtracting", sub, "10", "4", "6", nil},
		{"subtracting everything", sub, "10", "10", "0", nil},
		{"subtracting too much fails", sub, "3", "4", "3", ErrUnderflow},
		{"subtracting from zero fails", sub, "0", "1", "0", ErrUnderflow},
		{"multiplying", mul, "6", "7", "42", nil},
		{"multiplying by zero", mul, "6", "0", "0", nil},
		{"multiplying past the maximum fails", mul, maxDecimal, "2", maxDecimal, ErrOverflow},
		{"dividing rounds down", quo, "7", "2", "3", nil},
		{"dividing a smaller number gives zero", quo, "1", "2", "0", nil},
		{"dividing by zero fails", quo, "7", "0", "7", ErrDivisionByZero},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := q(c.a), q(c.b)
			err := c.op(a, b)
			if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			if a.String() != c.want {
				t.Fatalf("result %s, want %s", a.String(), c.want)
			}
			if b.String() != c.b {
				t.Fatalf("operand changed to %s", b.String())
			}
		})
	}
}

func TestClonesAndBigIntsNeverShareStorage(t *testing.T) {
	a, b := NewFromUint64(5), NewFromUint64(9)
	if a.Cmp(b) != -1 || b.Cmp(a) != 1 || a.Cmp(a.Clone()) != 0 {
		t.Fatal("Cmp is wrong")
	}
	if !new(Quantity).IsZero() || a.IsZero() {
		t.Fatal("IsZero is wrong")
	}
	c := a.Clone()
	if err := c.Add(b); err != nil {
		t.Fatal(err)
	}
	if a.String() != "5" {
		t.Fatal("Clone shares storage with the original")
	}
	bi := a.ToBigInt()
	bi.SetInt64(1000)
	if a.String() != "5" {
		t.Fatal("ToBigInt shares storage with the quantity")
	}
}

func TestFromBigIntRejectsOutOfRangeValues(t *testing.T) {
	cases := []struct {
		name string
		n    *big.Int
		want error
	}{
		{"zero", big.NewInt(0), nil},
		{"the maximum", new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)), nil},
		{"a negative", big.NewInt(-1), ErrNegative},
		{"2^256", new(big.Int).Lsh(big.NewInt(1), 256), ErrOverflow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := FromBigInt(c.n)
			if !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if err == nil {
				if v.ToBigInt().Cmp(c.n) != 0 {
					t.Fatalf("holds %s, want %s", v.String(), c.n)
				}
				c.n.Add(c.n, big.NewInt(1))
				if v.ToBigInt().Cmp(c.n) == 0 {
					t.Fatal("FromBigInt shares storage with its argument")
				}
			}
		})
	}
}

// FuzzUnmarshal decodes untrusted CBOR into a Quantity: it must never panic, and anything
// accepted must be in range and re-encode to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{"40", "4101", "4100", "5820" + strings.Repeat("ff", 32), "5821" + strings.Repeat("01", 33), "f6", "01"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Quantity
		if err := cbor.Unmarshal(data, &v); err != nil {
			return
		}
		if v.inner.Sign() < 0 || v.inner.BitLen() > 8*MaxSize {
			t.Fatalf("decoded out-of-range %s", v.String())
		}
		// The strict decoder accepts a long length form; the value must still round-trip, and
		// the canonical decoder must accept exactly the canonical bytes.
		var again Quantity
		if err := cbor.UnmarshalCanonical(cbor.Marshal(v), &again); err != nil || again.Cmp(&v) != 0 {
			t.Fatalf("%s does not round-trip: %v", v.String(), err)
		}
		var canon Quantity
		if err := cbor.UnmarshalCanonical(data, &canon); err == nil && !bytes.Equal(cbor.Marshal(canon), data) {
			t.Fatalf("canonical decode of %x re-encodes as %x", data, cbor.Marshal(canon))
		}
		var w Quantity
		if err := w.UnmarshalText(data); err == nil {
			if text, _ := w.MarshalText(); string(text) != string(data) {
				t.Fatalf("text %q parsed to %q", data, text)
			}
		}
	})
}
