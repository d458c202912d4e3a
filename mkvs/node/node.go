// Package node defines the nodes of the MKVS trie, their canonical serialization and hashing,
// the stored form used by the node DB, roots, and the contract between a tree and the store it
// loads nodes from.
//
// Hashes (SHA-512/256):
//
//	leaf     H(0x00 || u32le(len key) || key || u32le(len value) || value)
//	internal H(0x01 || u16le(label_bits) || label || h(leaf) || h(left) || h(right))
//	absent   H("")
//
// Serialization:
//
//	leaf     0x00 || u16le(len key) || key || u32le(len value) || value
//	internal 0x01 || u16le(label_bits) || label || (leaf serialization | 0x02) || left hash || right hash
//
// A label occupies ceil(label_bits/8) bytes, left-aligned, unused low bits zero; decoding
// rejects labels with non-zero unused bits. Everything here is pure.
package node

import (
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

const (
	// MaxKeySize is the largest key in bytes (8 KiB: 65,536 bits).
	MaxKeySize = 8 << 10
	// MaxValueSize is the largest value in bytes (1 MiB).
	MaxValueSize = 1 << 20

	prefixLeaf     byte = 0x00
	prefixInternal byte = 0x01
	prefixNil      byte = 0x02
)

var (
	// ErrMalformedNode is returned when decoding bytes that are not a valid node.
	ErrMalformedNode = errors.New("mkvs/node: malformed node")
	// ErrKeyTooLarge is returned for keys over MaxKeySize.
	ErrKeyTooLarge = fmt.Errorf("mkvs: key too large (limit %d bytes)", MaxKeySize)
	// ErrValueTooLarge is returned for values over MaxValueSize.
	ErrValueTooLarge = fmt.Errorf("mkvs: value too large (limit %d bytes)", MaxValueSize)
	// ErrNodeNotFound is returned by a Reader for a node it does not hold.
	ErrNodeNotFound = errors.New("mkvs: node not found")
	// ErrRootNotFound is returned by a Reader for a root it does not hold.
	ErrRootNotFound = errors.New("mkvs: root not found")
)

// RootType says which tree of a round a root belongs to.
type RootType uint8

const (
	// RootTypeInvalid is the zero value and never valid.
	RootTypeInvalid RootType = 0
	// RootTypeState is a runtime's (or the consensus layer's) state tree.
	RootTypeState RootType = 1
	// RootTypeIO is a round's IO tree (inputs, outputs, tags).
	RootTypeIO RootType = 2
)

// String returns "state" or "io".
func (t RootType) String() string {
	switch t {
	case RootTypeState:
		return "state"
	case RootTypeIO:
		return "io"
	default:
		return fmt.Sprintf("invalid(%d)", uint8(t))
	}
}

// Valid reports whether t is a known root type.
func (t RootType) Valid() bool { return t == RootTypeState || t == RootTypeIO }

// Root names one tree: its namespace, version (round or height), type and root hash.
type Root struct {
	Namespace namespace.Namespace `cbor:"ns"`
	Version   uint64              `cbor:"version"`
	Type      RootType            `cbor:"root_type"`
	Hash      hash.Hash           `cbor:"hash"`
}

// String is a compact human form.
func (r Root) String() string {
	return fmt.Sprintf("%s@%d/%s:%s", r.Namespace, r.Version, r.Type, r.Hash)
}

// IsEmpty reports whether r is the root of an empty tree.
func (r Root) IsEmpty() bool { return r.Hash.IsEmpty() }

// Node is a LeafNode or an InternalNode.
type Node interface {
	// NodeHash returns the node's hash as last computed (valid when the node is clean).
	NodeHash() hash.Hash
	// MarshalBinary returns the canonical serialization.
	MarshalBinary() ([]byte, error)
	isNode()
}

// Pointer refers to a child node. A pointer is clean when Hash matches the subtree it refers to;
// Version is the version in which the node it refers to was created, which locates it in the
// node DB (it is never part of any hash). Node is nil when the node is not loaded.
type Pointer struct {
	Clean   bool
	Hash    hash.Hash
	Version uint64
	Node    Node
	// Cache is owned by the tree's node cache (for example an LRU element); others leave it alone.
	Cache any
}

// IsNil reports whether p refers to no node (an absent child).
func (p *Pointer) IsNil() bool { return p == nil || (p.Node == nil && p.Clean && p.Hash.IsEmpty()) }

// HashOf returns the hash of the subtree p refers to, H("") for a nil pointer.
func HashOf(p *Pointer) hash.Hash {
	if p == nil {
		return hash.Empty
	}
	return p.Hash
}

// LeafNode holds one key and its value.
type LeafNode struct {
	Clean   bool
	Hash    hash.Hash
	Version uint64
	Key     []byte
	Value   []byte
}

// InternalNode branches on the bit that follows its label. Leaf holds the key that ends exactly
// at this node (nil when none); Left is the subtree whose next bit is 0, Right whose next bit is
// 1. A valid internal node has at least two of Leaf, Left and Right.
type InternalNode struct {
	// Fields are ordered to keep the struct in a 96-byte allocation class.
	Hash      hash.Hash
	Version   uint64
	Label     []byte
	Leaf      *Pointer
	Left      *Pointer
	Right     *Pointer
	LabelBits uint16
	Clean     bool
}

func (*LeafNode) isNode()     {}
func (*InternalNode) isNode() {}

// NodeHash returns the cached hash.
func (n *LeafNode) NodeHash() hash.Hash { return n.Hash }

// NodeHash returns the cached hash.
func (n *InternalNode) NodeHash() hash.Hash { return n.Hash }

// hashBufSize is the size of the stack buffer node hashing assembles its input in; larger
// inputs (long keys or values) are hashed in a streaming digest.
const hashBufSize = 256

// HashLeaf computes the hash of a leaf with the given key and value.
func HashLeaf(key, value []byte) hash.Hash {
	if n := 1 + 4 + len(key) + 4 + len(value); n <= hashBufSize {
		var a [hashBufSize]byte
		b := append(a[:0], prefixLeaf)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(key)))
		b = append(b, key...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(value)))
		b = append(b, value...)
		return sha512.Sum512_256(b)
	}
	var kl, vl [4]byte
	binary.LittleEndian.PutUint32(kl[:], uint32(len(key)))
	binary.LittleEndian.PutUint32(vl[:], uint32(len(value)))
	return hash.Digest([]byte{prefixLeaf}, kl[:], key, vl[:], value)
}

