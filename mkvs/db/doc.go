// Package db is the persistent MKVS node DB on Pebble: it stores the nodes, roots and write logs
// that trees' commits produce (Apply), finalizes one version's roots at a time and
// garbage-collects the nodes only losing roots reach (Finalize), registers a tree at a later
// version without copying it (CarryForward), and drops the earliest version (Prune). It serves
// trees as their node.Reader, and reads of the latest finalized state from a flat key → value
// index kept beside the tree (GetLatest: one Pebble get instead of a walk).
//
// One DB holds the trees of one namespace (a runtime, or the consensus state). Every call
// checks that roots belong to it, and Open refuses a database created for another namespace
// or in another format.
//
// # Versions
//
// Roots are registered at versions (rounds or heights) by Apply and CarryForward, several per
// version if need be (the IO and state trees, competing results of a discrepancy). Finalize
// picks one version's winners, in increasing version order; Prune removes the earliest
// version. Nodes are immutable once written: a node created at version v is stored under v and
// later trees point at it; a node's creation version travels in its parent's record (never in
// a hash), so any node is found from its parent's pointer.
//
// # Key layout
//
// All integers are big-endian, so keys sort by version; type is the root type byte (state 1,
// io 2); hashes are 32 bytes.
//
//	key                                            value
//	'm'                                            metadata, CBOR [format, namespace]; written once
//	'v'                                            version marker, CBOR [has_finalized, last_finalized,
//	                                               pruned_below, [[type, version, hash]...]] (latest
//	                                               finalized root per type)
//	'n' || u64 version || type || node hash        node record: node.MarshalStored (canonical bytes,
//	                                               then the children's creation versions)
//	'r' || u64 version || type || root hash        root record, CBOR [root node's creation version,
//	                                               finalized, [src version, src hash] or null]
//	'w' || u64 version || type || root hash        write log from the tree with root hash src hash to
//	    || src hash                                the root, CBOR [[key, value]...] (value null: delete)
//	'f' || key                                     value of key in the latest finalized state root
//
// Prefixing node keys with their creation version keeps each commit's writes in one key range
// (flushed tables rarely overlap, compactions stay cheap), never lets one root's nodes
// overwrite another's, and lets roots of one version coexist; the type byte keeps a version's
// state and IO trees apart. A node record is written once (a node that two roots of one
// version share is stored by the first Apply only) and deleted once, with a SingleDelete: a
// record and its deletion that meet in a memtable or a compaction both vanish, which spares
// the LSM most of the short-lived nodes near the top of a tree. Leaves in an internal node's leaf slot live inside that node's
// record. The root record names the root's source so that discarding a root also discards the
// roots derived from it.
//
// # Durability
//
// Apply, CarryForward and Prune write without syncing; Finalize syncs (unless
// Options.NoSync). Each call is one atomic Pebble batch, so after a crash the DB holds a prefix
// of the calls made, including at least every Finalize that returned.
//
// # Concurrency
//
// A DB is safe for concurrent use. Writers (Apply, CarryForward, Finalize, Prune) are
// serialized; readers run beside them and see each writer's batch entirely or not at all.
// A reader walking a root that a concurrent Finalize discards or Prune removes may find its
// nodes gone (node.ErrNodeNotFound).
package db
