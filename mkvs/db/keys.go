package db

import (
	"encoding/binary"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// Key prefixes; the package doc has the full table.
const (
	prefixMeta     byte = 'm'
	prefixVersions byte = 'v'
	prefixNode     byte = 'n'
	prefixRoot     byte = 'r'
	prefixWriteLog byte = 'w'
	prefixFlat     byte = 'f'
)

const (
	// nodeKeySize is 'n' || u64be(version) || type || hash.
	nodeKeySize = 1 + 8 + 1 + hash.Size
	// rootKeySize is 'r' || u64be(version) || type || hash.
	rootKeySize = 1 + 8 + 1 + hash.Size
	// writeLogKeySize is 'w' || u64be(dst version) || type || dst hash || src hash.
	writeLogKeySize = 1 + 8 + 1 + 2*hash.Size
)

var (
	metaKey     = []byte{prefixMeta}
	versionsKey = []byte{prefixVersions}
)

// nodeKey is the Pebble key of the node with hash h created at version in a tree of type t.
func nodeKey(version uint64, t node.RootType, h hash.Hash) []byte {
	return appendNodeKey(make([]byte, 0, nodeKeySize), version, t, h)
}

func appendNodeKey(buf []byte, version uint64, t node.RootType, h hash.Hash) []byte {
	buf = append(buf, prefixNode)
	buf = binary.BigEndian.AppendUint64(buf, version)
	buf = append(buf, byte(t))
	return append(buf, h[:]...)
}

// versionPrefix returns prefix || u64be(version), the start of every key of that version.
func versionPrefix(prefix byte, version uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefix}, version)
}

// rootKey is the Pebble key of a root record.
func rootKey(r node.Root) []byte {
	buf := versionPrefix(prefixRoot, r.Version)
	buf = append(buf, byte(r.Type))
	return append(buf, r.Hash[:]...)
}

// parseRootKey decodes a root key back into a root of namespace ns.
func parseRootKey(ns [32]byte, key []byte) (node.Root, bool) {
	if len(key) != rootKeySize || key[0] != prefixRoot {
		return node.Root{}, false
	}
	r := node.Root{Namespace: ns, Version: binary.BigEndian.Uint64(key[1:]), Type: node.RootType(key[9])}
	copy(r.Hash[:], key[10:])
	return r, r.Type.Valid()
}

// writeLogPrefix is the start of every write log key whose destination is dst.
func writeLogPrefix(dst node.Root) []byte {
	buf := versionPrefix(prefixWriteLog, dst.Version)
	buf = append(buf, byte(dst.Type))
	return append(buf, dst.Hash[:]...)
}

// writeLogKey is the key of the write log from a tree with root hash src to dst.
func writeLogKey(src hash.Hash, dst node.Root) []byte {
	return append(writeLogPrefix(dst), src[:]...)
}

// flatKey is the key of key in the flat index of the latest finalized state.
func flatKey(buf, key []byte) []byte {
	buf = append(buf[:0], prefixFlat)
	return append(buf, key...)
}

// prefixEnd returns the smallest key greater than every key starting with prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // prefix is all 0xff: no upper bound
}
