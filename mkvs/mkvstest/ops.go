package mkvstest

import (
	"bytes"
	"fmt"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/mkvs/node"
)

// OpKind is what an Op does.
type OpKind uint8

const (
	// OpInsert sets Key to Value (nil stored as empty).
	OpInsert OpKind = iota + 1
	// OpRemove deletes Key.
	OpRemove
	// OpGet reads Key and checks it against the model.
	OpGet
	// OpIterate seeks to Key (rewinds when Key is nil) and checks the next Count keys.
	OpIterate
	// OpCommit commits the next version, checks root, write log and batch, and applies the
	// batch to the store.
	OpCommit
	// OpReopen reopens the store and the tree at the last committed root, dropping uncommitted
	// changes.
	OpReopen
	// OpFinalize finalizes the oldest committed version not yet finalized.
	OpFinalize
)

// Op is one step of a test run.
type Op struct {
	Kind  OpKind
	Key   []byte
	Value []byte
	Count int
}

// String shows an op compactly (rapid prints it when a run fails).
func (o Op) String() string {
	switch o.Kind {
	case OpInsert:
		return fmt.Sprintf("Insert(%s, %s)", short(o.Key), short(o.Value))
	case OpRemove:
		return fmt.Sprintf("Remove(%s)", short(o.Key))
	case OpGet:
		return fmt.Sprintf("Get(%s)", short(o.Key))
	case OpIterate:
		if o.Key == nil {
			return fmt.Sprintf("Rewind+%d", o.Count)
		}
		return fmt.Sprintf("Seek(%s)+%d", short(o.Key), o.Count)
	case OpCommit:
		return "Commit"
	case OpReopen:
		return "Reopen"
	case OpFinalize:
		return "Finalize"
	default:
		return fmt.Sprintf("Op(%d)", o.Kind)
	}
}

func short(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) > 12 {
		return fmt.Sprintf("%x…(%d bytes)", b[:8], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// Key generates keys: mostly short ones over a small alphabet (the empty key included), some
// long runs (long labels), and rarely one of the largest size.
func Key() *rapid.Generator[[]byte] {
	// The alphabet makes keys collide, nest as prefixes and differ in first, last and middle
	// bits.
	keyAlphabet := []byte{0x00, 0x01, 0x61, 0x80, 0xff}
	short := rapid.SliceOfN(rapid.SampledFrom(keyAlphabet), 0, 3)
	long := rapid.Custom(func(t *rapid.T) []byte {
		b := rapid.SampledFrom(keyAlphabet).Draw(t, "fill")
		n := rapid.IntRange(4, 48).Draw(t, "len")
		k := bytes.Repeat([]byte{b}, n)
		k[n-1] = rapid.SampledFrom(keyAlphabet).Draw(t, "last")
		return k
	})
	huge := rapid.Custom(func(t *rapid.T) []byte {
		k := bytes.Repeat([]byte{rapid.SampledFrom(keyAlphabet).Draw(t, "fill")}, node.MaxKeySize)
		k[node.MaxKeySize-1-rapid.IntRange(0, 1).Draw(t, "at")] = rapid.SampledFrom(keyAlphabet).Draw(t, "mark")
		return k
	})
	return rapid.Custom(func(t *rapid.T) []byte {
		switch p := rapid.IntRange(0, 99).Draw(t, "keykind"); {
		case p < 80:
			return short.Draw(t, "short")
		case p < 98:
			return long.Draw(t, "long")
		default:
			return huge.Draw(t, "huge")
		}
	})
}

// Value generates values: mostly tiny (nil and empty included), rarely large.
func Value() *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		switch p := rapid.IntRange(0, 99).Draw(t, "valuekind"); {
		case p < 5:
			return nil
		case p < 96:
			return rapid.SliceOfN(rapid.SampledFrom([]byte{0, 1, 'x'}), 0, 3).Draw(t, "small")
		default:
			n := rapid.IntRange(1<<10, 96<<10).Draw(t, "len")
			return bytes.Repeat([]byte{rapid.Byte().Draw(t, "fill")}, n)
		}
	})
}

// Operation generates one Op. Kinds are drawn from an interleaved table, since rapid favours
// its first entries.
func Operation() *rapid.Generator[Op] {
	keys, values := Key(), Value()
	kinds := []OpKind{
		OpInsert, OpRemove, OpGet, OpInsert, OpCommit, OpRemove, OpIterate, OpInsert, OpGet,
		OpRemove, OpFinalize, OpInsert, OpCommit, OpReopen, OpIterate, OpRemove, OpInsert, OpGet,
	}
	return rapid.Custom(func(t *rapid.T) Op {
		switch kind := rapid.SampledFrom(kinds).Draw(t, "kind"); kind {
		case OpInsert:
			return Op{Kind: kind, Key: keys.Draw(t, "key"), Value: values.Draw(t, "value")}
		case OpRemove, OpGet:
			return Op{Kind: kind, Key: keys.Draw(t, "key")}
		case OpIterate:
			op := Op{Kind: kind, Count: rapid.IntRange(0, 20).Draw(t, "count")}
			if !rapid.Bool().Draw(t, "rewind") {
				op.Key = keys.Draw(t, "key")
			}
			return op
		default:
			return Op{Kind: kind}
		}
	})
}

// Ops generates a sequence of operations. Its length is drawn first (rapid's slices stay
// short), so that trees grow to tens of keys and commits stack up.
func Ops() *rapid.Generator[[]Op] {
	op := Operation()
	return rapid.Custom(func(t *rapid.T) []Op {
		n := rapid.IntRange(1, 200).Draw(t, "n")
		ops := make([]Op, n)
		for i := range ops {
			ops[i] = op.Draw(t, "op")
		}
		return ops
	})
}
