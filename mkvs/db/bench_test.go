package db

import (
	"context"
	"encoding/binary"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/hash"
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

func benchOptions(dir string) Options {
	return Options{Path: dir, Namespace: testNS}
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
		f = buildFixture(b, n)
		b.StartTimer()
		fixtures[n] = f
	}
	return f
}

// commitAndPersist commits tree at version, applies and finalizes the batch, and prunes the
// version that falls out of the retained window.
func commitAndPersist(ctx context.Context, d *DB, tree *mkvs.Tree, version uint64) (node.Root, error) {
	_, root, batch, err := tree.Commit(ctx, testNS, version)
	if err != nil {
		return node.Root{}, err
	}
	if err := d.Apply(ctx, batch); err != nil {
		return node.Root{}, err
	}
	if err := d.Finalize(ctx, version, []node.Root{root}); err != nil {
		return node.Root{}, err
	}
	if version > benchKeepVersions {
		if err := d.Prune(ctx, version-benchKeepVersions); err != nil {
			return node.Root{}, err
		}
	}
	return root, nil
}

// BenchmarkPersistedWrites measures random inserts and updates (half each) into the fixture
// tree through the DB, with Commit, Apply, Finalize and Prune every benchCommitEvery writes.
func BenchmarkPersistedWrites(b *testing.B) {
	f := fixture(b)
	ctx := context.Background()
	d, err := Open(benchOptions(f.dir))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	tree := mkvs.NewWithRoot(f.root, d)
	defer tree.Close()
	rng := rand.New(rand.NewPCG(f.version, 9))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpuStart := time.Now(), cpuTime(b)
	pending := 0
	for i := range b.N {
		k := f.keys
		if i%2 == 0 {
			k = rng.Uint64N(f.keys)
		} else {
			f.keys++
		}
		if err := tree.Insert(ctx, benchKey(k), benchValue(k, f.version+1)); err != nil {
			b.Fatal(err)
		}
		if pending++; pending == benchCommitEvery || i == b.N-1 {
			f.version++
			if f.root, err = commitAndPersist(ctx, d, tree, f.version); err != nil {
				b.Fatal(err)
			}
			pending = 0
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
	b.ReportMetric(float64(b.N)/(cpuTime(b)-cpuStart).Seconds(), "writes/cpu-s")
}

// cpuTime is the CPU time (user and system) the process used so far: on a machine shared with
// other work, writes per CPU second show the cost apart from the machine's load.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
		start := time.Now()
		for range b.N {
			v, err := d.GetLatest(ctx, benchKey(rng.Uint64N(f.keys)))
			if err != nil || len(v) != 64 {
				b.Fatalf("read: %d bytes, %v", len(v), err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
	})
	b.Run("flat index parallel", func(b *testing.B) {
		start := time.Now()
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
	})
	b.Run("tree", func(b *testing.B) {
		tree := mkvs.NewWithRoot(f.root, d)
		defer tree.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		start := time.Now()
		for range b.N {
			v, err := tree.Get(ctx, benchKey(rng.Uint64N(f.keys)))
			if err != nil || len(v) != 64 {
				b.Fatalf("read: %d bytes, %v", len(v), err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
	})
}

// BenchmarkDiskFootprint builds a fresh tree of ATOLL_BENCH_KEYS keys, finalized, and reports
// its size on disk as built (MB: the build's last benchKeepVersions versions retained) and
// after pruning all but the latest version and a full compaction (MB-compacted).
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
