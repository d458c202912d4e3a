package db

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/internal/cputime"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
)

// Benchmarks of DESIGN.md §11. The tree size is ATOLL_BENCH_KEYS (default 1,000,000; 50,000
// with -short). Keys are 32 random-looking bytes (benchKey(i)), values 64 bytes.

const (
	benchBuildBatch   = 100_000 // keys per commit while building a fixture
	benchCommitEvery  = 1000    // writes per commit in BenchmarkPersistedWrites
	benchKeepVersions = 4
)

func benchKeys(b *testing.B) int {
	if s := os.Getenv("ATOLL_BENCH_KEYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("bad ATOLL_BENCH_KEYS %q", s)
		}
		return n
	}
	if testing.Short() {
		return 50_000
	}
	return 1_000_000
}

func benchKey(i uint64) []byte {
	h := hash.Digest([]byte("bench key"), binary.BigEndian.AppendUint64(nil, i))
	return h[:]
}

func benchValue(i, gen uint64) []byte {
	h := hash.Digest([]byte("bench value"), binary.BigEndian.AppendUint64(nil, i), binary.BigEndian.AppendUint64(nil, gen))
	return append(h[:], h[:]...)
}

// benchFixture is a persisted tree of keys benchKey(0..keys-1) shared by the benchmarks of one
// test binary run; BenchmarkPersistedWrites keeps adding to it.
type benchFixture struct {
	dir     string
	keys    uint64 // keys benchKey(0..keys-1) exist
	version uint64 // latest finalized version
	root    node.Root
	build   time.Duration
}

