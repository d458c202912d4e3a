package mkvstest

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// TB is the part of testing.TB and *rapid.T a run uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Params configures a run.
type Params struct {
	// CacheBytes is the node cache budget of trees opened on the store (0 keeps every node; a
	// tiny budget makes the tree drop and reload nodes all the time).
	CacheBytes int
	// InMemory starts from mkvs.New rather than from an empty root opened on the store.
	InMemory bool
}

// Run draws Params and a sequence of operations (Ops) and runs them with RunOps on a store
// from newStore. It is the property for rapid.Check and rapid.MakeFuzz; a node DB's tests
// call it with their own store:
//
//	func TestTreeOnPebble(t *testing.T) {
//		rapid.Check(t, func(t *rapid.T) { mkvstest.Run(t, func() mkvstest.Store { return open(t) }) })
//	}
func Run(t *rapid.T, newStore func() Store) {
	p := Params{
		CacheBytes: rapid.SampledFrom([]int{0, 1, 2 << 10, 64 << 10}).Draw(t, "cacheBytes"),
		InMemory:   rapid.Bool().Draw(t, "inMemory"),
	}
	ops := Ops().Draw(t, "ops")
	RunOps(t, newStore(), ops, p)
}

// RunOps applies ops to a tree over store and a naive map model side by side and fails t at
// the first difference. It checks every Get and iteration against the model; at every commit
// it checks the root against NaiveRoot (equal contents, equal roots, whatever the history),
// the write log against the net changes, and the batch, then applies the batch to the store;
// after a reopen or a finalization it reads back the last finalized root in full. At the end it
// commits and compares the whole contents.
func RunOps(t TB, store Store, ops []Op, p Params) {
	t.Helper()
	r := &runner{t: t, ctx: context.Background(), store: store, p: p, model: map[string][]byte{}, committed: map[string][]byte{}}
	r.ns[0] = 0xa1
	r.root = node.Root{Namespace: r.ns, Type: node.RootTypeState, Hash: hash.Empty}
	if p.InMemory {
		r.tree = mkvs.New()
	} else {
		r.tree = mkvs.NewWithRoot(r.root, store, mkvs.WithNodeCache(p.CacheBytes))
	}
	defer func() { r.tree.Close() }()
	for i, op := range ops {
		r.step(i, op)
	}
	r.step(len(ops), Op{Kind: OpCommit})
	r.checkContents(r.tree, r.model, "at the end")
}

type runner struct {
	t         TB
	ctx       context.Context
	store     Store
	p         Params
	tree      *mkvs.Tree
	ns        namespace.Namespace
	root      node.Root         // the last committed root
	model     map[string][]byte // current contents
	committed map[string][]byte // contents at the last commit
	history   []version         // committed versions, oldest first
	finalized int               // how many of history are finalized
}

type version struct {
	root     node.Root
	contents map[string][]byte
}

func (r *runner) step(i int, op Op) {
	t := r.t
	t.Helper()
	switch op.Kind {
	case OpInsert:
		if err := r.tree.Insert(r.ctx, op.Key, op.Value); err != nil {
			t.Fatalf("op %d %v: %v", i, op, err)
		}
		r.model[string(op.Key)] = append([]byte{}, op.Value...)
	case OpRemove:
		if err := r.tree.Remove(r.ctx, op.Key); err != nil {
			t.Fatalf("op %d %v: %v", i, op, err)
		}
		delete(r.model, string(op.Key))
	case OpGet:
		got, err := r.tree.Get(r.ctx, op.Key)
		if err != nil {
			t.Fatalf("op %d %v: %v", i, op, err)
		}
		want, ok := r.model[string(op.Key)]
		if (got != nil) != ok || !bytes.Equal(got, want) {
			t.Fatalf("op %d %v = %s, want %s (present %v)", i, op, short(got), short(want), ok)
		}
	case OpIterate:
		r.checkIterate(i, op)
	case OpCommit:
		r.commit(i)
	case OpReopen:
		r.reopen(i)
	case OpFinalize:
		if r.finalized == len(r.history) {
			return
		}
		v := r.history[r.finalized]
		if err := r.store.Finalize(r.ctx, v.root.Version, []node.Root{v.root}); err != nil {
			t.Fatalf("op %d %v of %s: %v", i, op, v.root, err)
		}
		r.finalized++
		r.checkFinalized(i)
	default:
		t.Fatalf("op %d: unknown op %v", i, op)
	}
}

func (r *runner) checkIterate(i int, op Op) {
	t := r.t
	t.Helper()
	var want []string
	for _, k := range sortedKeys(r.model) {
		if k >= string(op.Key) && len(want) <= op.Count {
			want = append(want, k)
		}
	}
	it := r.tree.NewIterator(r.ctx)
	defer it.Close()
	if op.Key == nil {
		it.Rewind()
	} else {
		it.Seek(op.Key)
	}
	for j, k := range want {
		if !it.Valid() {
			t.Fatalf("op %d %v: iterator ended after %d keys (err %v), want %s next", i, op, j, it.Err(), short([]byte(k)))
		}
		if string(it.Key()) != k || !bytes.Equal(it.Value(), r.model[k]) {
			t.Fatalf("op %d %v: key %d = %s => %s, want %s => %s", i, op, j, short(it.Key()), short(it.Value()), short([]byte(k)), short(r.model[k]))
		}
		it.Next()
	}
	if len(want) <= op.Count && it.Valid() {
		t.Fatalf("op %d %v: iterator has %s past the last key", i, op, short(it.Key()))
	}
	if err := it.Err(); err != nil {
		t.Fatalf("op %d %v: %v", i, op, err)
	}
}