// HashInternal computes the hash of an internal node from its label and its children's hashes.
func HashInternal(labelBits uint16, label []byte, leaf, left, right hash.Hash) hash.Hash {
	if n := 1 + 2 + len(label) + 3*hash.Size; n <= hashBufSize {
		var a [hashBufSize]byte
		b := append(a[:0], prefixInternal)
		b = binary.LittleEndian.AppendUint16(b, labelBits)
		b = append(b, label...)
		b = append(b, leaf[:]...)
		b = append(b, left[:]...)
		b = append(b, right[:]...)
		return sha512.Sum512_256(b)
	}
	var lb [2]byte
	binary.LittleEndian.PutUint16(lb[:], labelBits)
	return hash.Digest([]byte{prefixInternal}, lb[:], label, leaf[:], left[:], right[:])
}

// UpdateHash recomputes the leaf's hash and marks it clean.
func (n *LeafNode) UpdateHash() {
	n.Hash = HashLeaf(n.Key, n.Value)
	n.Clean = true
}

// UpdateHash recomputes the internal node's hash from its children's pointer hashes (which
// must be clean) and marks it clean.
func (n *InternalNode) UpdateHash() {
	n.Hash = HashInternal(n.LabelBits, n.Label, HashOf(n.Leaf), HashOf(n.Left), HashOf(n.Right))
	n.Clean = true
}

// LabelBytes returns the number of bytes a label of bits bits occupies.
func LabelBytes(bits uint16) int { return (int(bits) + 7) / 8 }

// MarshalBinary returns the canonical serialization of the leaf.
func (n *LeafNode) MarshalBinary() ([]byte, error) {
	return n.AppendBinary(make([]byte, 0, 1+2+len(n.Key)+4+len(n.Value))), nil
}

// AppendBinary appends the canonical serialization of the leaf to buf.
func (n *LeafNode) AppendBinary(buf []byte) []byte {
	buf = append(buf, prefixLeaf)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(n.Key)))
	buf = append(buf, n.Key...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(n.Value)))
	return append(buf, n.Value...)
}

// MarshalBinary returns the canonical serialization of the internal node. The leaf slot, if
// set, must be loaded.
func (n *InternalNode) MarshalBinary() ([]byte, error) {
	return n.AppendBinary(make([]byte, 0, 1+2+len(n.Label)+1+2*hash.Size))
}

