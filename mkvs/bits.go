package mkvs

import "math/bits"

// Bit strings. A key is a string of 8*len(key) bits, most significant bit of each byte first.
// A label is a bit string held left-aligned in node.LabelBytes(bits) bytes with the unused low
// bits of its last byte zero. Depths and bit offsets are int (an 8 KiB key has 65,536 bits).

// bitAt returns bit i of b (0 or 1); i must be below 8*len(b).
func bitAt(b []byte, i int) byte {
	return (b[i>>3] >> (7 - uint(i&7))) & 1
}

// byteAt returns the 8 bits of b starting at bit off, zero-padded past the end of b; off must
// be below 8*len(b).
func byteAt(b []byte, off int) byte {
	i, s := off>>3, uint(off&7)
	v := b[i] << s
	if s != 0 && i+1 < len(b) {
		v |= b[i+1] >> (8 - s)
	}
	return v
}

// matchLabel returns how many leading bits of label (labelBits long) equal the bits of key
// starting at depth, stopping where key ends.
func matchLabel(label []byte, labelBits int, key []byte, depth int) int {
	n := labelBits
	if rem := 8*len(key) - depth; rem < n {
		n = rem
	}
	if n <= 0 {
		return 0
	}
	if depth&7 == 0 {
		k := key[depth>>3:]
		for i := 0; i < n; i += 8 {
			if x := label[i>>3] ^ k[i>>3]; x != 0 {
				return min(i+bits.LeadingZeros8(x), n)
			}
		}
		return n
	}
	for i := 0; i < n; i += 8 {
		if x := label[i>>3] ^ byteAt(key, depth+i); x != 0 {
			return min(i+bits.LeadingZeros8(x), n)
		}
	}
	return n
}

// commonPrefixBits returns the length in bits of the longest common prefix of a and b.
func commonPrefixBits(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if x := a[i] ^ b[i]; x != 0 {
			return 8*i + bits.LeadingZeros8(x)
		}
	}
	return 8 * n
}

// extractBits returns bits [from, to) of b as a label.
func extractBits(b []byte, from, to int) []byte {
	n := to - from
	if n <= 0 {
		return nil
	}
	out := make([]byte, (n+7)>>3)
	if from&7 == 0 {
		copy(out, b[from>>3:])
	} else {
		for i := range out {
			out[i] = byteAt(b, from+8*i)
		}
	}
	if rem := n & 7; rem != 0 {
		out[len(out)-1] &= 0xff << (8 - uint(rem))
	}
	return out
}

// concatBits returns the label a (aBits long) followed by the label b (bBits long).
func concatBits(a []byte, aBits int, b []byte, bBits int) []byte {
	n := aBits + bBits
	if n == 0 {
		return nil
	}
	out := make([]byte, (n+7)>>3)
	copy(out, a[:(aBits+7)>>3])
	s := uint(aBits & 7)
	at := aBits >> 3
	for i := 0; i < (bBits+7)>>3; i++ {
		v := b[i]
		out[at+i] |= v >> s
		if s != 0 && at+i+1 < len(out) {
			out[at+i+1] |= v << (8 - s)
		}
	}
	return out
}

// setBits writes the label src (n bits long) into dst at bit offset at, growing dst as
// needed, and returns dst. Bits of dst past at+n are left as they were.
func setBits(dst []byte, at int, src []byte, n int) []byte {
	need := (at + n + 7) >> 3
	for len(dst) < need {
		dst = append(dst, 0)
	}
	for i := 0; i < n; i++ {
		j := at + i
		mask := byte(0x80) >> uint(j&7)
		if bitAt(src, i) == 1 {
			dst[j>>3] |= mask
		} else {
			dst[j>>3] &^= mask
		}
	}
	return dst
}

// guideKey returns the shortest key whose path passes through the child on side (0 left, 1
// right) of a node whose label ends at bit end: the first end bits of path, then side, then
// zero bits up to a byte boundary. Every key in that child's subtree is at or after it.
func guideKey(path []byte, end int, side byte) []byte {
	out := make([]byte, (end+8)>>3)
	copy(out, path[:(end+7)>>3])
	if rem := end & 7; rem != 0 {
		out[end>>3] &= 0xff << (8 - uint(rem))
	}
	if side == 1 {
		out[end>>3] |= 0x80 >> uint(end&7)
	}
	return out
}
