// Package cbor is Atoll's one canonical encoding.
//
// Everything that is hashed, signed, stored or sent is encoded with Marshal, which follows the
// RFC 8949 core deterministic rules (bytewise-sorted map keys, shortest integer and float forms,
// no indefinite lengths). The encoder's options are frozen: an encoder change would fork
// consensus, and golden vectors in this package's tests catch one.
//
// Bytes from outside the process are decoded with Unmarshal, which is strict: a size cap, no
// duplicate map keys, no unknown struct fields, no indefinite lengths, no tags, case-sensitive
// field names and no trailing bytes. UnmarshalCanonical additionally rejects any input that does
// not re-encode to the same bytes, for data whose bytes are hashed or signed. UnmarshalTrusted
// is for bytes this process wrote itself (its own database): it skips the size cap only.
package cbor

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// MaxSize is the default cap on untrusted input given to Unmarshal, equal to the host
// protocol's frame cap.
const MaxSize = 16 << 20

// maxElements bounds arrays and maps in decoded input; it is above any limit a consensus
// parameter allows (write logs, batches), and the size cap bounds memory anyway.
const maxElements = 1 << 24

var (
	// ErrTooLarge is returned when input exceeds the size cap.
	ErrTooLarge = errors.New("cbor: input too large")
	// ErrNonCanonical is returned by UnmarshalCanonical for input that decodes but is not in
	// canonical form.
	ErrNonCanonical = errors.New("cbor: input is not canonically encoded")
	// ErrNotByteString is returned by ByteString for anything but one definite-length byte
	// string.
	ErrNotByteString = errors.New("cbor: not a byte string")
)

// RawMessage is an encoded CBOR value, kept as is.
type RawMessage = cbor.RawMessage

type modes struct {
	enc     cbor.EncMode
	strict  cbor.DecMode
	trusted cbor.DecMode
}

// frozen holds the codec modes. They are immutable after construction and safe for concurrent
// use; being derived from constants, they are not configuration.
var frozen = buildModes()

func buildModes() modes {
	encOpts := cbor.CoreDetEncOptions()
	encOpts.Time = cbor.TimeUnix
	enc, err := encOpts.EncMode()
	if err != nil {
		panic(fmt.Sprintf("cbor: bad encoder options: %v", err))
	}
	strictOpts := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		MaxNestedLevels:   64,
		MaxArrayElements:  maxElements,
		MaxMapPairs:       maxElements,
		UTF8:              cbor.UTF8RejectInvalid,
		NaN:               cbor.NaNDecodeForbidden,
		Inf:               cbor.InfDecodeForbidden,
	}
	strict, err := strictOpts.DecMode()
	if err != nil {
		panic(fmt.Sprintf("cbor: bad strict decoder options: %v", err))
	}
	// Trusted input gets the same rules; only the size cap is skipped by UnmarshalTrusted.
	return modes{enc: enc, strict: strict, trusted: strict}
}

// Marshal returns the canonical encoding of v. It panics if v cannot be encoded, which only a
// programming error (a channel, a function, a cyclic value) can cause: every type Atoll encodes
// is plain data.
func Marshal(v any) []byte {
	b, err := frozen.enc.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cbor: cannot encode %T: %v", v, err))
	}
	return b
}

// MarshalTo appends the canonical encoding of v to buf (reusing its capacity) and returns the
// extended slice.
func MarshalTo(buf []byte, v any) []byte {
	w := bytes.NewBuffer(buf)
	if err := frozen.enc.NewEncoder(w).Encode(v); err != nil {
		panic(fmt.Sprintf("cbor: cannot encode %T: %v", v, err))
	}
	return w.Bytes()
}

// Unmarshal strictly decodes untrusted data of at most MaxSize bytes into v.
func Unmarshal(data []byte, v any) error {
	return UnmarshalLimit(data, v, MaxSize)
}

// UnmarshalLimit strictly decodes untrusted data of at most limit bytes into v.
func UnmarshalLimit(data []byte, v any, limit int) error {
	if len(data) > limit {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), limit)
	}
	if err := frozen.strict.Unmarshal(data, v); err != nil {
		return fmt.Errorf("cbor: decoding %T: %w", v, err)
	}
	return nil
}

// UnmarshalCanonical strictly decodes untrusted data into v and rejects it unless re-encoding v
// gives back exactly data. Use it for anything whose bytes are hashed or signed.
func UnmarshalCanonical(data []byte, v any) error {
	if err := Unmarshal(data, v); err != nil {
		return err
	}
	if !bytes.Equal(Marshal(v), data) {
		return fmt.Errorf("%w (%T)", ErrNonCanonical, v)
	}
	return nil
}

// UnmarshalTrusted decodes data that this process encoded itself (for example a record read
// back from its own database). It applies the strict rules but no size cap.
func UnmarshalTrusted(data []byte, v any) error {
	if err := frozen.trusted.Unmarshal(data, v); err != nil {
		return fmt.Errorf("cbor: decoding trusted %T: %w", v, err)
	}
	return nil
}

// Valid reports whether data is one well-formed CBOR item that the strict decoder accepts.
func Valid(data []byte) error {
	if len(data) > MaxSize {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	return frozen.strict.Wellformed(data)
}

// ByteString returns the content of data, which must be exactly one definite-length CBOR byte
// string; the result aliases data. Fixed-size types (hashes, keys, namespaces, quantities)
// call it from their UnmarshalCBOR method: the decoder would otherwise also fill a Go byte
// array from a CBOR array of integers, and leave it untouched for null or undefined.
func ByteString(data []byte) ([]byte, error) {
	if len(data) == 0 || data[0]>>5 != 2 {
		return nil, fmt.Errorf("%w: %s", ErrNotByteString, describeHead(data))
	}
	var n uint64
	off := 1
	switch ai := data[0] & 0x1f; {
	case ai < 24:
		n = uint64(ai)
	case ai <= 27:
		width := 1 << (ai - 24)
		if len(data) < 1+width {
			return nil, fmt.Errorf("%w: truncated length", ErrNotByteString)
		}
		for _, b := range data[1 : 1+width] {
			n = n<<8 | uint64(b)
		}
		off += width
	default:
		return nil, fmt.Errorf("%w: indefinite or reserved length", ErrNotByteString)
	}
	if rest := uint64(len(data) - off); rest != n {
		return nil, fmt.Errorf("%w: length %d, %d bytes follow", ErrNotByteString, n, rest)
	}
	return data[off:], nil
}

func describeHead(data []byte) string {
	if len(data) == 0 {
		return "no data"
	}
	switch data[0] {
	case 0xf6:
		return "null"
	case 0xf7:
		return "undefined"
	}
	return [...]string{"unsigned integer", "negative integer", "byte string", "text string",
		"array", "map", "tag", "simple value or float"}[data[0]>>5]
}