// AppendBinary appends the canonical serialization of the internal node to buf.
func (n *InternalNode) AppendBinary(buf []byte) ([]byte, error) {
	buf = append(buf, prefixInternal)
	buf = binary.LittleEndian.AppendUint16(buf, n.LabelBits)
	buf = append(buf, n.Label...)
	if n.Leaf.IsNil() {
		buf = append(buf, prefixNil)
	} else {
		leaf, ok := n.Leaf.Node.(*LeafNode)
		if !ok {
			return nil, fmt.Errorf("mkvs/node: leaf slot not loaded or not a leaf (%T)", n.Leaf.Node)
		}
		buf = leaf.AppendBinary(buf)
	}
	l, r := HashOf(n.Left), HashOf(n.Right)
	buf = append(buf, l[:]...)
	return append(buf, r[:]...), nil
}

// UnmarshalBinary decodes a canonical serialization of exactly len(data) bytes and computes
// the node's hash. Child pointers of an internal node are clean, unloaded and carry version 0.
func UnmarshalBinary(data []byte) (Node, error) {
	n, used, err := decode(data)
	if err != nil {
		return nil, err
	}
	if used != len(data) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformedNode, len(data)-used)
	}
	return n, nil
}

func decode(data []byte) (Node, int, error) {
	if len(data) < 1 {
		return nil, 0, fmt.Errorf("%w: empty", ErrMalformedNode)
	}
	switch data[0] {
	case prefixLeaf:
		leaf, used, err := decodeLeaf(data)
		if err != nil {
			return nil, 0, err
		}
		return leaf, used, nil
	case prefixInternal:
		return decodeInternal(data)
	default:
		return nil, 0, fmt.Errorf("%w: unknown node kind 0x%02x", ErrMalformedNode, data[0])
	}
}

func decodeLeaf(data []byte) (*LeafNode, int, error) {
	off := 1
	if len(data) < off+2 {
		return nil, 0, fmt.Errorf("%w: truncated leaf key length", ErrMalformedNode)
	}
	kl := int(binary.LittleEndian.Uint16(data[off:]))
	off += 2
	if kl > MaxKeySize {
		return nil, 0, fmt.Errorf("%w: %w", ErrMalformedNode, ErrKeyTooLarge)
	}
	if len(data) < off+kl+4 {
		return nil, 0, fmt.Errorf("%w: truncated leaf key", ErrMalformedNode)
	}
	koff := off
	off += kl
	vl := binary.LittleEndian.Uint32(data[off:])
	off += 4
	if vl > MaxValueSize {
		return nil, 0, fmt.Errorf("%w: %w", ErrMalformedNode, ErrValueTooLarge)
	}
	if len(data) < off+int(vl) {
		return nil, 0, fmt.Errorf("%w: truncated leaf value", ErrMalformedNode)
	}
	// Key and value share one copy (capacities capped, so appending to either reallocates).
	kv := make([]byte, kl+int(vl))
	copy(kv, data[koff:koff+kl])
	copy(kv[kl:], data[off:off+int(vl)])
	key, value := kv[:kl:kl], kv[kl:]
	off += int(vl)
	leaf := &LeafNode{Key: key, Value: value}
	leaf.UpdateHash()
	return leaf, off, nil
}

func decodeInternal(data []byte) (*InternalNode, int, error) {
	off := 1
	if len(data) < off+2 {
		return nil, 0, fmt.Errorf("%w: truncated label length", ErrMalformedNode)
	}
	bits := binary.LittleEndian.Uint16(data[off:])
	off += 2
	lb := LabelBytes(bits)
	if len(data) < off+lb+1 {
		return nil, 0, fmt.Errorf("%w: truncated label", ErrMalformedNode)
	}
	label := append([]byte{}, data[off:off+lb]...)
	off += lb
	if rem := bits % 8; rem != 0 && label[lb-1]&(0xff>>rem) != 0 {
		return nil, 0, fmt.Errorf("%w: label has non-zero unused bits", ErrMalformedNode)
	}
	n := &InternalNode{LabelBits: bits, Label: label}
	switch data[off] {
	case prefixNil:
		off++
	case prefixLeaf:
		leaf, used, err := decodeLeaf(data[off:])
		if err != nil {
			return nil, 0, err
		}
		off += used
		n.Leaf = &Pointer{Clean: true, Hash: leaf.Hash, Node: leaf}
	default:
		return nil, 0, fmt.Errorf("%w: bad leaf slot marker 0x%02x", ErrMalformedNode, data[off])
	}
	if len(data) < off+2*hash.Size {
		return nil, 0, fmt.Errorf("%w: truncated child hashes", ErrMalformedNode)
	}
	var left, right hash.Hash
	copy(left[:], data[off:])
	copy(right[:], data[off+hash.Size:])
	off += 2 * hash.Size
	n.Left = childPointer(left)
	n.Right = childPointer(right)
	filled := 0
	for _, p := range []*Pointer{n.Leaf, n.Left, n.Right} {
		if p != nil {
			filled++
		}
	}
	if filled < 2 {
		return nil, 0, fmt.Errorf("%w: internal node with fewer than two of leaf, left, right", ErrMalformedNode)
	}
	n.UpdateHash()
	return n, off, nil
}

