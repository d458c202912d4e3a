package db

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs/node"
)

func kvs(pairs ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = []byte(pairs[i+1])
	}
	return m
}

func randomChanges(rng *rand.Rand, prev map[string][]byte, n int) map[string][]byte {
	changes := map[string][]byte{}
	existing := make([]string, 0, len(prev))
	for k := range prev {
		existing = append(existing, k)
	}
	slices.Sort(existing)
	for range n {
		switch op := rng.IntN(10); {
		case op < 2 && len(existing) > 0:
			changes[existing[rng.IntN(len(existing))]] = nil
		case op < 5 && len(existing) > 0:
			changes[existing[rng.IntN(len(existing))]] = fmt.Appendf(nil, "v%d", rng.Uint32())
		default:
			k := make([]byte, 1+rng.IntN(4))
			for i := range k {
				k[i] = byte(rng.IntN(8)) // small alphabet: shared prefixes, keys ending at internal nodes
			}
			changes[string(k)] = fmt.Appendf(nil, "v%d", rng.Uint32())
		}
	}
	return changes
}

func TestAppliedTreeReadsBackAfterReopen(t *testing.T) {
	fs := vfs.NewMem()
	d := openMem(t, fs)
	tr, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("foo", "bar", "moo", "foo", "fo", "", "a", "1"))
	mustApply(t, d, b)
	mustApply(t, d, b) // idempotent
	checkContents(t, d, tr)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RootPointer(tr.root); !errorsIs(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	d = openMem(t, fs)
	checkContents(t, d, tr)
	ok, err := d.HasRoot(tr.root)
	if err != nil || !ok {
		t.Fatalf("HasRoot = %t, %v", ok, err)
	}
	wl, err := d.GetWriteLog(context.Background(), emptyRef(node.RootTypeState).root, tr.root)
	if err != nil || len(wl) != 4 {
		t.Fatalf("write log: %v, %d entries", err, len(wl))
	}
}

func TestRootsOfOneVersionCoexist(t *testing.T) {
	d := openMem(t, nil)
	base, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("a", "1", "b", "2", "c", "3"))
	mustApply(t, d, b)
	mustFinalize(t, d, 1, base.root)
	x, bx := commitRef(base, 2, kvs("a", "x"))
	y, by := commitRef(base, 2, kvs("b", "y", "d", "4"))
	io, bio := commitRef(emptyRef(node.RootTypeIO), 2, kvs("a", "io"))
	for _, b := range []*node.Batch{bx, by, bio} {
		mustApply(t, d, b)
	}
	for _, tr := range []*refTree{base, x, y, io} {
		checkContents(t, d, tr)
	}
	roots, err := d.GetRootsForVersion(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 3 {
		t.Fatalf("version 2 lists %d roots, want 3: %v", len(roots), roots)
	}
}

func TestFinalizeDiscardsLosersNodesButKeepsSharedOnes(t *testing.T) {
	d := openMem(t, nil)
	base, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("aa", "1", "ab", "2", "ba", "3", "bb", "4"))
	mustApply(t, d, b)
	mustFinalize(t, d, 1, base.root)
	// Both candidates change keys under 'a' and 'b'; they share the new leaf "zz".
	win, bw := commitRef(base, 2, kvs("aa", "w", "zz", "z"))
	lose, bl := commitRef(base, 2, kvs("bb", "l", "zz", "z"))
	mustApply(t, d, bw)
	mustApply(t, d, bl)
	before := countKeys(t, d, versionPrefix(prefixNode, 2))
	mustFinalize(t, d, 2, win.root)
	after := countKeys(t, d, versionPrefix(prefixNode, 2))
	winNew := 0
	for _, v := range win.nodes {
		if v == 2 {
			winNew++
		}
	}
	if after != winNew || after >= before {
		t.Fatalf("version 2 holds %d node records after finalize (before %d), want the winner's %d", after, before, winNew)
	}
	checkContents(t, d, win)
	checkContents(t, d, base)
	if ok, _ := d.HasRoot(lose.root); ok {
		t.Fatal("losing root still held")
	}
	if _, err := d.GetWriteLog(context.Background(), base.root, lose.root); !errorsIs(err, ErrWriteLogNotFound) {
		t.Fatalf("losing write log: %v", err)
	}
	if _, err := d.RootPointer(lose.root); !errorsIs(err, node.ErrRootNotFound) {
		t.Fatalf("losing root pointer: %v", err)
	}
}

