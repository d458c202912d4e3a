// Package quantity defines Quantity, the non-negative integer of token amounts, shares and
// gas prices.
//
// A Quantity is always in [0, 2^256): MaxSize bytes big-endian. Arithmetic that would leave
// that range (a negative difference, an overflowing sum or product) fails and leaves the
// receiver unchanged. The zero value is 0 and ready to use.
//
// The CBOR form is a byte string holding the minimal big-endian encoding: zero is the empty
// byte string, and decoding rejects a leading zero byte or more than MaxSize bytes, so every
// value has exactly one encoding. The text form (JSON, YAML, the CLI) is decimal without sign,
// leading zeros or separators.
//
// A Quantity is not safe for concurrent mutation. Assigning a Quantity value shares its
// internal storage: use Clone to get an independent copy.
package quantity

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/atoll-project/atoll/common/cbor"
)

// MaxSize is the largest encoding of a Quantity in bytes, so the largest Quantity is
// 2^256 - 1: far above any token supply, and small enough that untrusted input cannot make
// arithmetic expensive.
const MaxSize = 32

var (
	// ErrNegative is returned when a negative value is given as a Quantity.
	ErrNegative = errors.New("quantity: negative value")
	// ErrOverflow is returned when a value or result needs more than MaxSize bytes.
	ErrOverflow = errors.New("quantity: value too large")
	// ErrUnderflow is returned by Sub when the result would be negative.
	ErrUnderflow = errors.New("quantity: result would be negative")
	// ErrDivisionByZero is returned by Quo for a zero divisor.
	ErrDivisionByZero = errors.New("quantity: division by zero")
	// ErrMalformed is returned when decoding a malformed Quantity.
	ErrMalformed = errors.New("quantity: malformed quantity")
)

// Quantity is a non-negative integer below 2^256.
type Quantity struct {
	inner big.Int
}

// NewFromUint64 returns a new Quantity holding n.
func NewFromUint64(n uint64) *Quantity {
	var q Quantity
	q.inner.SetUint64(n)
	return &q
}

// FromBigInt returns a new Quantity holding a copy of n. It rejects negative values and values
// of 2^256 or more.
func FromBigInt(n *big.Int) (*Quantity, error) {
	if err := checkRange(n); err != nil {
		return nil, err
	}
	var q Quantity
	q.inner.Set(n)
	return &q, nil
}

func checkRange(n *big.Int) error {
	if n.Sign() < 0 {
		return fmt.Errorf("%w: %s", ErrNegative, n)
	}
	if n.BitLen() > 8*MaxSize {
		return fmt.Errorf("%w: %d bits, limit %d", ErrOverflow, n.BitLen(), 8*MaxSize)
	}
	return nil
}

// set stores r in q if it is in range; q is unchanged otherwise.
func (q *Quantity) set(r *big.Int) error {
	if err := checkRange(r); err != nil {
		return err
	}
	q.inner.Set(r)
	return nil
}

// Add sets q to q + n. It fails with ErrOverflow, leaving q unchanged, when the sum is 2^256
// or more.
func (q *Quantity) Add(n *Quantity) error {
	var r big.Int
	return q.set(r.Add(&q.inner, &n.inner))
}

// Sub sets q to q - n. It fails with ErrUnderflow, leaving q unchanged, when n > q.
func (q *Quantity) Sub(n *Quantity) error {
	if q.inner.Cmp(&n.inner) < 0 {
		return fmt.Errorf("%w: %s - %s", ErrUnderflow, &q.inner, &n.inner)
	}
	q.inner.Sub(&q.inner, &n.inner)
	return nil
}

// Mul sets q to q × n. It fails with ErrOverflow, leaving q unchanged, when the product is
// 2^256 or more.
func (q *Quantity) Mul(n *Quantity) error {
	var r big.Int
	return q.set(r.Mul(&q.inner, &n.inner))
}

// Quo sets q to ⌊q / n⌋. It fails with ErrDivisionByZero, leaving q unchanged, when n is zero.
func (q *Quantity) Quo(n *Quantity) error {
	if n.IsZero() {
		return ErrDivisionByZero
	}
	q.inner.Quo(&q.inner, &n.inner)
	return nil
}

// Cmp compares q and n and returns -1, 0 or +1.
func (q *Quantity) Cmp(n *Quantity) int { return q.inner.Cmp(&n.inner) }

// IsZero reports whether q is zero.
func (q *Quantity) IsZero() bool { return q.inner.Sign() == 0 }

// Clone returns an independent copy of q.
func (q *Quantity) Clone() *Quantity {
	var c Quantity
	c.inner.Set(&q.inner)
	return &c
}

// ToBigInt returns a copy of q as a big.Int.
func (q *Quantity) ToBigInt() *big.Int { return new(big.Int).Set(&q.inner) }

// String returns the decimal form.
func (q Quantity) String() string { return q.inner.String() }

// MarshalBinary returns the minimal big-endian encoding; zero gives no bytes.
func (q Quantity) MarshalBinary() ([]byte, error) { return q.inner.Bytes(), nil }

// UnmarshalBinary decodes a minimal big-endian encoding of at most MaxSize bytes. It rejects a
// leading zero byte (so zero must be the empty encoding).
func (q *Quantity) UnmarshalBinary(data []byte) error {
	switch {
	case len(data) > MaxSize:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(data), MaxSize)
	case len(data) > 0 && data[0] == 0:
		return fmt.Errorf("%w: leading zero byte", ErrMalformed)
	}
	q.inner.SetBytes(data)
	return nil
}

// UnmarshalCBOR accepts only a CBOR byte string holding a minimal encoding (see
// UnmarshalBinary); null, undefined and integers are rejected.
func (q *Quantity) UnmarshalCBOR(data []byte) error {
	b, err := cbor.ByteString(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return q.UnmarshalBinary(b)
}

// MarshalText returns the decimal form.
func (q Quantity) MarshalText() ([]byte, error) { return q.inner.Append(nil, 10), nil }

// UnmarshalText parses the decimal form: ASCII digits only, no sign, no leading zeros (except
// "0" itself), below 2^256.
func (q *Quantity) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		return fmt.Errorf("%w: empty", ErrMalformed)
	}
	// 2^256 has 78 decimal digits; longer input is rejected before parsing.
	if len(text) > 78 {
		return fmt.Errorf("%w: %d digits", ErrOverflow, len(text))
	}
	for _, c := range text {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: %q is not a decimal number", ErrMalformed, text)
		}
	}
	if len(text) > 1 && text[0] == '0' {
		return fmt.Errorf("%w: %q has leading zeros", ErrMalformed, text)
	}
	var r big.Int
	if _, ok := r.SetString(string(text), 10); !ok {
		return fmt.Errorf("%w: %q is not a decimal number", ErrMalformed, text)
	}
	return q.set(&r)
}

// Parse returns the Quantity of a decimal string (see UnmarshalText).
func Parse(s string) (*Quantity, error) {
	var q Quantity
	if err := q.UnmarshalText([]byte(s)); err != nil {
		return nil, err
	}
	return &q, nil
}
