package db

import (
	"encoding/binary"
	"fmt"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// Stored node forms (node.MarshalStored): a leaf is its canonical serialization; an internal
// node is its canonical serialization followed by the uvarint creation versions of its left and
// right children. The helpers here read and write that form without building node values, for
// the hot paths of Apply and the garbage-collection walks; tests check them against
// node.MarshalStored and node.UnmarshalStored.

const (
	storedLeaf     byte = 0x00
	storedInternal byte = 0x01
	storedNil      byte = 0x02
)

// appendStored appends the stored form of n to buf.
func appendStored(buf []byte, n node.Node) ([]byte, error) {
	switch n := n.(type) {
	case *node.LeafNode:
		return n.AppendBinary(buf), nil
	case *node.InternalNode:
		buf, err := n.AppendBinary(buf)
		if err != nil {
			return nil, err
		}
		buf = binary.AppendUvarint(buf, pointerVersion(n.Left))
		return binary.AppendUvarint(buf, pointerVersion(n.Right)), nil
	default:
		return nil, fmt.Errorf("mkvs/db: cannot store %T", n)
	}
}

func pointerVersion(p *node.Pointer) uint64 {
	if p == nil {
		return 0
	}
	return p.Version
}

// childRef locates a child node: its creation version and hash.
type childRef = node.NodeRef

// storedChildren returns the children of a stored node that are separate records (the left and
// right children of an internal node; a leaf has none). It checks the framing it reads but not
// the node's contents.
func storedChildren(data []byte, out []childRef) ([]childRef, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty node record", ErrCorrupt)
	}
	switch data[0] {
	case storedLeaf:
		return out, nil
	case storedInternal:
	default:
		return nil, fmt.Errorf("%w: unknown node kind 0x%02x", ErrCorrupt, data[0])
	}
	if len(data) < 3 {
		return nil, fmt.Errorf("%w: truncated internal node", ErrCorrupt)
	}
	off := 3 + node.LabelBytes(binary.LittleEndian.Uint16(data[1:]))
	if len(data) <= off {
		return nil, fmt.Errorf("%w: truncated internal node label", ErrCorrupt)
	}
	switch data[off] {
	case storedNil:
		off++
	case storedLeaf:
		// 0x00 || u16le(len key) || key || u32le(len value) || value
		if len(data) < off+3 {
			return nil, fmt.Errorf("%w: truncated leaf slot", ErrCorrupt)
		}
		off += 3 + int(binary.LittleEndian.Uint16(data[off+1:]))
		if len(data) < off+4 {
			return nil, fmt.Errorf("%w: truncated leaf slot", ErrCorrupt)
		}
		vl := uint64(binary.LittleEndian.Uint32(data[off:]))
		if uint64(len(data)-off-4) < vl {
			return nil, fmt.Errorf("%w: truncated leaf slot value", ErrCorrupt)
		}
		off += 4 + int(vl)
	default:
		return nil, fmt.Errorf("%w: bad leaf slot marker", ErrCorrupt)
	}
	if len(data) < off+2*hash.Size {
		return nil, fmt.Errorf("%w: truncated child hashes", ErrCorrupt)
	}
	var left, right childRef
	copy(left.Hash[:], data[off:])
	copy(right.Hash[:], data[off+hash.Size:])
	off += 2 * hash.Size
	lv, k := binary.Uvarint(data[off:])
	if k <= 0 {
		return nil, fmt.Errorf("%w: bad left child version", ErrCorrupt)
	}
	rv, k2 := binary.Uvarint(data[off+k:])
	if k2 <= 0 || off+k+k2 != len(data) {
		return nil, fmt.Errorf("%w: bad right child version", ErrCorrupt)
	}
	left.Version, right.Version = lv, rv
	if !left.Hash.IsEmpty() {
		out = append(out, left)
	}
	if !right.Hash.IsEmpty() {
		out = append(out, right)
	}
	return out, nil
}