func TestNodesSharedByRootsOfOneVersionLeaveNoRecordOncePruned(t *testing.T) {
	// Node records are deleted with SingleDelete, which is only sound for keys written once:
	// a node that two roots of one version share must be stored once, or a compaction would
	// bring the second copy back after Prune deleted the first.
	d := openMem(t, nil)
	base, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("aa", "1", "ab", "2", "ba", "3", "bb", "4"))
	mustApply(t, d, b)
	mustFinalize(t, d, 1, base.root)
	win, bw := commitRef(base, 2, kvs("aa", "w", "zz", "z", "zy", "y"))
	_, bl := commitRef(base, 2, kvs("bb", "l", "zz", "z", "zy", "y"))
	mustApply(t, d, bw)
	mustApply(t, d, bl)
	mustFinalize(t, d, 2, win.root)
	// Version 3 replaces the shared subtree, so pruning version 2 deletes it.
	next, b3 := commitRef(win, 3, kvs("zz", "z3", "zy", "y3"))
	mustApply(t, d, b3)
	mustFinalize(t, d, 3, next.root)
	mustPrune(t, d, 1)
	mustPrune(t, d, 2)
	if err := d.pdb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := d.pdb.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	reach := checkContents(t, d, next)
	if got := countKeys(t, d, []byte{prefixNode}); got != len(reach) {
		t.Fatalf("%d node records after pruning and compacting, the retained root reaches %d", got, len(reach))
	}
}

func TestFinalizeDiscardsRootsDerivedFromLosers(t *testing.T) {
	d := openMem(t, nil)
	base, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("a", "1", "b", "2"))
	mustApply(t, d, b)
	mustFinalize(t, d, 1, base.root)
	win, bw := commitRef(base, 2, kvs("a", "w"))
	lose, bl := commitRef(base, 2, kvs("a", "l"))
	mustApply(t, d, bw)
	mustApply(t, d, bl)
	onWin, bow := commitRef(win, 3, kvs("c", "3"))
	onLose, bol := commitRef(lose, 3, kvs("c", "3", "d", "4"))
	mustApply(t, d, bow)
	mustApply(t, d, bol)
	carried, err := d.CarryForward(context.Background(), lose.root, 4)
	if err != nil {
		t.Fatal(err)
	}
	mustFinalize(t, d, 2, win.root)
	for _, r := range []node.Root{lose.root, onLose.root, carried} {
		if ok, _ := d.HasRoot(r); ok {
			t.Fatalf("root %s derived from a loser survived", r)
		}
	}
	checkContents(t, d, onWin)
	nodes := checkContents(t, d, onWin)
	n3 := 0
	for ref := range nodes {
		if ref.Version == 3 {
			n3++
		}
	}
	if got := countKeys(t, d, versionPrefix(prefixNode, 3)); got != n3 {
		t.Fatalf("version 3 holds %d node records, the surviving root reaches %d", got, n3)
	}
	mustFinalize(t, d, 3, onWin.root)
}

func TestCarryForwardThenPruneKeepsTreeReadable(t *testing.T) {
	ctx := context.Background()
	d := openMem(t, nil)
	tr, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("a", "1", "b", "2", "c", "3"))
	mustApply(t, d, b)
	mustFinalize(t, d, 1, tr.root)
	carried, err := d.CarryForward(ctx, tr.root, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := d.RootPointer(carried); err != nil || p.Version != 1 {
		t.Fatalf("carried root pointer = %+v, %v; want creation version 1", p, err)
	}
	nodesBefore := countKeys(t, d, []byte{prefixNode})
	mustFinalize(t, d, 2, carried)
	mustPrune(t, d, 1)
	if got := countKeys(t, d, []byte{prefixNode}); got != nodesBefore {
		t.Fatalf("prune of a carried tree's version removed nodes: %d → %d", nodesBefore, got)
	}
	tr2 := *tr
	tr2.root = carried
	checkContents(t, d, &tr2)
	if ok, _ := d.HasRoot(tr.root); ok {
		t.Fatal("pruned root still held")
	}
	if v, ok, _ := d.EarliestVersion(); !ok || v != 2 {
		t.Fatalf("earliest version = %d, %t", v, ok)
	}
	// The carried tree keeps evolving from version 2.
	tr3, b3 := commitRef(&tr2, 3, kvs("a", "x"))
	mustApply(t, d, b3)
	mustFinalize(t, d, 3, tr3.root)
	mustPrune(t, d, 2)
	checkContents(t, d, tr3)
	if got, _ := d.GetLatest(ctx, []byte("a")); string(got) != "x" {
		t.Fatalf("latest a = %q", got)
	}
}

