package db

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs/mkvstest"
)

// mkvstestNS is the namespace mkvstest's runner commits in.
var mkvstestNS = namespace.Namespace{0xa1}

// testStore adapts a DB to mkvstest.Store: Reopen closes the DB and opens it again on the
// same in-memory filesystem.
type testStore struct {
	*DB
	opts   Options
	opened *[]*DB // every DB opened through this store, for closing at the end
}

func openTestStore(t testing.TB, opened *[]*DB) *testStore {
	opts := Options{FS: vfs.NewMem(), Namespace: mkvstestNS, NodeCacheSize: 64 << 10}
	d, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	*opened = append(*opened, d)
	return &testStore{DB: d, opts: opts, opened: opened}
}

func (s *testStore) Reopen() (mkvstest.Store, error) {
	if err := s.Close(); err != nil {
		return nil, err
	}
	d, err := Open(s.opts)
	if err != nil {
		return nil, err
	}
	*s.opened = append(*s.opened, d)
	return &testStore{DB: d, opts: s.opts, opened: s.opened}, nil
}

func TestTreePropertiesHoldOnTheDB(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var opened []*DB
		defer func() {
			for _, d := range opened {
				_ = d.Close()
			}
		}()
		mkvstest.Run(rt, func() mkvstest.Store { return openTestStore(t, &opened) })
	})
}
