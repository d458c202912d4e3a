// Package keyformat builds and parses consensus state keys: one prefix byte, then fixed-width
// big-endian parts, then optionally one variable-length byte string at the end.
//
// Each consensus service declares one KeyFormat per prefix, in one documented table. Because
// every part but the last has a fixed width and integers are big-endian, the byte order of
// keys is the order of their parts, and Prefix gives the keys to scan for the first parts.
//
// Values are unsigned integers (uint8, uint16, uint32, uint64), byte arrays of the part's
// width (hash.Hash, namespace.Namespace, signature.PublicKey, staking addresses, ...) or types
// whose MarshalBinary output has that width, and for the trailing variable part []byte or
// string. Giving a value of the wrong type or width is a programming error and panics; a key
// that does not have this format (another prefix, a wrong length, a part its type rejects)
// makes Decode return false.
package keyformat

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"reflect"
)

// Part is the width in bytes of a part of a key, or Variable.
type Part int

const (
	// Uint8 is a one-byte integer part.
	Uint8 Part = 1
	// Uint16 is a two-byte big-endian integer part.
	Uint16 Part = 2
	// Uint32 is a four-byte big-endian integer part.
	Uint32 Part = 4
	// Uint64 is an eight-byte big-endian integer part.
	Uint64 Part = 8
	// Hash is a 32-byte part: a hash, namespace or public key.
	Hash Part = 32
	// Variable is a variable-length byte string; only the last part may be Variable.
	Variable Part = -1
)

// Fixed returns a part of size bytes, for arrays such as a 21-byte staking address.
func Fixed(size int) Part {
	if size <= 0 {
		panic(fmt.Sprintf("keyformat: fixed part of %d bytes", size))
	}
	return Part(size)
}

// KeyFormat is the format of the keys under one prefix byte. It is immutable and safe for
// concurrent use.
type KeyFormat struct {
	prefix   byte
	parts    []Part
	fixedLen int // prefix byte plus all fixed parts
	variable bool
}

// New returns the key format with the given prefix byte and parts. It panics on a
// non-positive width other than Variable, or on a Variable part that is not the last.
func New(prefix byte, parts ...Part) *KeyFormat {
	kf := &KeyFormat{prefix: prefix, parts: append([]Part(nil), parts...), fixedLen: 1}
	for i, p := range parts {
		switch {
		case p == Variable && i == len(parts)-1:
			kf.variable = true
		case p == Variable:
			panic(fmt.Sprintf("keyformat: prefix 0x%02x: variable part %d is not the last", prefix, i))
		case p <= 0:
			panic(fmt.Sprintf("keyformat: prefix 0x%02x: part %d has width %d", prefix, i, p))
		default:
			kf.fixedLen += int(p)
		}
	}
	return kf
}

// PrefixByte returns the format's prefix byte.
func (kf *KeyFormat) PrefixByte() byte { return kf.prefix }

// Parts returns the number of parts.
func (kf *KeyFormat) Parts() int { return len(kf.parts) }

// Encode returns the key made of values, one per part. It panics unless there is exactly one
// value per part, each of the right type and width.
func (kf *KeyFormat) Encode(values ...any) []byte {
	if len(values) != len(kf.parts) {
		panic(fmt.Sprintf("keyformat: prefix 0x%02x: %d values for %d parts", kf.prefix, len(values), len(kf.parts)))
	}
	return kf.Prefix(values...)
}

// Prefix returns the key prefix made of the first len(values) parts, for range scans: every
// key whose leading parts are values starts with it. With no values it is the prefix byte. It
// panics on more values than parts or a value of the wrong type or width.
func (kf *KeyFormat) Prefix(values ...any) []byte {
	if len(values) > len(kf.parts) {
		panic(fmt.Sprintf("keyformat: prefix 0x%02x: %d values for %d parts", kf.prefix, len(values), len(kf.parts)))
	}
	size := 1
	for i := range values {
		if kf.parts[i] == Variable {
			size += variableLen(kf.prefix, values[i])
		} else {
			size += int(kf.parts[i])
		}
	}
	out := make([]byte, 1, size)
	out[0] = kf.prefix
	for i, v := range values {
		out = kf.appendPart(out, i, v)
	}
	return out
}

func variableLen(prefix byte, v any) int {
	switch v := v.(type) {
	case []byte:
		return len(v)
	case string:
		return len(v)
	}
	panic(fmt.Sprintf("keyformat: prefix 0x%02x: variable part must be []byte or string, not %T", prefix, v))
}

