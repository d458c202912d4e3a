package db

import "github.com/atoll-project/atoll/mkvs/node"

// maxHintRoots bounds the roots pruneHints remembers (about 40 bytes per new internal node
// of each root): past it, new roots get no hint and Prune finds their pointers by walking.
const maxHintRoots = 128

// pruneHints remembers, for roots applied since the DB was opened, the pointers from the
// nodes each commit created to older nodes: the set S that Prune of the previous version needs,
// gathered from the batch in memory instead of reloading the new nodes. It is not safe for
// concurrent use; the DB uses it under its writer lock.
type pruneHints struct {
	byRoot map[rootID][]childRef
}

// add records the old children of a commit's new nodes for root.
func (h *pruneHints) add(root rootID, nodes []node.Node) {
	if len(h.byRoot) >= maxHintRoots {
		return
	}
	var refs []childRef
	for _, n := range nodes {
		in, ok := n.(*node.InternalNode)
		if !ok {
			continue
		}
		for _, c := range []*node.Pointer{in.Left, in.Right} {
			if c != nil && c.Version < root.version {
				refs = append(refs, childRef{Version: c.Version, Hash: c.Hash})
			}
		}
	}
	h.byRoot[root] = refs
}

func (h *pruneHints) get(root rootID) ([]childRef, bool) {
	refs, ok := h.byRoot[root]
	return refs, ok
}

func (h *pruneHints) remove(root rootID) { delete(h.byRoot, root) }
