package syncer

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// Proof entry kinds.
const (
	// EntryFull prefixes a node included in full: 0x01 || node serialization.
	EntryFull byte = 0x01
	// EntryHash prefixes a subtree left out: 0x02 || hash.
	EntryHash byte = 0x02
)

const (
	// MaxProofEntries bounds the entries of a proof VerifyProof accepts.
	MaxProofEntries = 1 << 20
	// MaxProofDepth bounds the nesting of a proof: no valid tree is deeper, since every level
	// below the root's children consumes at least one bit of a key of at most node.MaxKeySize
	// bytes.
	MaxProofDepth = 8*node.MaxKeySize + 2
)

var (
	// ErrInvalidProof is wrapped by every proof verification error.
	ErrInvalidProof = errors.New("mkvs/syncer: invalid proof")
	// ErrRootMismatch: the proof is for a root other than the trusted one.
	ErrRootMismatch = fmt.Errorf("%w: untrusted root differs from the trusted root", ErrInvalidProof)
	// ErrHashMismatch: an entry's hash differs from the one its parent (or the root) declares.
	ErrHashMismatch = fmt.Errorf("%w: hash mismatch", ErrInvalidProof)
	// ErrTruncatedProof: the entries end before the tree they describe does.
	ErrTruncatedProof = fmt.Errorf("%w: truncated", ErrInvalidProof)
	// ErrTrailingEntries: entries follow the end of the tree the proof describes.
	ErrTrailingEntries = fmt.Errorf("%w: trailing entries", ErrInvalidProof)
	// ErrBadEntry: an entry is of an unknown kind, malformed, or not a valid node.
	ErrBadEntry = fmt.Errorf("%w: bad entry", ErrInvalidProof)
	// ErrProofTooLarge: the proof has more entries or nesting than any request can need.
	ErrProofTooLarge = fmt.Errorf("%w: too large", ErrInvalidProof)

	// ErrInvalidRoot is returned by a server for a request about a root it does not serve.
	ErrInvalidRoot = errors.New("mkvs/syncer: root not served")
	// ErrDirtyRoot is returned by a server whose tree has uncommitted changes.
	ErrDirtyRoot = errors.New("mkvs/syncer: tree has uncommitted changes")
	// ErrPositionNotFound is returned by a server when the request's position is not a node on
	// the path the request describes.
	ErrPositionNotFound = errors.New("mkvs/syncer: position not found on the request's path")
)

// ProofBuilder builds a proof over a clean subtree: nodes marked with Include go in full, the
// rest of the subtree is summarized by hashes. The caller marks a connected part of the
// subtree that contains its root (marks below an unmarked node are not reached). A
// ProofBuilder is pure and holds on to the marked nodes, so they may be unloaded from the tree
// in the meantime.
type ProofBuilder struct {
	included map[*node.Pointer]node.Node
	proof    Proof
}

// NewProofBuilder returns an empty builder.
func NewProofBuilder() *ProofBuilder {
	return &ProofBuilder{included: make(map[*node.Pointer]node.Node)}
}

// Include marks the node ptr refers to, n, for inclusion in full.
func (b *ProofBuilder) Include(ptr *node.Pointer, n node.Node) {
	b.included[ptr] = n
}

// Build returns the proof for the subtree at root, pre-order: an included node as
// EntryFull || serialization (an internal node carries its leaf slot inline) followed by the
// entries of its left then right subtree; an excluded node as EntryHash || hash; an absent
// child as nil. A nil or empty-hash root gives a single nil entry.
func (b *ProofBuilder) Build(root *node.Pointer) (*Proof, error) {
	b.proof = Proof{UntrustedRoot: node.HashOf(root)}
	// Pre-order walk with an explicit stack (right pushed before left).
	stack := []*node.Pointer{root}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p == nil || (p.Node == nil && p.Hash.IsEmpty()) {
			b.proof.Entries = append(b.proof.Entries, nil)
			continue
		}
		if !p.Clean {
			return nil, fmt.Errorf("mkvs/syncer: building a proof over a dirty node")
		}
		n, ok := b.included[p]
		if !ok {
			e := make([]byte, 1+hash.Size)
			e[0] = EntryHash
			copy(e[1:], p.Hash[:])
			b.proof.Entries = append(b.proof.Entries, e)
			continue
		}
		switch n := n.(type) {
		case *node.LeafNode:
			e := n.AppendBinary(append(make([]byte, 0, 1+1+2+len(n.Key)+4+len(n.Value)), EntryFull))
			b.proof.Entries = append(b.proof.Entries, e)
		case *node.InternalNode:
			size := 1 + 1 + 2 + len(n.Label) + 1 + 2*hash.Size
			if n.Leaf != nil {
				if l, ok := n.Leaf.Node.(*node.LeafNode); ok {
					size += 2 + len(l.Key) + 4 + len(l.Value)
				}
			}
			e, err := n.AppendBinary(append(make([]byte, 0, size), EntryFull))
			if err != nil {
				return nil, fmt.Errorf("mkvs/syncer: building a proof: %w", err)
			}
			b.proof.Entries = append(b.proof.Entries, e)
			stack = append(stack, n.Right, n.Left)
		default:
			return nil, fmt.Errorf("mkvs/syncer: building a proof over %T", n)
		}
	}
	proof := b.proof
	b.proof = Proof{}
	return &proof, nil
}

