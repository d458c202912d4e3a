package mkvs

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/syncer"
)

// The server side of read sync: a Tree answers requests about its committed root from its
// own nodes, loading them as needed. A request starts at Tree.Position, a node found on the
// path of the request's key (of its first prefix for GetPrefixes) from the root; the proof is
// rooted there.

var _ syncer.ReadSyncer = (*Tree)(nil)

// SyncGet returns a proof of the path from the request's position to Key: the nodes on it in
// full, their other children as hashes (in full with IncludeSiblings).
func (t *Tree) SyncGet(ctx context.Context, req *syncer.GetRequest) (*syncer.ProofResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	start, depth, err := t.syncStart(ctx, req.Tree, req.Key)
	if err != nil {
		return nil, err
	}
	pb := syncer.NewProofBuilder()
	key := req.Key
	hint := loadHint{key: key}
	for ptr := start; ptr != nil; {
		n, err := t.deref(ctx, ptr, hint)
		if err != nil {
			return nil, err
		}
		pb.Include(ptr, n)
		in, ok := n.(*node.InternalNode)
		if !ok {
			break
		}
		b := int(in.LabelBits)
		end := depth + b
		if matchLabel(in.Label, b, key, depth) != b || 8*len(key) <= end {
			break
		}
		side := bitAt(key, end)
		next, sibling := in.Left, in.Right
		if side == 1 {
			next, sibling = sibling, next
		}
		if req.IncludeSiblings && sibling != nil {
			sn, err := t.deref(ctx, sibling, loadHint{key: guideKey(key, end, 1-side)})
			if err != nil {
				return nil, err
			}
			pb.Include(sibling, sn)
		}
		ptr, depth = next, end
	}
	return buildResponse(pb, start)
}

// SyncIterate returns a proof covering the first key at or after Key under the request's
// position and up to Prefetch keys following it there.
func (t *Tree) SyncIterate(ctx context.Context, req *syncer.IterateRequest) (*syncer.ProofResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	start, depth, err := t.syncStart(ctx, req.Tree, req.Key)
	if err != nil {
		return nil, err
	}
	pb := syncer.NewProofBuilder()
	w := walker{visit: pb.Include, trackPath: t.needsPath()}
	w.reset(t, start, depth, req.Key)
	w.seek(ctx, req.Key)
	for i := 0; w.valid && i < int(req.Prefetch); i++ {
		w.advance(ctx)
	}
	if w.err != nil {
		return nil, w.err
	}
	return buildResponse(pb, start)
}

// SyncGetPrefixes returns a proof covering up to Limit keys (0: all) under each prefix.
func (t *Tree) SyncGetPrefixes(ctx context.Context, req *syncer.GetPrefixesRequest) (*syncer.ProofResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var guide []byte
	if len(req.Prefixes) > 0 {
		guide = req.Prefixes[0]
	}
	start, depth, err := t.syncStart(ctx, req.Tree, guide)
	if err != nil {
		return nil, err
	}
	pb := syncer.NewProofBuilder()
	w := walker{visit: pb.Include, trackPath: t.needsPath()}
	for _, prefix := range req.Prefixes {
		w.reset(t, start, depth, prefix)
		w.seek(ctx, prefix)
		for n := 0; w.valid && bytes.HasPrefix(w.key, prefix); n++ {
			if req.Limit != 0 && n >= int(req.Limit) {
				break
			}
			w.advance(ctx)
		}
		if w.err != nil {
			return nil, w.err
		}
	}
	return buildResponse(pb, start)
}

func buildResponse(pb *syncer.ProofBuilder, start *node.Pointer) (*syncer.ProofResponse, error) {
	proof, err := pb.Build(start)
	if err != nil {
		return nil, fmt.Errorf("mkvs: %w", err)
	}
	return &syncer.ProofResponse{Proof: *proof}, nil
}

// syncStart checks a request is about the tree's committed root and finds its position on
// the path of key, returning the node there and its bit depth.
func (t *Tree) syncStart(ctx context.Context, id syncer.TreeID, key []byte) (*node.Pointer, int, error) {
	if err := t.ready(); err != nil {
		return nil, 0, err
	}
	if id.Root.Hash != t.root.Hash {
		return nil, 0, fmt.Errorf("%w: %s", syncer.ErrInvalidRoot, id.Root.Hash)
	}
	if (t.rootPtr != nil && !t.rootPtr.Clean) || node.HashOf(t.rootPtr) != t.root.Hash {
		return nil, 0, syncer.ErrDirtyRoot
	}
	if err := checkKey(key); err != nil {
		return nil, 0, err
	}
	pos := id.Position
	ptr, depth := t.rootPtr, 0
	if ptr == nil {
		if pos == hash.Empty {
			return nil, 0, nil
		}
		return nil, 0, fmt.Errorf("%w: %s in an empty tree", syncer.ErrPositionNotFound, pos)
	}
	hint := loadHint{key: key}
	for ptr != nil {
		if ptr.Hash == pos {
			return ptr, depth, nil
		}
		n, err := t.deref(ctx, ptr, hint)
		if err != nil {
			return nil, 0, err
		}
		in, ok := n.(*node.InternalNode)
		if !ok {
			break
		}
		b := int(in.LabelBits)
		end := depth + b
		if matchLabel(in.Label, b, key, depth) != b || 8*len(key) <= end {
			break
		}
		if bitAt(key, end) == 0 {
			ptr = in.Left
		} else {
			ptr = in.Right
		}
		depth = end
	}
	return nil, 0, fmt.Errorf("%w: %s", syncer.ErrPositionNotFound, pos)
}

