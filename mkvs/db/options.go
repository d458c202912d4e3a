package db

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/atoll-project/atoll/common/namespace"
)

const (
	// DefaultCacheSize is Pebble's block cache size when Options.CacheSize is zero. Pebble
	// fills the cache on demand, so a small DB takes only what it reads; the DB of a 1M-key
	// tree (about 450 MB) fits whole, and a tree's loads of nodes it does not hold then cost
	// about a third of what they cost with 256 MB, where most miss and re-read index and
	// filter blocks as well.
	DefaultCacheSize = 1 << 30
	// DefaultNodeCacheSize is the node record cache size when Options.NodeCacheSize is zero.
	DefaultNodeCacheSize = 64 << 20
	// memTableSize is large enough that a memtable holds the records of tens of versions:
	// the nodes near the top of a tree, replaced within a few versions and pruned soon after,
	// are then deleted (SingleDelete, see deleteNodes) before their memtable is flushed, and
	// neither record nor deletion reaches a table (128 MB halves the bytes compacted per
	// write of a 1M-key tree compared with 64 MB).
	memTableSize = 128 << 20
)

// Options configure Open.
type Options struct {
	// Path is the directory holding the database; it is created if missing. It is ignored for
	// an in-memory DB.
	Path string
	// InMemory keeps the database on a fresh in-memory filesystem (vfs.NewMem): the in-memory
	// node DB that other packages' tests use. It is lost on Close.
	InMemory bool
	// FS, when set, is the filesystem the database lives on (Path names the directory in it).
	// Tests use it to reopen an in-memory DB or to simulate power loss (vfs.NewStrictMem).
	// It overrides InMemory.
	FS vfs.FS
	// Namespace is the namespace of every root the DB holds. A DB created for one namespace
	// cannot be opened for another.
	Namespace namespace.Namespace
	// CacheSize is Pebble's block cache in bytes; zero means DefaultCacheSize.
	CacheSize int64
	// NodeCacheSize bounds the cache of node records that garbage-collection walks (Finalize's
	// discards, Prune without a commit's list of obsolete nodes) loaded, which keeps walks
	// over overlapping trees from reloading them; zero means DefaultNodeCacheSize and a
	// negative value disables the cache.
	NodeCacheSize int64
	// Logger receives the DB's and Pebble's log messages; nil discards them.
	Logger *slog.Logger
	// NoSync disables syncing to disk even in Finalize: a crash may then lose finalized
	// versions (the DB stays consistent). For tests and benchmarks only.
	NoSync bool
}

func (o *Options) fs() vfs.FS {
	switch {
	case o.FS != nil:
		return o.FS
	case o.InMemory:
		return vfs.NewMem()
	default:
		return vfs.Default
	}
}

func (o *Options) pebbleOptions(logger *slog.Logger) *pebble.Options {
	cacheSize := o.CacheSize
	if cacheSize <= 0 {
		cacheSize = DefaultCacheSize
	}
	po := &pebble.Options{
		FS:                          o.fs(),
		CacheSize:                   cacheSize,
		MemTableSize:                memTableSize,
		MemTableStopWritesThreshold: 4,
		// Node records of one version form one key range, so flushed tables rarely overlap
		// and L0 can hold a few more files before compacting.
		L0CompactionThreshold: 4,
		L0StopWritesThreshold: 24,
		LBaseMaxBytes:         256 << 20,
		FormatMajorVersion:    pebble.FormatNewest,
		Logger:                pebbleLogger{logger},
	}
	// Every flush carries dense runs of tombstones (Prune deletes a version's replaced nodes,
	// which sort together), so tombstone-density compactions would keep rewriting bottom-level
	// tables that the next regular compaction rewrites anyway: off, they cut the bytes
	// compacted per write by about 40% on a 1M-key tree.
	po.Experimental.TombstoneDenseCompactionThreshold = -1
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		po.Levels[i].BlockSize = 4 << 10
	}
	// Records are mostly hashes and random-looking values, which do not compress: the fastest
	// codec keeps reads of cold blocks cheap and still squeezes lengths and prefixes.
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionFastest })
	return po
}

// pebbleLogger sends Pebble's messages to slog: routine ones (flushes, compactions) at debug
// level, errors at error level. Pebble calls Fatalf on broken invariants and expects it not to
// return, so it panics after logging.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l.Enabled(context.Background(), slog.LevelDebug) {
		p.l.Debug(fmt.Sprintf(format, args...))
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("mkvs/db: pebble: " + msg)
}