var (
	fixtureMu sync.Mutex
	fixtures  = map[int]*benchFixture{}
	benchDirs []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchDirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

// benchOptions are the DB options of the benchmarks: the defaults, except Pebble's block cache
// when ATOLL_BENCH_CACHE_MB is set.
func benchOptions(dir string) Options {
	o := Options{Path: dir, Namespace: testNS}
	if mb, err := strconv.Atoi(os.Getenv("ATOLL_BENCH_CACHE_MB")); err == nil && mb > 0 {
		o.CacheSize = int64(mb) << 20
	}
	return o
}

// buildFixture writes a tree of n keys to a new directory, benchBuildBatch keys per version,
// pruning all but the last benchKeepVersions versions.
func buildFixture(b *testing.B, n int) *benchFixture {
	dir, err := os.MkdirTemp("", "mkvsdb-bench-")
	if err != nil {
		b.Fatal(err)
	}
	benchDirs = append(benchDirs, dir)
	start := time.Now()
	ctx := context.Background()
	d, err := Open(benchOptions(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	tree := mkvs.New()
	defer tree.Close()
	f := &benchFixture{dir: dir}
	for f.keys < uint64(n) {
		f.version++
		end := min(f.keys+benchBuildBatch, uint64(n))
		for i := f.keys; i < end; i++ {
			if err := tree.Insert(ctx, benchKey(i), benchValue(i, 0)); err != nil {
				b.Fatal(err)
			}
		}
		f.keys = end
		if f.root, err = commitAndPersist(ctx, d, tree, f.version); err != nil {
			b.Fatal(err)
		}
	}
	// Keep only the latest version: the build's commits of benchBuildBatch keys each are not
	// what a running node's retained versions look like, and pruning them would be charged to
	// the benchmarks.
	if err := pruneTo(ctx, d, f.version); err != nil {
		b.Fatal(err)
	}
	f.build = time.Since(start)
	// Settle the LSM (a running node's would have compacted long ago), so that the benchmarks
	// measure the DB rather than the build's leftover compactions.
	if err := d.pdb.Compact(ctx, []byte{0}, []byte{0xff}, true); err != nil {
		b.Fatal(err)
	}
	return f
}

func fixture(b *testing.B) *benchFixture {
	n := benchKeys(b)
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	f, ok := fixtures[n]
	if !ok {
		b.StopTimer()
		if cache := os.Getenv("ATOLL_BENCH_FIXTURE_CACHE"); cache != "" {
			f = cachedFixture(b, n, cache)
		} else {
			f = buildFixture(b, n)
		}
		b.StartTimer()
		fixtures[n] = f
	}
	return f
}

// cachedFixture serves repeated runs (ATOLL_BENCH_FIXTURE_CACHE=dir): the fixture of n keys
// is built once into dir and each run works on a copy of it. The caller clears dir when the
// DB's code or format changes.
func cachedFixture(b *testing.B, n int, cache string) *benchFixture {
	src := filepath.Join(cache, strconv.Itoa(n))
	meta := filepath.Join(src, "fixture.cbor")
	raw, err := os.ReadFile(meta)
	if err != nil {
		f := buildFixture(b, n)
		_ = os.RemoveAll(src)
		if err := os.MkdirAll(cache, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := exec.Command("cp", "-a", f.dir, src).Run(); err != nil {
			b.Fatal(err)
		}
		m := fixtureMeta{Keys: f.keys, Version: f.version, Root: f.root}
		if err := os.WriteFile(meta, cbor.Marshal(m), 0o644); err != nil {
			b.Fatal(err)
		}
		return f
	}
	var m fixtureMeta
	if err := cbor.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mkvsdb-bench-")
	if err != nil {
		b.Fatal(err)
	}
	benchDirs = append(benchDirs, dir)
	if err := exec.Command("cp", "-a", src+"/.", dir).Run(); err != nil {
		b.Fatal(err)
	}
	_ = os.Remove(filepath.Join(dir, "fixture.cbor"))
	return &benchFixture{dir: dir, keys: m.Keys, version: m.Version, root: m.Root}
}

type fixtureMeta struct {
	Keys    uint64    `cbor:"keys"`
	Version uint64    `cbor:"version"`
	Root    node.Root `cbor:"root"`
}

// commitAndPersist commits tree at version, applies and finalizes the batch, and prunes the
// version that falls out of the retained window.
func commitAndPersist(ctx context.Context, d *DB, tree *mkvs.Tree, version uint64) (node.Root, error) {
	var discard phaseTimes
	return commitAndPersistTimed(ctx, d, tree, version, &discard)
}

// phaseTimes accumulates the wall time of each step of commitAndPersist.
type phaseTimes struct {
	commit, apply, finalize, prune time.Duration
}

// commitAndPersistTimed is commitAndPersist, adding each step's wall time to times.
func commitAndPersistTimed(ctx context.Context, d *DB, tree *mkvs.Tree, version uint64, times *phaseTimes) (node.Root, error) {
	mark := time.Now()
	lap := func(into *time.Duration) {
		now := time.Now()
		*into += now.Sub(mark)
		mark = now
	}
	_, root, batch, err := tree.Commit(ctx, testNS, version)
	if err != nil {
		return node.Root{}, err
	}
	lap(&times.commit)
	if err := d.Apply(ctx, batch); err != nil {
		return node.Root{}, err
	}
	lap(&times.apply)
	if err := d.Finalize(ctx, version, []node.Root{root}); err != nil {
		return node.Root{}, err
	}
	lap(&times.finalize)
	if version > benchKeepVersions && os.Getenv("ATOLL_BENCH_PRUNE") != "0" {
		if err := pruneTo(ctx, d, version-benchKeepVersions+1); err != nil {
			return node.Root{}, err
		}
	}
	lap(&times.prune)
	return root, nil
}

// pruneTo prunes the versions below keepFrom.
func pruneTo(ctx context.Context, d *DB, keepFrom uint64) error {
	for {
		earliest, ok, err := d.EarliestVersion()
		if err != nil || !ok || earliest >= keepFrom {
			return err
		}
		if err := d.Prune(ctx, earliest); err != nil {
			return err
		}
	}
}

// countingReader counts the nodes a tree loads from the DB.
type countingReader struct {
	*DB
	loads int
}

func (r *countingReader) GetNode(root node.Root, ptr *node.Pointer) (node.Node, error) {
	r.loads++
	return r.DB.GetNode(root, ptr)
}

// BenchmarkPersistedWrites measures random inserts and updates (half each) into the fixture
// tree through the DB. Schedule: every benchCommitEvery writes the tree commits, the batch is
// applied and the version finalized (synced), and the versions before the last
// benchKeepVersions are pruned (ATOLL_BENCH_PRUNE=0 skips pruning, to measure without it).
// The timed writes follow benchWarmupWrites untimed ones. Besides writes/s it reports writes
// per CPU second (all of the process's threads: Pebble's flushes and compactions and the
// garbage collector included), the nodes the tree loaded from the DB per write, and the bytes
// Pebble flushed and compacted per write, and the wall time per write of each step (the
// inserts, the tree's commit, Apply, Finalize, Prune).
func BenchmarkPersistedWrites(b *testing.B) {
	f := fixture(b)
	ctx := context.Background()
	d, err := Open(benchOptions(f.dir))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	reader := &countingReader{DB: d}
	var treeOpts []mkvs.Option
	if s := os.Getenv("ATOLL_BENCH_TREE_CACHE_MB"); s != "" {
		mb, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("bad ATOLL_BENCH_TREE_CACHE_MB %q", s)
		}
		treeOpts = append(treeOpts, mkvs.WithNodeCache(mb<<20))
	}
	tree := mkvs.NewWithRoot(f.root, reader, treeOpts...)
	defer tree.Close()
	rng := rand.New(rand.NewPCG(f.version, 9))
	write := func(i int) error {
		k := f.keys
		if i%2 == 0 {
			k = rng.Uint64N(f.keys)
		} else {
			f.keys++
		}
		return tree.Insert(ctx, benchKey(k), benchValue(k, f.version+1))
	}
	// Warm up, untimed, as a running node's tree and caches would be: a tree opened at a root
	// holds only its root node, and on a 1M-key tree the first 100k writes mostly load nodes
	// for the first time.
	for i := range benchWarmupWrites(f) {
		if err := write(i); err != nil {
			b.Fatal(err)
		}
		if (i+1)%benchCommitEvery == 0 {
			f.version++
			if f.root, err = commitAndPersist(ctx, d, tree, f.version); err != nil {
				b.Fatal(err)
			}
		}
	}
	reader.loads = 0
	statsStart := d.pdb.Metrics().Total()
	b.ReportAllocs()
	if p := os.Getenv("ATOLL_BENCH_CPUPROFILE"); p != "" {
		// A profile of the timed loop alone (go test's -cpuprofile includes the fixture).
		out, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = out.Close()
		}()
	}
	b.ResetTimer()
	start, cpuStart := time.Now(), cputime.Process()
	pending := 0
	var times phaseTimes
	var inserting time.Duration
	insertStart := start
	for i := range b.N {
		if err := write(i); err != nil {
			b.Fatal(err)
		}
		if pending++; pending == benchCommitEvery || i == b.N-1 {
			inserting += time.Since(insertStart)
			f.version++
			if f.root, err = commitAndPersistTimed(ctx, d, tree, f.version, &times); err != nil {
				b.Fatal(err)
			}
			pending = 0
			insertStart = time.Now()
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
	// Where the wall time goes, per write: the tree's inserts (with the nodes they load), its
	// commit (hashing), and the DB's Apply, Finalize and Prune.
	perWrite := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(b.N) }
	b.ReportMetric(perWrite(inserting), "insert-µs/write")
	b.ReportMetric(perWrite(times.commit), "commit-µs/write")
	b.ReportMetric(perWrite(times.apply), "apply-µs/write")
	b.ReportMetric(perWrite(times.finalize), "finalize-µs/write")
	b.ReportMetric(perWrite(times.prune), "prune-µs/write")
	b.ReportMetric(float64(b.N)/(cputime.Process()-cpuStart).Seconds(), "writes/cpu-s")
	b.ReportMetric(float64(reader.loads)/float64(b.N), "loads/write")
	m := d.pdb.Metrics()
	total := m.Total()
	b.ReportMetric(float64(total.TableBytesCompacted-statsStart.TableBytesCompacted)/float64(b.N), "compacted-B/write")
	b.ReportMetric(float64(total.TableBytesFlushed-statsStart.TableBytesFlushed)/float64(b.N), "flushed-B/write")
	if os.Getenv("ATOLL_BENCH_LSM") != "" {
		fmt.Fprintf(os.Stderr, "LSM after %d writes:\n%s\n", b.N, m)
	}
}

// benchWarmupWrites is the number of untimed writes BenchmarkPersistedWrites makes first: a
// tenth of the tree (ATOLL_BENCH_WARMUP overrides it).
func benchWarmupWrites(f *benchFixture) int {
	if s := os.Getenv("ATOLL_BENCH_WARMUP"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return n
		}
	}
	return int(f.keys / 10)
}

// BenchmarkRandomReads reopens the fixture DB, warms its block cache with one scan of the flat
// index, and reads random existing keys: from the flat index (GetLatest), the same with two
// goroutines, and through the tree (mkvs.NewWithRoot + Get) for comparison.
func BenchmarkRandomReads(b *testing.B) {
	f := fixture(b)
	ctx := context.Background()
	d, err := Open(benchOptions(f.dir))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	// Warm the caches as a running node's would be: one pass over the flat index.
	it, err := d.pdb.NewIter(nil)
	if err != nil {
		b.Fatal(err)
	}
	for it.SeekGE([]byte{prefixFlat}); it.Valid() && it.Key()[0] == prefixFlat; it.Next() {
	}
	if err := it.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.Run("flat index", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		start, cpu := time.Now(), cputime.Process()
		for range b.N {
			v, err := d.GetLatest(ctx, benchKey(rng.Uint64N(f.keys)))
			if err != nil || len(v) != 64 {
				b.Fatalf("read: %d bytes, %v", len(v), err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
		b.ReportMetric(float64(b.N)/(cputime.Process()-cpu).Seconds(), "reads/cpu-s")
	})
	b.Run("flat index parallel", func(b *testing.B) {
		start, cpu := time.Now(), cputime.Process()
		var seed uint64
		var mu sync.Mutex
		b.RunParallel(func(pb *testing.PB) {
			mu.Lock()
			seed++
			rng := rand.New(rand.NewPCG(seed, 3))
			mu.Unlock()
			for pb.Next() {
				v, err := d.GetLatest(ctx, benchKey(rng.Uint64N(f.keys)))
				if err != nil || len(v) != 64 {
					b.Errorf("read: %d bytes, %v", len(v), err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
		b.ReportMetric(float64(b.N)/(cputime.Process()-cpu).Seconds(), "reads/cpu-s")
	})
	b.Run("tree", func(b *testing.B) {
		tree := mkvs.NewWithRoot(f.root, d)
		defer tree.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		start, cpu := time.Now(), cputime.Process()
		for range b.N {
			v, err := tree.Get(ctx, benchKey(rng.Uint64N(f.keys)))
			if err != nil || len(v) != 64 {
				b.Fatalf("read: %d bytes, %v", len(v), err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
		b.ReportMetric(float64(b.N)/(cputime.Process()-cpu).Seconds(), "reads/cpu-s")
	})
}

// BenchmarkDiskFootprint builds a fresh tree of ATOLL_BENCH_KEYS keys, finalized, and reports
// its size on disk as built (MB: the fixture keeps the latest version only, compacted) and
// after reopening, pruning anything older (nothing) and another full compaction
// (MB-compacted).
func BenchmarkDiskFootprint(b *testing.B) {
	for range b.N {
		f := buildFixture(b, benchKeys(b))
		b.ReportMetric(float64(dirSize(b, f.dir))/1e6, "MB")
		d, err := Open(benchOptions(f.dir))
		if err != nil {
			b.Fatal(err)
		}
		// Keep only the latest version, as a node that keeps no history would.
		for {
			earliest, _, err := d.EarliestVersion()
			if err != nil {
				b.Fatal(err)
			}
			if earliest >= f.version {
				break
			}
			if err := d.Prune(context.Background(), earliest); err != nil {
				b.Fatal(err)
			}
		}
		if err := d.pdb.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
			b.Fatal(err)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(dirSize(b, f.dir))/1e6, "MB-compacted")
		b.ReportMetric(f.build.Seconds(), "build-s")
		_ = os.RemoveAll(f.dir)
	}
}

func dirSize(b *testing.B, dir string) int64 {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}

func TestBenchKeysAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := range uint64(1000) {
		k := string(benchKey(i))
		if seen[k] {
			t.Fatalf("key %d repeats", i)
		}
		seen[k] = true
	}
}
