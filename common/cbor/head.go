package cbor

import (
	"encoding/binary"
	"math"
)

// Major types of CBOR data items (RFC 8949 §3.1), for the few hand-written encoders and
// decoders of hot paths. Everything else goes through Marshal and Unmarshal.
const (
	MajorUint   byte = 0
	MajorNegInt byte = 1
	MajorBytes  byte = 2
	MajorText   byte = 3
	MajorArray  byte = 4
	MajorMap    byte = 5
	MajorTag    byte = 6
	MajorOther  byte = 7
)

// AppendHead appends the head of a data item of the major type with argument n (a value, or
// a length) in its shortest form, as the canonical encoding writes it.
func AppendHead(buf []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(buf, m|byte(n))
	case n <= math.MaxUint8:
		return append(buf, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(buf, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(buf, m|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(buf, m|27), n)
	}
}

// ReadHead reads the head at data[off:] and returns its major type, its argument and the
// offset after it. ok is false for a truncated head, an indefinite or reserved length, or an
// argument not in its shortest form (which the canonical encoding never writes).
func ReadHead(data []byte, off int) (major byte, n uint64, next int, ok bool) {
	if off < 0 || off >= len(data) {
		return 0, 0, 0, false
	}
	b := data[off]
	major, ai := b>>5, b&0x1f
	off++
	if ai < 24 {
		return major, uint64(ai), off, true
	}
	if ai > 27 {
		return 0, 0, 0, false
	}
	width := 1 << (ai - 24)
	if len(data)-off < width {
		return 0, 0, 0, false
	}
	for _, c := range data[off : off+width] {
		n = n<<8 | uint64(c)
	}
	if least := [...]uint64{24, math.MaxUint8 + 1, math.MaxUint16 + 1, math.MaxUint32 + 1}[ai-24]; n < least {
		return 0, 0, 0, false
	}
	return major, n, off + width, true
}