// TestPruneRemovesExactlyTheGarbage runs random chains of state and IO trees with competing
// roots, carried versions, finalization and pruning, and after every step checks that each
// retained root reads back whole and that the node records are exactly the nodes retained
// roots reach.
func TestPruneRemovesExactlyTheGarbage(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 7))
			d := openMem(t, nil)
			state := emptyRef(node.RootTypeState)
			retained := map[uint64][]*refTree{}
			const keep = 3
			for v := uint64(1); v <= 40; v++ {
				var final []node.Root
				var trees []*refTree
				switch rng.IntN(6) {
				case 0: // no change: carry the state forward
					r, err := d.CarryForward(ctx, state.root, v)
					if err != nil {
						t.Fatal(err)
					}
					c := *state
					c.root = r
					state = &c
				default:
					next, b := commitRef(state, v, randomChanges(rng, state.kv, 1+rng.IntN(12)))
					mustApply(t, d, b)
					for range rng.IntN(3) { // competing results
						_, lb := commitRef(state, v, randomChanges(rng, state.kv, 1+rng.IntN(12)))
						mustApply(t, d, lb)
					}
					state = next
				}
				trees = append(trees, state)
				final = append(final, state.root)
				if rng.IntN(2) == 0 {
					io, b := commitRef(emptyRef(node.RootTypeIO), v, randomChanges(rng, nil, 1+rng.IntN(5)))
					mustApply(t, d, b)
					trees = append(trees, io)
					final = append(final, io.root)
				}
				mustFinalize(t, d, v, final...)
				retained[v] = trees
				if v > keep {
					mustPrune(t, d, v-keep)
					delete(retained, v-keep)
				}
				reach := map[cacheKey]bool{}
				for _, trees := range retained {
					for _, tr := range trees {
						for ref := range checkContents(t, d, tr) {
							reach[cacheKey{version: ref.Version, typ: tr.root.Type, hash: ref.Hash}] = true
						}
					}
				}
				if got := countKeys(t, d, []byte{prefixNode}); got != len(reach) {
					t.Fatalf("version %d: %d node records, retained roots reach %d", v, got, len(reach))
				}
				for k, want := range state.kv {
					got, err := d.GetLatest(ctx, []byte(k))
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("version %d: latest %x = %x, %v; want %x", v, k, got, err, want)
					}
				}
			}
		})
	}
}

func TestFlatIndexEqualsTreeAfterFinalizes(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	d := openMem(t, nil)
	if _, err := d.GetLatest(ctx, []byte("a")); !errorsIs(err, ErrNoFinalizedState) {
		t.Fatalf("latest before any finalize: %v", err)
	}
	state := emptyRef(node.RootTypeState)
	for v := uint64(1); v <= 30; v++ {
		changes := randomChanges(rng, state.kv, 1+rng.IntN(20))
		if v == 15 { // the state empties out and fills again
			for k := range state.kv {
				changes[k] = nil
			}
		}
		next, b := commitRef(state, v, changes)
		mustApply(t, d, b)
		mustFinalize(t, d, v, next.root)
		state = next
		flat := map[string][]byte{}
		it, err := d.pdb.NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		for it.SeekGE([]byte{prefixFlat}); it.Valid() && it.Key()[0] == prefixFlat; it.Next() {
			flat[string(it.Key()[1:])] = slices.Clone(it.Value())
		}
		_ = it.Close()
		kv, _ := readAll(t, d, state.root)
		if len(flat) != len(kv) {
			t.Fatalf("version %d: flat index holds %d keys, tree %d", v, len(flat), len(kv))
		}
		for k, want := range kv {
			if !bytes.Equal(flat[k], want) {
				t.Fatalf("version %d: flat %x = %x, tree %x", v, k, flat[k], want)
			}
		}
		if r, ok, _ := d.LatestFinalizedRoot(node.RootTypeState); !ok || r != state.root {
			t.Fatalf("latest finalized root = %s, want %s", r, state.root)
		}
	}
}

