package consensus

import (
	"context"

	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/db"
	"github.com/atoll-project/atoll/mkvs/node"
)

// checkState is the mempool's view: the committed state at root plus the net writes of the
// transactions CheckTx accepted since, buffered in memory. The check state is never hashed or
// persisted, so its writes need no tree: they stay in an overlay until Commit replaces the
// whole check state. It is used under Mux.checkMu only.
type checkState struct {
	base    committedState
	pending *Overlay // over base
	block   *BlockInfo
}

// newCheckState returns an empty check state over the committed root. The caller holds
// checkMu, and Commit holds it while it finalizes the node DB, so the flat index cannot move
// under a check state that reads from it.
func (m *Mux) newCheckState(root node.Root) (*checkState, error) {
	base := committedState{db: m.db, root: root, tree: mkvs.NewWithRoot(root, m.db)}
	if !root.Hash.IsEmpty() {
		latest, ok, err := m.db.LatestFinalizedRoot(node.RootTypeState)
		if err != nil {
			return nil, StateError(err)
		}
		base.flat = ok && latest == root
	}
	cs := &checkState{base: base}
	cs.pending = NewOverlay(&cs.base)
	return cs, nil
}

// view returns the check state as the State of one call under ctx. Writes through it land in
// the check state's buffered writes.
func (cs *checkState) view(ctx context.Context) *Overlay {
	cs.base.ctx = ctx
	return cs.pending
}

// committedState reads a committed state root: single keys from the node DB's flat index when
// it holds that root (one Pebble get instead of a walk from the root), everything else through
// the tree. It is read-only.
type committedState struct {
	ctx  context.Context
	db   *db.DB
	root node.Root
	flat bool
	tree *mkvs.Tree
}

func (s *committedState) Get(key []byte) ([]byte, error) {
	if s.root.Hash.IsEmpty() {
		return nil, nil
	}
	if s.flat {
		v, err := s.db.GetLatest(s.ctx, key)
		return v, StateError(err)
	}
	return (&treeState{ctx: s.ctx, tree: s.tree}).Get(key)
}

func (s *committedState) Insert([]byte, []byte) error {
	return StateErrorf("consensus: write to a committed state")
}

func (s *committedState) Remove([]byte) error {
	return StateErrorf("consensus: write to a committed state")
}

func (s *committedState) Iterate(start, end []byte, fn func(key, value []byte) (bool, error)) error {
	return (&treeState{ctx: s.ctx, tree: s.tree}).Iterate(start, end, fn)
}
