package mkvs_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/mkvs/mkvstest"
)

func newMemStore() mkvstest.Store { return mkvstest.NewMemStore() }

func TestTreeMatchesMapModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { mkvstest.Run(t, newMemStore) })
}

func FuzzTreeOps(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) { mkvstest.Run(t, newMemStore) }))
}
