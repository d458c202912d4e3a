package mkvs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

func TestCommitReturnsNetChangesSortedByKey(t *testing.T) {
	type op struct {
		remove     bool
		key, value string
	}
	ins := func(k, v string) op { return op{key: k, value: v} }
	rm := func(k string) op { return op{remove: true, key: k} }
	entry := func(k, v string) writelog.LogEntry { return writelog.LogEntry{Key: []byte(k), Value: []byte(v)} }
	del := func(k string) writelog.LogEntry { return writelog.LogEntry{Key: []byte(k)} }
	// The tree holds {a: 1, b: 2} when each case starts.
	for _, tc := range []struct {
		name string
		ops  []op
		want writelog.WriteLog
	}{
		{"no operations give no entries", nil, writelog.WriteLog{}},
		{"a new key is an entry", []op{ins("c", "3")}, writelog.WriteLog{entry("c", "3")}},
		{"inserting then removing a new key leaves nothing", []op{ins("c", "3"), rm("c")}, writelog.WriteLog{}},
		{"removing an absent key leaves nothing", []op{rm("zz")}, writelog.WriteLog{}},
		{"a removal is a nil value", []op{rm("a")}, writelog.WriteLog{del("a")}},
		{"an empty value is a value", []op{ins("a", "")}, writelog.WriteLog{entry("a", "")}},
		{"rewriting the same value leaves nothing", []op{ins("a", "1")}, writelog.WriteLog{}},
		{"changing a value back leaves nothing", []op{ins("a", "9"), ins("a", "1")}, writelog.WriteLog{}},
		{"removing and restoring leaves nothing", []op{rm("b"), ins("b", "2")}, writelog.WriteLog{}},
		{"only the last value counts", []op{ins("b", "x"), ins("b", "y")}, writelog.WriteLog{entry("b", "y")}},
		{"entries come sorted by key", []op{ins("d", "4"), rm("b"), ins("", "0"), ins("c", "3")},
			writelog.WriteLog{entry("", "0"), del("b"), entry("c", "3"), entry("d", "4")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := mkvs.New()
			defer tree.Close()
			mustInsert(t, tree, "a", "1")
			mustInsert(t, tree, "b", "2")
			mustCommit(t, tree, 1)
			for _, o := range tc.ops {
				if o.remove {
					mustRemove(t, tree, o.key)
				} else {
					mustInsert(t, tree, o.key, o.value)
				}
			}
			wl, _, batch, err := tree.Commit(context.Background(), testNS, 2)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, wl, cmp.Comparer(equalEntry)); diff != "" {
				t.Fatalf("write log (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wl, batch.WriteLog, cmp.Comparer(equalEntry)); diff != "" {
				t.Fatalf("batch write log differs (-returned +batch):\n%s", diff)
			}
		})
	}
}

func equalEntry(a, b writelog.LogEntry) bool {
	return string(a.Key) == string(b.Key) && string(a.Value) == string(b.Value) && a.IsDelete() == b.IsDelete()
}

func TestApplyingTheWriteLogReproducesTheRoot(t *testing.T) {
	ctx := context.Background()
	a, b := mkvs.New(), mkvs.New()
	defer a.Close()
	defer b.Close()
	for i := 0; i < 200; i++ {
		mustInsert(t, a, fmt.Sprintf("key-%03d", i), fmt.Sprint(i))
	}
	wl1, want1, _, err := a.Commit(ctx, testNS, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i += 3 {
		mustRemove(t, a, fmt.Sprintf("key-%03d", i))
		mustInsert(t, a, fmt.Sprintf("key-%03d", i+1), "changed")
	}
	mustInsert(t, a, "new", "")
	wl2, want2, _, err := a.Commit(ctx, testNS, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		wl   writelog.WriteLog
		want string
	}{{wl1, want1.Hash.String()}, {wl2, want2.Hash.String()}} {
		if err := b.ApplyWriteLog(ctx, step.wl); err != nil {
			t.Fatal(err)
		}
		_, got, _, err := b.Commit(ctx, testNS, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash.String() != step.want {
			t.Fatalf("after write log %d: root %s, want %s", i+1, got.Hash, step.want)
		}
	}
}

func TestApplyWriteLogReportsTheFailingEntry(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	wl := writelog.WriteLog{{Key: []byte("ok"), Value: []byte("1")}, {Key: make([]byte, 9000), Value: []byte("x")}}
	err := tree.ApplyWriteLog(context.Background(), wl)
	if err == nil || !errors.Is(err, mkvs.ErrKeyTooLarge) {
		t.Fatalf("ApplyWriteLog: %v, want ErrKeyTooLarge", err)
	}
}
