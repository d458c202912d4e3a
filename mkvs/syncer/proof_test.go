package syncer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/syncer"
)

// testKey returns the i-th key of a tree of n keys made by testTree.
func testKey(i, n int) []byte {
	return []byte(fmt.Sprintf("key-%07d", i*7919%(10*n+1)))
}

// testTree returns a committed in-memory tree of n keys, testKey(i, n) => i.
func testTree(tb testing.TB, n int) *mkvs.Tree {
	tb.Helper()
	ctx := context.Background()
	tree := mkvs.New()
	for i := 0; i < n; i++ {
		if err := tree.Insert(ctx, testKey(i, n), []byte(fmt.Sprint(i))); err != nil {
			tb.Fatal(err)
		}
	}
	if _, _, _, err := tree.Commit(ctx, namespace.Namespace{1}, 1); err != nil {
		tb.Fatal(err)
	}
	return tree
}

func proveGet(tb testing.TB, tree *mkvs.Tree, key []byte, siblings bool) *syncer.Proof {
	tb.Helper()
	root := tree.Root()
	resp, err := tree.SyncGet(context.Background(), &syncer.GetRequest{
		Tree: syncer.TreeID{Root: root, Position: root.Hash}, Key: key, IncludeSiblings: siblings,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &resp.Proof
}

func cloneProof(p *syncer.Proof) *syncer.Proof {
	c := &syncer.Proof{UntrustedRoot: p.UntrustedRoot}
	for _, e := range p.Entries {
		if e == nil {
			c.Entries = append(c.Entries, nil)
		} else {
			c.Entries = append(c.Entries, append([]byte{}, e...))
		}
	}
	return c
}

func TestVerifyProofAcceptsAProofFromTheTree(t *testing.T) {
	tree := testTree(t, 200)
	defer tree.Close()
	root := tree.Root().Hash
	key := testKey(1, 200)
	for _, siblings := range []bool{false, true} {
		proof := proveGet(t, tree, key, siblings)
		sub, err := syncer.VerifyProof(root, proof)
		if err != nil {
			t.Fatalf("siblings=%v: %v", siblings, err)
		}
		if sub.Hash != root || !sub.Clean || sub.Node == nil {
			t.Fatalf("siblings=%v: subtree %+v, want the loaded root", siblings, sub)
		}
		// The proven path leads to the key's leaf.
		if v := lookup(sub, key); string(v) != "1" {
			t.Fatalf("siblings=%v: value in the proof = %q, want \"1\"", siblings, v)
		}
	}
}

// lookup follows key through a verified subtree by trying every loaded leaf.
func lookup(p *node.Pointer, key []byte) []byte {
	if p == nil || p.Node == nil {
		return nil
	}
	switch n := p.Node.(type) {
	case *node.LeafNode:
		if bytes.Equal(n.Key, key) {
			return n.Value
		}
	case *node.InternalNode:
		if n.Leaf != nil {
			if l := n.Leaf.Node.(*node.LeafNode); bytes.Equal(l.Key, key) {
				return l.Value
			}
		}
		if v := lookup(n.Left, key); v != nil {
			return v
		}
		return lookup(n.Right, key)
	}
	return nil
}

func TestVerifyProofRejectsBadProofs(t *testing.T) {
	tree := testTree(t, 200)
	defer tree.Close()
	root := tree.Root().Hash
	good := proveGet(t, tree, testKey(1, 200), false)
	if len(good.Entries) < 5 {
		t.Fatalf("proof of %d entries is too short for the cases", len(good.Entries))
	}
	lastFull := -1
	for i, e := range good.Entries {
		if len(e) > 0 && e[0] == syncer.EntryFull {
			lastFull = i
		}
	}
	for _, tc := range []struct {
		name    string
		trusted hash.Hash
		edit    func(p *syncer.Proof)
		wantErr error
	}{
		{"a tampered leaf", root, func(p *syncer.Proof) { e := p.Entries[lastFull]; e[len(e)-1] ^= 0x40 }, syncer.ErrHashMismatch},
		{"a tampered root node", root, func(p *syncer.Proof) { p.Entries[0][len(p.Entries[0])-1] ^= 1 }, syncer.ErrHashMismatch},
		{"a tampered sibling hash", root, func(p *syncer.Proof) {
			for _, e := range p.Entries {
				if len(e) > 0 && e[0] == syncer.EntryHash {
					e[5] ^= 1
					return
				}
			}
		}, syncer.ErrHashMismatch},
		{"a truncated proof", root, func(p *syncer.Proof) { p.Entries = p.Entries[:len(p.Entries)-1] }, syncer.ErrTruncatedProof},
		{"a proof with no entries", root, func(p *syncer.Proof) { p.Entries = nil }, syncer.ErrTruncatedProof},
		{"trailing entries", root, func(p *syncer.Proof) { p.Entries = append(p.Entries, []byte{syncer.EntryHash}) }, syncer.ErrTrailingEntries},
		{"the wrong trusted root", hash.Digest([]byte("other")), func(*syncer.Proof) {}, syncer.ErrRootMismatch},
		{"an untrusted root that is not the trusted one", root, func(p *syncer.Proof) { p.UntrustedRoot = hash.Empty }, syncer.ErrRootMismatch},
		{"an unknown entry kind", root, func(p *syncer.Proof) { p.Entries[1] = []byte{0x07, 1, 2} }, syncer.ErrBadEntry},
		{"a hash entry of the wrong length", root, func(p *syncer.Proof) {
			for i, e := range p.Entries {
				if len(e) > 0 && e[0] == syncer.EntryHash {
					p.Entries[i] = e[:20]
					return
				}
			}
		}, syncer.ErrBadEntry},
		{"a malformed node", root, func(p *syncer.Proof) { p.Entries[0] = p.Entries[0][:4] }, syncer.ErrBadEntry},
		{"a hash entry standing for an absent child", root, func(p *syncer.Proof) {
			p.Entries[1] = append([]byte{syncer.EntryHash}, hash.Empty[:]...)
		}, syncer.ErrBadEntry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := cloneProof(good)
			tc.edit(p)
			sub, err := syncer.VerifyProof(tc.trusted, p)
			if !errors.Is(err, tc.wantErr) || !errors.Is(err, syncer.ErrInvalidProof) || sub != nil {
				t.Fatalf("VerifyProof = %v, %v; want %v", sub, err, tc.wantErr)
			}
		})
	}
	if _, err := syncer.VerifyProof(root, good); err != nil {
		t.Fatalf("the cases modified the good proof: %v", err)
	}
}

func TestProofBuilderRebuildsAVerifiedProof(t *testing.T) {
	tree := testTree(t, 100)
	defer tree.Close()
	root := tree.Root()
	resp, err := tree.SyncIterate(context.Background(), &syncer.IterateRequest{
		Tree: syncer.TreeID{Root: root, Position: root.Hash}, Key: testKey(5, 100), Prefetch: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := syncer.VerifyProof(root.Hash, &resp.Proof)
	if err != nil {
		t.Fatal(err)
	}
	again, err := rebuild(sub)
	if err != nil {
		t.Fatal(err)
	}
	if !equalProofs(again, &resp.Proof) {
		t.Fatal("rebuilding the verified subtree gave a different proof")
	}
}

// rebuild builds a proof including every loaded node of a verified subtree.
func rebuild(sub *node.Pointer) (*syncer.Proof, error) {
	b := syncer.NewProofBuilder()
	stack := []*node.Pointer{sub}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p == nil || p.Node == nil {
			continue
		}
		b.Include(p, p.Node)
		if in, ok := p.Node.(*node.InternalNode); ok {
			stack = append(stack, in.Left, in.Right)
		}
	}
	return b.Build(sub)
}

func equalProofs(a, b *syncer.Proof) bool {
	if a.UntrustedRoot != b.UntrustedRoot || len(a.Entries) != len(b.Entries) {
		return false
	}
	for i := range a.Entries {
		if !bytes.Equal(a.Entries[i], b.Entries[i]) || (a.Entries[i] == nil) != (b.Entries[i] == nil) {
			return false
		}
	}
	return true
}

func TestProofsRoundTripThroughCBOR(t *testing.T) {
	tree := testTree(t, 20)
	defer tree.Close()
	proof := proveGet(t, tree, testKey(3, 20), true)
	var back syncer.Proof
	if err := cbor.Unmarshal(cbor.Marshal(proof), &back); err != nil {
		t.Fatal(err)
	}
	if !equalProofs(&back, proof) {
		t.Fatal("proof changed over CBOR")
	}
	if _, err := syncer.VerifyProof(tree.Root().Hash, &back); err != nil {
		t.Fatal(err)
	}
}

func FuzzVerifyProof(f *testing.F) {
	tree := testTree(f, 64)
	root := tree.Root()
	ctx := context.Background()
	for i := 0; i < 64; i += 9 {
		key := testKey(i, 64)
		f.Add(cbor.Marshal(proveGet(f, tree, key, i%2 == 0)))
		resp, err := tree.SyncIterate(ctx, &syncer.IterateRequest{Tree: syncer.TreeID{Root: root, Position: root.Hash}, Key: key, Prefetch: uint16(i % 5)})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(cbor.Marshal(&resp.Proof))
	}
	tree.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		var proof syncer.Proof
		if err := cbor.Unmarshal(data, &proof); err != nil {
			return
		}
		sub, err := syncer.VerifyProof(proof.UntrustedRoot, &proof)
		if err != nil {
			if !errors.Is(err, syncer.ErrInvalidProof) {
				t.Fatalf("error %v does not wrap ErrInvalidProof", err)
			}
			return
		}
		if node.HashOf(sub) != proof.UntrustedRoot {
			t.Fatalf("verified subtree hashes to %s, proof root %s", node.HashOf(sub), proof.UntrustedRoot)
		}
		// A verified proof is canonical: rebuilding it from what it proved gives it back.
		again, err := rebuild(sub)
		if err != nil {
			t.Fatal(err)
		}
		normalized := cloneProof(&proof)
		for i, e := range normalized.Entries {
			if len(e) == 0 {
				normalized.Entries[i] = nil
			}
		}
		if !equalProofs(again, normalized) {
			t.Fatalf("verified proof is not what the builder makes of it")
		}
	})
}