func childPointer(h hash.Hash) *Pointer {
	if h.IsEmpty() {
		return nil
	}
	return &Pointer{Clean: true, Hash: h}
}

// MarshalStored returns the node DB's form of a node: the canonical serialization followed, for
// an internal node, by the creation versions of its left and right children as uvarints (0 for
// an absent child). Versions locate children in the node DB and are never hashed.
func MarshalStored(n Node) ([]byte, error) {
	switch n := n.(type) {
	case *LeafNode:
		return n.MarshalBinary()
	case *InternalNode:
		buf, err := n.AppendBinary(make([]byte, 0, 1+2+len(n.Label)+1+2*hash.Size+2*binary.MaxVarintLen64))
		if err != nil {
			return nil, err
		}
		buf = binary.AppendUvarint(buf, versionOf(n.Left))
		return binary.AppendUvarint(buf, versionOf(n.Right)), nil
	default:
		return nil, fmt.Errorf("mkvs/node: cannot store %T", n)
	}
}

func versionOf(p *Pointer) uint64 {
	if p == nil {
		return 0
	}
	return p.Version
}

// UnmarshalStored decodes the node DB's form of a node created in version. The node and its
// children come back clean; children are unloaded pointers carrying their creation versions.
func UnmarshalStored(data []byte, version uint64) (Node, error) {
	n, used, err := decode(data)
	if err != nil {
		return nil, err
	}
	rest := data[used:]
	switch n := n.(type) {
	case *LeafNode:
		if len(rest) != 0 {
			return nil, fmt.Errorf("%w: %d trailing bytes after stored leaf", ErrMalformedNode, len(rest))
		}
		n.Version = version
	case *InternalNode:
		lv, k := binary.Uvarint(rest)
		if k <= 0 {
			return nil, fmt.Errorf("%w: bad stored left version", ErrMalformedNode)
		}
		rv, k2 := binary.Uvarint(rest[k:])
		if k2 <= 0 || k+k2 != len(rest) {
			return nil, fmt.Errorf("%w: bad stored right version", ErrMalformedNode)
		}
		n.Version = version
		if n.Leaf != nil {
			n.Leaf.Version = version
			n.Leaf.Node.(*LeafNode).Version = version
		}
		if n.Left != nil {
			n.Left.Version = lv
		}
		if n.Right != nil {
			n.Right.Version = rv
		}
	}
	return n, nil
}

// Reader gives a tree access to persisted nodes; the node DB implements it. Implementations
// are safe for concurrent use.
type Reader interface {
	// RootPointer resolves a stored root to a clean, unloaded pointer to its root node (Hash =
	// root.Hash, Version = the version the root node was created in, which for a root carried
	// forward is earlier than root.Version). An empty root resolves to nil. It returns
	// ErrRootNotFound for a root the store does not hold.
	RootPointer(root Root) (*Pointer, error)
	// GetNode loads the node that ptr locates (ptr.Version, ptr.Hash) among the trees of
	// root's namespace and type. The node comes back clean with unloaded child pointers. It
	// returns ErrNodeNotFound when the node is missing.
	GetNode(root Root, ptr *Pointer) (Node, error)
}

// Batch is what a tree's Commit produced, everything the node DB needs to persist the new root.
type Batch struct {
	// Src is the root the tree was opened at (an empty-hash root for a new tree).
	Src Root
	// Root is the new root.
	Root Root
	// Nodes are the nodes created by this commit (Version == Root.Version), children before
	// parents. Leaves held in an internal node's leaf slot are stored inline and not listed.
	Nodes []Node
	// WriteLog holds the net changes from Src to Root.
	WriteLog writelog.WriteLog
	// Obsolete lists the nodes of Src's tree that Root's tree no longer reaches (each once,
	// by creation version and hash; leaves in leaf slots, which are part of their internal
	// node, are not listed). A node DB may delete them without walking Src's tree when it
	// prunes Src's version. Nil means unknown.
	Obsolete []NodeRef
}

// NodeRef locates a stored node: the version it was created in and its hash.
type NodeRef struct {
	Version uint64
	Hash    hash.Hash
}
