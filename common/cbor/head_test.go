package cbor

import (
	"bytes"
	"math"
	"testing"
)

func TestAppendHeadWritesWhatMarshalWritesForIntegersAndLengths(t *testing.T) {
	for _, n := range []uint64{0, 1, 23, 24, 255, 256, math.MaxUint16, math.MaxUint16 + 1, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64} {
		if got, want := AppendHead(nil, MajorUint, n), Marshal(n); !bytes.Equal(got, want) {
			t.Errorf("AppendHead(uint %d) = %x, Marshal gives %x", n, got, want)
		}
	}
	for _, size := range []int{0, 23, 24, 300, 70000} {
		b := make([]byte, size)
		if got, want := append(AppendHead(nil, MajorBytes, uint64(size)), b...), Marshal(b); !bytes.Equal(got, want) {
			t.Errorf("a %d-byte string: head %x, Marshal gives %x", size, got[:min(len(got), 9)], want[:min(len(want), 9)])
		}
	}
}

func TestReadHeadReadsShortestHeadsAndRefusesTheRest(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"immediate", []byte{0x17}, true},
		{"one byte", []byte{0x18, 0x18}, true},
		{"one byte below 24", []byte{0x18, 0x17}, false},
		{"two bytes below 256", []byte{0x19, 0x00, 0xff}, false},
		{"four bytes", []byte{0x5a, 0x00, 0x01, 0x00, 0x00}, true},
		{"truncated", []byte{0x59, 0x01}, false},
		{"indefinite", []byte{0x9f}, false},
		{"reserved", []byte{0x1c}, false},
		{"empty", nil, false},
	} {
		major, n, next, ok := ReadHead(tc.data, 0)
		if ok != tc.ok {
			t.Errorf("%s: ReadHead(%x) ok = %t", tc.name, tc.data, ok)
			continue
		}
		if ok && (next != len(tc.data) || !bytes.Equal(AppendHead(nil, major, n), tc.data)) {
			t.Errorf("%s: ReadHead(%x) = %d, %d, next %d", tc.name, tc.data, major, n, next)
		}
	}
}

func FuzzReadHead(f *testing.F) {
	f.Add([]byte{0x18, 0x18})
	f.Add([]byte{0x9f})
	f.Fuzz(func(t *testing.T, data []byte) {
		major, n, next, ok := ReadHead(data, 0)
		if !ok {
			return
		}
		if enc := AppendHead(nil, major, n); !bytes.Equal(enc, data[:next]) {
			t.Fatalf("ReadHead(%x) = %d, %d; AppendHead gives %x", data, major, n, enc)
		}
	})
}