// syncSource fetches nodes from a remote peer, verifying each response, and from the store
// of verified nodes first when there is one.
type syncSource struct {
	rs       syncer.ReadSyncer
	root     node.Root // the root the peer serves
	prefetch uint16
	verified *VerifiedNodes // nil: none
	// offline makes fetch fail with errNotVerified rather than ask the peer for a node the
	// store lacks (PrefetchPrefixes probes what it already has); guarded by the tree's lock.
	offline bool
}

// errNotVerified: an offline fetch found the node neither loaded nor in the store.
var errNotVerified = errors.New("mkvs: node not in the verified store")

func (s *syncSource) fetch(ctx context.Context, _ node.Root, ptr *node.Pointer, hint loadHint) (node.Node, error) {
	if s.verified != nil {
		if n := s.verified.get(ptr.Hash); n != nil {
			return n, nil
		}
	}
	if s.offline {
		return nil, errNotVerified
	}
	id := syncer.TreeID{Root: s.root, Position: ptr.Hash}
	var (
		resp *syncer.ProofResponse
		err  error
	)
	if hint.iterate {
		resp, err = s.rs.SyncIterate(ctx, &syncer.IterateRequest{Tree: id, Key: hint.key, Prefetch: s.prefetch})
	} else {
		resp, err = s.rs.SyncGet(ctx, &syncer.GetRequest{Tree: id, Key: hint.key, IncludeSiblings: hint.includeSiblings})
	}
	if err != nil {
		return nil, fmt.Errorf("mkvs: fetching node %s from peer: %w", ptr.Hash, err)
	}
	if resp == nil {
		return nil, fmt.Errorf("mkvs: fetching node %s from peer: no response", ptr.Hash)
	}
	sub, err := syncer.VerifyProof(ptr.Hash, &resp.Proof)
	if err != nil {
		return nil, fmt.Errorf("mkvs: proof for node %s from peer: %w", ptr.Hash, err)
	}
	if sub == nil || sub.Node == nil {
		return nil, fmt.Errorf("mkvs: proof for node %s from peer: %w: node left out", ptr.Hash, syncer.ErrInvalidProof)
	}
	if s.verified != nil {
		s.verified.addSubtree(sub)
	}
	return sub.Node, nil
}

// PrefetchPrefixes loads, from the peer of a tree opened with NewWithSyncer, the nodes covering
// up to limit keys (0: all) under each prefix, in one request. It does nothing for other trees
// or once the tree has changed since it was opened.
func (t *Tree) PrefetchPrefixes(ctx context.Context, prefixes [][]byte, limit uint16) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ready(); err != nil {
		return err
	}
	s, ok := t.src.(*syncSource)
	if !ok || t.rootPtr == nil || !t.rootPtr.Clean || t.rootPtr.Hash != s.root.Hash {
		return nil
	}
	if s.verified != nil {
		if prefixes = t.missingPrefixes(ctx, s, prefixes, limit); len(prefixes) == 0 {
			return nil
		}
	}
	req := &syncer.GetPrefixesRequest{Tree: syncer.TreeID{Root: s.root, Position: s.root.Hash}, Prefixes: prefixes, Limit: limit}
	resp, err := s.rs.SyncGetPrefixes(ctx, req)
	if err != nil {
		return fmt.Errorf("mkvs: prefetching prefixes from peer: %w", err)
	}
	if resp == nil {
		return fmt.Errorf("mkvs: prefetching prefixes from peer: no response")
	}
	sub, err := syncer.VerifyProof(s.root.Hash, &resp.Proof)
	if err != nil {
		return fmt.Errorf("mkvs: proof for prefixes from peer: %w", err)
	}
	if s.verified != nil {
		s.verified.addSubtree(sub)
	}
	t.merge(t.rootPtr, sub)
	t.pinRoot()
	t.cache.evict()
	return nil
}

// missingPrefixes returns the prefixes whose walk, the one the peer would make to answer a
// GetPrefixes request, needs a node that is neither loaded nor in the verified store. The
// nodes the store has along the way are loaded into the tree. Called with t.mu held.
func (t *Tree) missingPrefixes(ctx context.Context, s *syncSource, prefixes [][]byte, limit uint16) [][]byte {
	s.offline = true
	defer func() { s.offline = false }()
	var missing [][]byte
	w := walker{trackPath: true}
	for _, prefix := range prefixes {
		w.reset(t, t.rootPtr, 0, prefix)
		w.seek(ctx, prefix)
		for n := 0; w.valid && bytes.HasPrefix(w.key, prefix); n++ {
			if limit != 0 && n >= int(limit) {
				break
			}
			w.advance(ctx)
		}
		if w.err != nil {
			missing = append(missing, prefix)
		}
	}
	return missing
}

// merge grafts the loaded nodes of a verified subtree src onto the matching unloaded clean
// pointers of dst.
func (t *Tree) merge(dst, src *node.Pointer) {
	type pair struct{ dst, src *node.Pointer }
	stack := []pair{{dst, src}}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p.dst == nil || p.src == nil || p.src.Node == nil || !p.dst.Clean || p.dst.Hash != p.src.Hash {
			continue
		}
		if p.dst.Node == nil {
			p.dst.Node = p.src.Node
			t.cache.addSubtree(p.dst)
			continue
		}
		d, ok1 := p.dst.Node.(*node.InternalNode)
		s, ok2 := p.src.Node.(*node.InternalNode)
		if ok1 && ok2 {
			stack = append(stack, pair{d.Left, s.Left}, pair{d.Right, s.Right})
		}
	}
}
