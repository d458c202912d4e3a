package mkvs_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/atoll-project/atoll/mkvs"
)

// collect returns up to n keys from the iterator's position on.
func collect(t *testing.T, it *mkvs.Iterator, n int) []string {
	t.Helper()
	var keys []string
	for ; it.Valid() && len(keys) < n; it.Next() {
		keys = append(keys, string(it.Key()))
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterator: %v", err)
	}
	return keys
}

func TestIteratorVisitsKeysInBytewiseOrder(t *testing.T) {
	keys := []string{"", "\x00", "\x00\x00", "\x01", "a", "ab", "abc", "abd", "b", "\x7f", "\x80", "\xff", "\xff\x00", "\xff\xff"}
	tree := mkvs.New()
	defer tree.Close()
	for _, i := range []int{5, 0, 13, 2, 9, 1, 7, 3, 11, 4, 12, 6, 10, 8} {
		mustInsert(t, tree, keys[i], "v"+keys[i])
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	for _, committed := range []bool{false, true} {
		if committed {
			mustCommit(t, tree, 1)
		}
		it := tree.NewIterator(context.Background())
		it.Rewind()
		var got []string
		for ; it.Valid(); it.Next() {
			if string(it.Value()) != "v"+string(it.Key()) {
				t.Fatalf("value of %q = %q", it.Key(), it.Value())
			}
			got = append(got, string(it.Key()))
		}
		it.Close()
		if !slices.Equal(got, sorted) {
			t.Fatalf("committed=%v: keys %q, want %q", committed, got, sorted)
		}
	}
}

func TestIteratorSeekFindsTheFirstKeyAtOrAfterTarget(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	for _, k := range []string{"", "a", "ab", "abc", "abd", "b", "ba", "\xff"} {
		mustInsert(t, tree, k, k)
	}
	for _, tc := range []struct {
		name   string
		target string
		want   []string
	}{
		{"the empty target is the first key", "", []string{"", "a", "ab"}},
		{"an exact key", "ab", []string{"ab", "abc", "abd"}},
		{"a prefix of keys stops at the prefix's own key", "abc", []string{"abc", "abd", "b"}},
		{"a missing prefix goes to its first extension", "aa", []string{"ab", "abc", "abd"}},
		{"a key between siblings", "abca", []string{"abd", "b", "ba"}},
		{"an extension of a leaf in a slot goes past it", "a\x00", []string{"ab", "abc", "abd"}},
		{"a key before a label's ones", "\x80", []string{"\xff"}},
		{"past every key", "\xff\x00", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := tree.NewIterator(context.Background())
			defer it.Close()
			it.Seek([]byte(tc.target))
			if got := collect(t, it, 3); !slices.Equal(got, tc.want) {
				t.Fatalf("Seek(%q): %q, want %q", tc.target, got, tc.want)
			}
		})
	}
}

func TestIteratorRewindStartsOverAfterSeek(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	for i := 0; i < 20; i++ {
		mustInsert(t, tree, fmt.Sprintf("k%02d", i), "v")
	}
	it := tree.NewIterator(context.Background())
	defer it.Close()
	if it.Valid() {
		t.Fatal("a new iterator is positioned before Rewind or Seek")
	}
	it.Seek([]byte("k15"))
	if got := collect(t, it, 2); !slices.Equal(got, []string{"k15", "k16"}) {
		t.Fatalf("after Seek: %q", got)
	}
	it.Rewind()
	if got := collect(t, it, 2); !slices.Equal(got, []string{"k00", "k01"}) {
		t.Fatalf("after Rewind: %q", got)
	}
}

func TestIteratorOverAnEmptyTreeIsNeverValid(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	it := tree.NewIterator(context.Background())
	defer it.Close()
	it.Rewind()
	if it.Valid() || it.Err() != nil {
		t.Fatalf("valid %v, err %v", it.Valid(), it.Err())
	}
}