func (kf *KeyFormat) appendPart(out []byte, i int, v any) []byte {
	p := kf.parts[i]
	if p == Variable {
		switch v := v.(type) {
		case []byte:
			return append(out, v...)
		case string:
			return append(out, v...)
		}
	}
	bad := func(why string) {
		panic(fmt.Sprintf("keyformat: prefix 0x%02x: part %d (%d bytes): %T %s", kf.prefix, i, p, v, why))
	}
	switch v := v.(type) {
	case uint8:
		if p != Uint8 {
			bad("has the wrong width")
		}
		return append(out, v)
	case uint16:
		if p != Uint16 {
			bad("has the wrong width")
		}
		return binary.BigEndian.AppendUint16(out, v)
	case uint32:
		if p != Uint32 {
			bad("has the wrong width")
		}
		return binary.BigEndian.AppendUint32(out, v)
	case uint64:
		if p != Uint64 {
			bad("has the wrong width")
		}
		return binary.BigEndian.AppendUint64(out, v)
	case encoding.BinaryMarshaler:
		b, err := v.MarshalBinary()
		if err != nil {
			bad("cannot be encoded: " + err.Error())
		}
		if len(b) != int(p) {
			bad(fmt.Sprintf("encodes to %d bytes", len(b)))
		}
		return append(out, b...)
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 {
		bad("is not a supported type")
	}
	if rv.Len() != int(p) {
		bad("has the wrong width")
	}
	start := len(out)
	out = append(out, make([]byte, rv.Len())...)
	reflect.Copy(reflect.ValueOf(out[start:]), rv)
	return out
}

// Decode parses key into dst, which holds pointers to the leading parts' types (*uint64,
// *hash.Hash, *[]byte for the variable part, a BinaryUnmarshaler, ...); a nil entry skips its
// part. It returns false, possibly after filling some of dst, when key is not of this format:
// another prefix byte, the wrong length, or a part its destination type rejects. It panics on
// more destinations than parts or a destination of the wrong type or width.
//
// A variable part decoded into *[]byte is a copy; key is not retained.
func (kf *KeyFormat) Decode(key []byte, dst ...any) bool {
	if len(dst) > len(kf.parts) {
		panic(fmt.Sprintf("keyformat: prefix 0x%02x: %d destinations for %d parts", kf.prefix, len(dst), len(kf.parts)))
	}
	if !kf.Matches(key) {
		return false
	}
	off := 1
	for i, d := range dst {
		p := kf.parts[i]
		var part []byte
		if p == Variable {
			part = key[off:]
		} else {
			part = key[off : off+int(p)]
		}
		off += len(part)
		if d != nil && !kf.decodePart(i, part, d) {
			return false
		}
	}
	return true
}

// Matches reports whether key has this format's prefix byte and length.
func (kf *KeyFormat) Matches(key []byte) bool {
	if len(key) == 0 || key[0] != kf.prefix {
		return false
	}
	if kf.variable {
		return len(key) >= kf.fixedLen
	}
	return len(key) == kf.fixedLen
}

func (kf *KeyFormat) decodePart(i int, part []byte, d any) bool {
	p := kf.parts[i]
	bad := func(why string) {
		panic(fmt.Sprintf("keyformat: prefix 0x%02x: part %d (%d bytes): destination %T %s", kf.prefix, i, p, d, why))
	}
	if p == Variable {
		switch d := d.(type) {
		case *[]byte:
			*d = append([]byte(nil), part...)
			return true
		case *string:
			*d = string(part)
			return true
		}
		bad("is not *[]byte or *string")
	}
	switch d := d.(type) {
	case *uint8:
		if p != Uint8 {
			bad("has the wrong width")
		}
		*d = part[0]
		return true
	case *uint16:
		if p != Uint16 {
			bad("has the wrong width")
		}
		*d = binary.BigEndian.Uint16(part)
		return true
	case *uint32:
		if p != Uint32 {
			bad("has the wrong width")
		}
		*d = binary.BigEndian.Uint32(part)
		return true
	case *uint64:
		if p != Uint64 {
			bad("has the wrong width")
		}
		*d = binary.BigEndian.Uint64(part)
		return true
	case encoding.BinaryUnmarshaler:
		return d.UnmarshalBinary(part) == nil
	}
	rv := reflect.ValueOf(d)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		bad("is not a non-nil pointer")
	}
	rv = rv.Elem()
	if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 {
		bad("is not a supported type")
	}
	if rv.Len() != int(p) {
		bad("has the wrong width")
	}
	reflect.Copy(rv, reflect.ValueOf(part))
	return true
}