func TestFlatIndexIsRebuiltWhenNoWriteLogLeadsToTheNewState(t *testing.T) {
	ctx := context.Background()
	d := openMem(t, nil)
	a, ba := commitRef(emptyRef(node.RootTypeState), 1, kvs("a", "1", "b", "2"))
	mustApply(t, d, ba)
	mustFinalize(t, d, 1, a.root)
	// A root at version 2 built from scratch (its write log starts at the empty tree).
	fresh, bf := commitRef(emptyRef(node.RootTypeState), 2, kvs("b", "3", "c", "4"))
	mustApply(t, d, bf)
	mustFinalize(t, d, 2, fresh.root)
	for k, want := range map[string]string{"a": "", "b": "3", "c": "4"} {
		got, err := d.GetLatest(ctx, []byte(k))
		if err != nil || string(got) != want || (want == "") != (got == nil) {
			t.Fatalf("latest %s = %q, %v; want %q", k, got, err, want)
		}
	}
}

func TestEmptyValuesAndEmptyRootsAreKept(t *testing.T) {
	ctx := context.Background()
	d := openMem(t, nil)
	tr, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("a", "", "b", "x"))
	mustApply(t, d, b)
	mustFinalize(t, d, 1, tr.root)
	if got, err := d.GetLatest(ctx, []byte("a")); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty value reads back as %v, %v", got, err)
	}
	empty := node.Root{Namespace: testNS, Version: 2, Type: node.RootTypeState, Hash: hash.Empty}
	if p, err := d.RootPointer(empty); err != nil || p != nil {
		t.Fatalf("empty root pointer = %v, %v", p, err)
	}
	// An empty root needs no Apply to be finalized; the flat index empties.
	mustFinalize(t, d, 2, empty)
	if got, err := d.GetLatest(ctx, []byte("b")); err != nil || got != nil {
		t.Fatalf("latest b after emptying = %q, %v", got, err)
	}
	if roots, _ := d.GetRootsForVersion(2); len(roots) != 1 || roots[0] != empty {
		t.Fatalf("roots of version 2 = %v", roots)
	}
	mustPrune(t, d, 1)
}

func TestFinalizeRejectsOutOfOrderVersions(t *testing.T) {
	d := openMem(t, nil)
	state := emptyRef(node.RootTypeState)
	var trees []*refTree
	for v := uint64(1); v <= 3; v++ {
		next, b := commitRef(state, v, kvs(fmt.Sprint(v), "x"))
		mustApply(t, d, b)
		trees = append(trees, next)
		state = next
	}
	wantErr(t, d.Finalize(context.Background(), 2, []node.Root{trees[1].root}), ErrOutOfOrder)
	mustFinalize(t, d, 1, trees[0].root)
	wantErr(t, d.Finalize(context.Background(), 1, []node.Root{trees[0].root}), ErrAlreadyFinalized)
	wantErr(t, d.Finalize(context.Background(), 3, []node.Root{trees[2].root}), ErrOutOfOrder)
	wantErr(t, d.Finalize(context.Background(), 2, []node.Root{trees[2].root}), ErrInvalidRoot)
	other := trees[1].root
	other.Hash = hash.Digest([]byte("unknown"))
	wantErr(t, d.Finalize(context.Background(), 2, []node.Root{other}), node.ErrRootNotFound)
	mustFinalize(t, d, 2, trees[1].root)
	// Writing to a finalized version is refused; re-applying a held root is not.
	_, late := commitRef(trees[0], 2, kvs("late", "x"))
	wantErr(t, d.Apply(context.Background(), late), ErrAlreadyFinalized)
	_, again := commitRef(trees[0], 2, kvs("2", "x"))
	mustApply(t, d, again)
}

func TestPruneRejectsAllButTheEarliestFinalizedVersion(t *testing.T) {
	d := openMem(t, nil)
	state := emptyRef(node.RootTypeState)
	for v := uint64(1); v <= 4; v++ {
		next, b := commitRef(state, v, kvs(fmt.Sprint(v), "x"))
		mustApply(t, d, b)
		if v <= 3 {
			mustFinalize(t, d, v, next.root)
		}
		state = next
	}
	wantErr(t, d.Prune(context.Background(), 2), ErrNotEarliest)
	wantErr(t, d.Prune(context.Background(), 3), ErrPruneLatest)
	wantErr(t, d.Prune(context.Background(), 4), ErrNotFinalized)
	mustPrune(t, d, 1)
	wantErr(t, d.Prune(context.Background(), 1), ErrPruned)
	_, old := commitRef(emptyRef(node.RootTypeState), 1, kvs("x", "y"))
	wantErr(t, d.Apply(context.Background(), old), ErrAlreadyFinalized)
	if v, ok, _ := d.LatestVersion(); !ok || v != 3 {
		t.Fatalf("latest version = %d, %t", v, ok)
	}
}