// pending is an internal node of a proof awaiting its children.
type pending struct {
	n    *node.InternalNode
	side int // 0: the left child comes next, 1: the right
}

// VerifyProof checks proof against the trusted root hash and returns the subtree it proves: a
// clean pointer whose included nodes are loaded and whose left-out subtrees are unloaded
// pointers carrying their hashes (nil for an empty tree). Node versions are zero. Every error
// wraps ErrInvalidProof. VerifyProof is pure.
func VerifyProof(root hash.Hash, proof *Proof) (*node.Pointer, error) {
	if proof == nil {
		return nil, fmt.Errorf("%w: no proof", ErrTruncatedProof)
	}
	if proof.UntrustedRoot != root {
		return nil, fmt.Errorf("%w: proof for %s, trusted %s", ErrRootMismatch, proof.UntrustedRoot, root)
	}
	entries := proof.Entries
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: no entries", ErrTruncatedProof)
	}
	if len(entries) > MaxProofEntries {
		return nil, fmt.Errorf("%w: %d entries, limit %d", ErrProofTooLarge, len(entries), MaxProofEntries)
	}
	var (
		result *node.Pointer
		stack  []pending
	)
	for i, e := range entries {
		want := root
		if i > 0 {
			if len(stack) == 0 {
				return nil, fmt.Errorf("%w: %d entries after the tree ends at entry %d", ErrTrailingEntries, len(entries)-i, i-1)
			}
			top := &stack[len(stack)-1]
			if top.side == 0 {
				want = node.HashOf(top.n.Left)
			} else {
				want = node.HashOf(top.n.Right)
			}
		}
		p, in, err := decodeEntry(e, i)
		if err != nil {
			return nil, err
		}
		if got := node.HashOf(p); got != want {
			return nil, fmt.Errorf("%w: entry %d has hash %s, expected %s", ErrHashMismatch, i, got, want)
		}
		if i == 0 {
			result = p
		} else {
			top := &stack[len(stack)-1]
			if top.side == 0 {
				top.n.Left = p
				top.side = 1
			} else {
				top.n.Right = p
				stack = stack[:len(stack)-1]
			}
		}
		if in != nil {
			if len(stack) >= MaxProofDepth {
				return nil, fmt.Errorf("%w: deeper than %d", ErrProofTooLarge, MaxProofDepth)
			}
			stack = append(stack, pending{n: in})
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("%w: %d internal nodes lack children", ErrTruncatedProof, len(stack))
	}
	return result, nil
}

// decodeEntry decodes entry i into a pointer (nil for an absent child) and, for an internal
// node, the node whose children come next.
func decodeEntry(e []byte, i int) (*node.Pointer, *node.InternalNode, error) {
	if len(e) == 0 {
		return nil, nil, nil
	}
	switch e[0] {
	case EntryHash:
		h, err := hash.FromBytes(e[1:])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: entry %d: hash of %d bytes", ErrBadEntry, i, len(e)-1)
		}
		if h.IsEmpty() {
			return nil, nil, fmt.Errorf("%w: entry %d: hash entry for an absent child", ErrBadEntry, i)
		}
		return &node.Pointer{Clean: true, Hash: h}, nil, nil
	case EntryFull:
		n, err := node.UnmarshalBinary(e[1:])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: entry %d: %w", ErrBadEntry, i, err)
		}
		p := &node.Pointer{Clean: true, Hash: n.NodeHash(), Node: n}
		in, _ := n.(*node.InternalNode)
		return p, in, nil
	default:
		return nil, nil, fmt.Errorf("%w: entry %d: unknown kind 0x%02x", ErrBadEntry, i, e[0])
	}
}