func (r *runner) commit(i int) {
	t := r.t
	t.Helper()
	prev := r.root
	if got := r.tree.Root(); got.Hash != prev.Hash {
		t.Fatalf("op %d commit: tree at root %s, want %s", i, got, prev)
	}
	v := prev.Version + 1
	wl, root, batch, err := r.tree.Commit(r.ctx, r.ns, v)
	if err != nil {
		t.Fatalf("op %d commit: %v", i, err)
	}
	if want := NaiveRoot(r.model); root.Hash != want {
		t.Fatalf("op %d commit: root %s, want %s for %d keys", i, root.Hash, want, len(r.model))
	}
	if root.Version != v || root.Namespace != r.ns || root.Type != node.RootTypeState {
		t.Fatalf("op %d commit: root %s, want version %d of %s", i, root, v, r.ns)
	}
	if batch.Root != root || batch.Src.Hash != prev.Hash {
		t.Fatalf("op %d commit: batch %s -> %s, want %s -> %s", i, batch.Src, batch.Root, prev, root)
	}
	if len(batch.Nodes) == 0 && root.Hash != prev.Hash && !root.Hash.IsEmpty() {
		t.Fatalf("op %d commit: root changed %s -> %s but the batch has no nodes", i, prev.Hash, root.Hash)
	}
	if want := netChanges(r.committed, r.model); !equalWriteLogs(wl, want) || !equalWriteLogs(batch.WriteLog, want) {
		t.Fatalf("op %d commit: write log %v, want %v", i, wl, want)
	}
	if err := r.store.Apply(r.ctx, batch); err != nil {
		t.Fatalf("op %d commit: applying the batch: %v", i, err)
	}
	r.root = root
	r.committed = maps.Clone(r.model)
	r.history = append(r.history, version{root: root, contents: r.committed})
}

func (r *runner) reopen(i int) {
	t := r.t
	t.Helper()
	s, err := r.store.Reopen()
	if err != nil {
		t.Fatalf("op %d reopen: %v", i, err)
	}
	r.store = s
	r.tree.Close()
	r.tree = mkvs.NewWithRoot(r.root, s, mkvs.WithNodeCache(r.p.CacheBytes))
	r.model = maps.Clone(r.committed)
	r.checkFinalized(i)
}

// checkFinalized reads back the last finalized root in full through a new tree.
func (r *runner) checkFinalized(i int) {
	r.t.Helper()
	if r.finalized == 0 {
		return
	}
	v := r.history[r.finalized-1]
	tree := mkvs.NewWithRoot(v.root, r.store, mkvs.WithNodeCache(r.p.CacheBytes))
	defer tree.Close()
	r.checkContents(tree, v.contents, "in finalized root "+v.root.String())
}

// checkContents compares a tree's whole contents with a model, by iteration and by Get.
func (r *runner) checkContents(tree *mkvs.Tree, model map[string][]byte, where string) {
	t := r.t
	t.Helper()
	it := tree.NewIterator(r.ctx)
	defer it.Close()
	it.Rewind()
	for j, k := range sortedKeys(model) {
		if !it.Valid() {
			t.Fatalf("%s: iteration ended after %d keys (err %v), want %d", where, j, it.Err(), len(model))
		}
		if string(it.Key()) != k || !bytes.Equal(it.Value(), model[k]) {
			t.Fatalf("%s: key %d = %s => %s, want %s => %s", where, j, short(it.Key()), short(it.Value()), short([]byte(k)), short(model[k]))
		}
		got, err := tree.Get(r.ctx, []byte(k))
		if err != nil || !bytes.Equal(got, model[k]) || got == nil {
			t.Fatalf("%s: Get(%s) = %s, %v, want %s", where, short([]byte(k)), short(got), err, short(model[k]))
		}
		it.Next()
	}
	if it.Valid() || it.Err() != nil {
		t.Fatalf("%s: iteration past the last key: valid %v, err %v", where, it.Valid(), it.Err())
	}
}

func sortedKeys(m map[string][]byte) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, strings.Compare)
	return keys
}

// netChanges returns the write log taking from to to.
func netChanges(from, to map[string][]byte) writelog.WriteLog {
	var wl writelog.WriteLog
	for k, v := range to {
		if old, ok := from[k]; !ok || !bytes.Equal(old, v) {
			wl = append(wl, writelog.LogEntry{Key: []byte(k), Value: append([]byte{}, v...)})
		}
	}
	for k := range from {
		if _, ok := to[k]; !ok {
			wl = append(wl, writelog.LogEntry{Key: []byte(k)})
		}
	}
	wl.Sort()
	return wl
}

func equalWriteLogs(a, b writelog.WriteLog) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) || (a[i].Value == nil) != (b[i].Value == nil) {
			return false
		}
	}
	return true
}