func TestNamespaceMismatchIsRejected(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewMem()
	d := openMem(t, fs)
	tr, b := commitRef(emptyRef(node.RootTypeState), 1, kvs("a", "1"))
	mustApply(t, d, b)
	foreign := tr.root
	foreign.Namespace = namespace.Namespace{0xff}
	fb := *b
	fb.Root, fb.Src.Namespace = foreign, foreign.Namespace
	wantErr(t, d.Apply(ctx, &fb), ErrNamespaceMismatch)
	wantErr(t, d.Finalize(ctx, 1, []node.Root{foreign}), ErrNamespaceMismatch)
	_, err := d.RootPointer(foreign)
	wantErr(t, err, ErrNamespaceMismatch)
	_, err = d.GetNode(foreign, &node.Pointer{Hash: foreign.Hash, Version: 1})
	wantErr(t, err, ErrNamespaceMismatch)
	_, err = d.CarryForward(ctx, foreign, 2)
	wantErr(t, err, ErrNamespaceMismatch)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(Options{FS: fs, Namespace: namespace.Namespace{0xff}})
	wantErr(t, err, ErrIncompatible)
}

func TestApplyRejectsUnknownSourceRoot(t *testing.T) {
	d := openMem(t, nil)
	base, _ := commitRef(emptyRef(node.RootTypeState), 1, kvs("a", "1"))
	_, b := commitRef(base, 2, kvs("b", "2"))
	wantErr(t, d.Apply(context.Background(), b), node.ErrRootNotFound)
	if ok, _ := d.HasRoot(b.Root); ok {
		t.Fatal("rejected root was stored")
	}
	bad := *b
	bad.Nodes = bad.Nodes[:len(bad.Nodes)-1]
	bad.Src = emptyRef(node.RootTypeState).root
	wantErr(t, d.Apply(context.Background(), &bad), ErrInvalidBatch)
}

func TestFinalizedVersionsSurvivePowerLoss(t *testing.T) {
	for _, unsynced := range []int{0, 50} {
		t.Run(fmt.Sprintf("unsynced data kept %d%%", unsynced), func(t *testing.T) {
			finalizedSurvivesCrash(t, unsynced)
		})
	}
}

func finalizedSurvivesCrash(t *testing.T, unsyncedPercent int) {
	fs := vfs.NewCrashableMem()
	d, err := Open(Options{FS: fs, Namespace: testNS})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	state := emptyRef(node.RootTypeState)
	var finalized *refTree
	for v := uint64(1); v <= 10; v++ {
		next, b := commitRef(state, v, randomChanges(rng, state.kv, 10))
		mustApply(t, d, b)
		if v < 10 {
			mustFinalize(t, d, v, next.root)
			finalized = next
		}
		state = next
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsyncedPercent, RNG: rand0(unsyncedPercent)})
	_ = d.Close()
	d, err = Open(Options{FS: crashed, Namespace: testNS})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, ok, _ := d.LatestVersion(); !ok || v < 9 {
		t.Fatalf("latest version after power loss = %d, %t", v, ok)
	}
	checkContents(t, d, finalized)
	for k, want := range finalized.kv {
		if got, _ := d.GetLatest(context.Background(), []byte(k)); !bytes.Equal(got, want) {
			t.Fatalf("latest %x = %x, want %x", k, got, want)
		}
	}
}

func TestReadsRunConcurrentlyWithWrites(t *testing.T) {
	ctx := context.Background()
	d := openMem(t, nil)
	rng := rand.New(rand.NewPCG(5, 5))
	state, b := commitRef(emptyRef(node.RootTypeState), 1, randomChanges(rng, nil, 50))
	mustApply(t, d, b)
	mustFinalize(t, d, 1, state.root)
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-done:
				return
			default:
			}
			r, ok, err := d.LatestFinalizedRoot(node.RootTypeState)
			if err != nil || !ok {
				errs <- fmt.Errorf("latest root: %v", err)
				return
			}
			if _, err := d.GetLatest(ctx, []byte{1}); err != nil {
				errs <- err
				return
			}
			// The root may be pruned under us; only corruption is an error.
			if p, err := d.RootPointer(r); err == nil && p != nil {
				if _, err := d.GetNode(r, p); err != nil && !errorsIs(err, node.ErrNodeNotFound) {
					errs <- err
					return
				}
			}
		}
	}()
	for v := uint64(2); v <= 30; v++ {
		next, b := commitRef(state, v, randomChanges(rng, state.kv, 10))
		mustApply(t, d, b)
		mustFinalize(t, d, v, next.root)
		if v > 3 {
			mustPrune(t, d, v-3)
		}
		state = next
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
