package mkvstest

import (
	"bytes"
	"sort"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// NaiveRoot computes the root hash of the canonical trie holding contents straight from the
// rules of DESIGN.md §8 and §12, without building a tree: it is the oracle the tree's roots
// are checked against. A subtree of several keys whose bits agree from depth up to bit p is an
// internal node labelled with bits [depth, p); the key p bits long (if any) is its leaf slot,
// the others split on bit p into left (0) and right (1) subtrees at depth p. One key is a leaf,
// none is H("").
func NaiveRoot(contents map[string][]byte) hash.Hash {
	keys := make([][]byte, 0, len(contents))
	for k := range contents {
		keys = append(keys, []byte(k))
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	return naiveHash(keys, contents, 0)
}

func naiveHash(keys [][]byte, contents map[string][]byte, depth int) hash.Hash {
	switch len(keys) {
	case 0:
		return hash.Empty
	case 1:
		return node.HashLeaf(keys[0], contents[string(keys[0])])
	}
	// Sorted keys: the common prefix of all is that of the first and the last.
	p := naiveCommonBits(keys[0], keys[len(keys)-1])
	label := make([]byte, (p-depth+7)/8)
	for i := depth; i < p; i++ {
		if naiveBit(keys[0], i) == 1 {
			label[(i-depth)/8] |= 0x80 >> uint((i-depth)%8)
		}
	}
	leafHash := hash.Empty
	var left, right [][]byte
	for _, k := range keys {
		switch {
		case len(k)*8 == p:
			leafHash = node.HashLeaf(k, contents[string(k)])
		case naiveBit(k, p) == 0:
			left = append(left, k)
		default:
			right = append(right, k)
		}
	}
	return node.HashInternal(uint16(p-depth), label, leafHash, naiveHash(left, contents, p), naiveHash(right, contents, p))
}

func naiveBit(k []byte, i int) int {
	return int(k[i/8]>>(7-uint(i%8))) & 1
}

func naiveCommonBits(a, b []byte) int {
	n := 0
	for n < len(a)*8 && n < len(b)*8 && naiveBit(a, n) == naiveBit(b, n) {
		n++
	}
	return n
}
