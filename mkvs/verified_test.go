package mkvs_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/mkvstest"
)

func TestTreesSharingVerifiedNodesFetchOnlyWhatTheStoreLacks(t *testing.T) {
	ctx := context.Background()
	root, model, p := remoteSetup(t, 300)
	nodes := mkvs.NewVerifiedNodes(64 << 20)

	first := mkvs.NewWithSyncer(root, p, mkvs.WithVerifiedNodes(nodes))
	for k, v := range model {
		if got := mustGet(t, first, k); !bytes.Equal(got, v) {
			t.Fatalf("Get(%q) = %q, want %q", k, got, v)
		}
	}
	first.Close()
	if nodes.Len() == 0 {
		t.Fatal("the store holds no node after a tree verified the whole state")
	}

	before := p.requests.Load()
	second := mkvs.NewWithSyncer(root, p, mkvs.WithVerifiedNodes(nodes))
	defer second.Close()
	var prefixes [][]byte
	for k := range model {
		prefixes = append(prefixes, []byte(k))
	}
	if err := second.PrefetchPrefixes(ctx, prefixes, 1); err != nil {
		t.Fatal(err)
	}
	for k, v := range model {
		if got := mustGet(t, second, k); !bytes.Equal(got, v) {
			t.Fatalf("second tree: Get(%q) = %q, want %q", k, got, v)
		}
		mustInsert(t, second, k, "changed")
		model[k] = []byte("changed")
	}
	if n := p.requests.Load() - before; n != 0 {
		t.Fatalf("a tree over a warm store made %d requests, want 0", n)
	}

	// The committed nodes are verified too: a tree at the new root needs no request either.
	_, next, _, err := second.Commit(ctx, testNS, root.Version+1)
	if err != nil {
		t.Fatal(err)
	}
	if want := mkvstest.NaiveRoot(model); next.Hash != want {
		t.Fatalf("root %s, want %s", next.Hash, want)
	}
	third := mkvs.NewWithSyncer(next, p, mkvs.WithVerifiedNodes(nodes))
	defer third.Close()
	for k, v := range model {
		if got := mustGet(t, third, k); !bytes.Equal(got, v) {
			t.Fatalf("tree at the committed root: Get(%q) = %q, want %q", k, got, v)
		}
	}
	if n := p.requests.Load() - before; n != 0 {
		t.Fatalf("reading the committed root made %d requests, want 0", n)
	}
}

func TestASmallVerifiedStoreStillGivesTheRightAnswers(t *testing.T) {
	ctx := context.Background()
	root, model, p := remoteSetup(t, 300)
	nodes := mkvs.NewVerifiedNodes(1) // evicts all but the most recent node
	for range 2 {
		tree := mkvs.NewWithSyncer(root, p, mkvs.WithVerifiedNodes(nodes))
		var prefixes [][]byte
		for k := range model {
			prefixes = append(prefixes, []byte(k))
		}
		if err := tree.PrefetchPrefixes(ctx, prefixes[:10], 1); err != nil {
			t.Fatal(err)
		}
		for k, v := range model {
			if got := mustGet(t, tree, k); !bytes.Equal(got, v) {
				t.Fatalf("Get(%q) = %q, want %q", k, got, v)
			}
		}
		tree.Close()
	}
	if n := nodes.Len(); n != 1 {
		t.Fatalf("store of 1 byte holds %d nodes, want 1", n)
	}
}
