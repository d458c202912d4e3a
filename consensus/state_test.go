package consensus

import (
	"bytes"
	"sort"
	"testing"

	"pgregory.net/rapid"
)

// mapState is a naive State: the reference the overlay is checked against.
type mapState map[string][]byte

func (m mapState) Get(k []byte) ([]byte, error) {
	v, ok := m[string(k)]
	if !ok {
		return nil, nil
	}
	return bytes.Clone(v), nil
}
func (m mapState) Insert(k, v []byte) error { m[string(k)] = bytes.Clone(v); return nil }
func (m mapState) Remove(k []byte) error    { delete(m, string(k)); return nil }
func (m mapState) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	var keys []string
	for k := range m {
		if k >= string(start) && (end == nil || k < string(end)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if more, err := fn([]byte(k), m[k]); err != nil || !more {
			return err
		}
	}
	return nil
}

func collect(t *rapid.T, s State, start, end []byte, limit int) []string {
	var out []string
	err := s.Iterate(start, end, func(k, v []byte) (bool, error) {
		out = append(out, string(k)+"="+string(v))
		return len(out) < limit, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNestedOverlaysReadAndIterateLikeAPlainMapAndRevertWhenDropped(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// More keys than an overlay keeps in its small form, so that it moves to a map.
		key := rapid.SampledFrom([]string{"", "a", "ab", "b", "ba", "c", "ca", "d", "da", "db", "e", "f", "\xff"})
		base, model := mapState{}, mapState{}
		for _, k := range rapid.SliceOf(key).Draw(t, "base") {
			base[k], model[k] = []byte("0"), []byte("0")
		}
		outer := NewOverlay(base)
		inner := NewOverlay(outer)
		dropped := NewOverlay(inner)
		for i, n := 0, rapid.IntRange(0, 30).Draw(t, "ops"); i < n; i++ {
			k := []byte(key.Draw(t, "key"))
			if rapid.Bool().Draw(t, "remove") {
				_ = inner.Remove(k)
				_ = model.Remove(k)
			} else {
				v := []byte{byte('a' + i)}
				_ = inner.Insert(k, v)
				_ = model.Insert(k, v)
			}
			_ = dropped.Insert(k, []byte("never"))
		}
		start := []byte(key.Draw(t, "start"))
		var end []byte
		if rapid.Bool().Draw(t, "bounded") {
			end = []byte(key.Draw(t, "end"))
		}
		limit := rapid.IntRange(1, 10).Draw(t, "limit")
		if got, want := collect(t, inner, start, end, limit), collect(t, model, start, end, limit); !equal(got, want) {
			t.Fatalf("iterate(%q, %q): %v, want %v", start, end, got, want)
		}
		if err := inner.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := outer.Commit(); err != nil {
			t.Fatal(err)
		}
		if got, want := collect(t, base, nil, nil, 100), collect(t, model, nil, nil, 100); !equal(got, want) {
			t.Fatalf("after commit: %v, want %v", got, want)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPrefixEndIsTheFirstKeyAfterThePrefix(t *testing.T) {
	for _, tc := range []struct{ prefix, want []byte }{
		{[]byte{0x03, 0x01}, []byte{0x03, 0x02}},
		{[]byte{0x03, 0xff}, []byte{0x04}},
		{[]byte{0xff, 0xff}, nil},
	} {
		if got := PrefixEnd(tc.prefix); !bytes.Equal(got, tc.want) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", tc.prefix, got, tc.want)
		}
	}
}
