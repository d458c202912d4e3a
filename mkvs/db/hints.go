package db

import "github.com/atoll-project/atoll/mkvs/node"

// Bounds of what pruneHints remembers: past either, new roots get no hint and Prune finds
// what it needs by walking.
const (
	maxHintRoots = 128
	// maxHintRefs bounds the references held over all roots (40 bytes each: 160 MB).
	maxHintRefs = 4 << 20
)

// pruneHints remembers, per root applied since the DB was opened, what Prune of the previous
// version needs, gathered from the commit's batch in memory instead of reloading nodes: the
// nodes of the source tree that the root's tree no longer reaches (node.Batch.Obsolete), or,
// when the batch did not list them, the pointers from the commit's new nodes to older ones.
// It is not safe for concurrent use; the DB uses it under its writer lock.
type pruneHints struct {
	byRoot map[rootID]pruneHint
	refs   int
}

type pruneHint struct {
	// src is the root the commit started from (meaningful with obsolete).
	src rootID
	// obsolete, when not nil, lists the nodes of src's tree that the root does not reach.
	obsolete []childRef
	// shared, when obsolete is nil, lists the pointers from the root's new nodes to older ones.
	shared []childRef
}

// add records the hint of b, whose root is root (created by b: its root node is new).
func (h *pruneHints) add(root rootID, b *node.Batch) {
	if len(h.byRoot) >= maxHintRoots {
		return
	}
	var hint pruneHint
	if b.Obsolete != nil {
		if b.Src.IsEmpty() {
			// A tree built from empty has no predecessor to prune.
			return
		}
		hint.src = idOf(b.Src)
		// The batch is the tree's, but the tree never changes a list it handed out.
		hint.obsolete = b.Obsolete
	} else {
		for _, n := range b.Nodes {
			in, ok := n.(*node.InternalNode)
			if !ok {
				continue
			}
			for _, c := range []*node.Pointer{in.Left, in.Right} {
				if c != nil && c.Version < root.version {
					hint.shared = append(hint.shared, childRef{Version: c.Version, Hash: c.Hash})
				}
			}
		}
	}
	n := len(hint.obsolete) + len(hint.shared)
	if h.refs+n > maxHintRefs {
		return
	}
	h.refs += n
	h.byRoot[root] = hint
}

func (h *pruneHints) get(root rootID) (pruneHint, bool) {
	hint, ok := h.byRoot[root]
	return hint, ok
}

func (h *pruneHints) remove(root rootID) {
	if hint, ok := h.byRoot[root]; ok {
		h.refs -= len(hint.obsolete) + len(hint.shared)
		delete(h.byRoot, root)
	}
}
