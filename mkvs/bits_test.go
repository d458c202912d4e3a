package mkvs

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// Bit strings as []byte of 0/1, the obvious way, to check the packed helpers against.
func unpack(b []byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = (b[i/8] >> (7 - i%8)) & 1
	}
	return out
}

func pack(bits []byte) []byte {
	out := make([]byte, (len(bits)+7)/8)
	for i, v := range bits {
		out[i/8] |= v << (7 - i%8)
	}
	return out
}

func TestBitHelpersMatchTheirBitByBitDefinitions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.SliceOfN(rapid.SampledFrom([]byte{0x00, 0x0f, 0x5a, 0xf0, 0xff}), 0, 6).Draw(t, "key")
		kb := unpack(key, 8*len(key))
		from := rapid.IntRange(0, len(kb)).Draw(t, "from")
		to := rapid.IntRange(from, len(kb)).Draw(t, "to")

		label := extractBits(key, from, to)
		if want := pack(kb[from:to]); !bytes.Equal(label, want) && !(len(want) == 0 && len(label) == 0) {
			t.Fatalf("extractBits(%x, %d, %d) = %x, want %x", key, from, to, label, want)
		}
		other := rapid.SliceOfN(rapid.SampledFrom([]byte{0x00, 0x0f, 0x5a, 0xf0, 0xff}), 0, 6).Draw(t, "other")
		ob := unpack(other, 8*len(other))
		cp := 0
		for cp < len(kb) && cp < len(ob) && kb[cp] == ob[cp] {
			cp++
		}
		if got := commonPrefixBits(key, other); got != cp {
			t.Fatalf("commonPrefixBits(%x, %x) = %d, want %d", key, other, got, cp)
		}
		// matchLabel counts agreeing bits up to the label's end or the key's.
		depth := rapid.IntRange(0, len(ob)).Draw(t, "depth")
		want := 0
		for want < to-from && depth+want < len(ob) && ob[depth+want] == kb[from+want] {
			want++
		}
		if got := matchLabel(label, to-from, other, depth); got != want {
			t.Fatalf("matchLabel(%x/%d, %x, %d) = %d, want %d", label, to-from, other, depth, got, want)
		}
		// concatBits appends bit strings.
		cat := concatBits(label, to-from, other, len(ob))
		if want := pack(append(append([]byte{}, kb[from:to]...), ob...)); !bytes.Equal(cat, want) && len(want) > 0 {
			t.Fatalf("concatBits = %x, want %x", cat, want)
		}
		// setBits overwrites a range and keeps the bits before it.
		dst := setBits(append([]byte{}, other...), depth, label, to-from)
		db := unpack(dst, depth+to-from)
		if !bytes.Equal(db[:depth], ob[:depth]) || !bytes.Equal(db[depth:], kb[from:to]) {
			t.Fatalf("setBits(%x, %d, %x/%d) = %x", other, depth, label, to-from, dst)
		}
		// guideKey: the path's first end bits, the side bit, zeros to a byte boundary.
		if len(ob) > 0 {
			end := rapid.IntRange(0, len(ob)-1).Draw(t, "end")
			side := byte(rapid.IntRange(0, 1).Draw(t, "side"))
			g := guideKey(other, end, side)
			wantBits := append(append([]byte{}, ob[:end]...), side)
			for len(wantBits)%8 != 0 {
				wantBits = append(wantBits, 0)
			}
			if !bytes.Equal(g, pack(wantBits)) {
				t.Fatalf("guideKey(%x, %d, %d) = %x, want %x", other, end, side, g, pack(wantBits))
			}
		}
	})
}
