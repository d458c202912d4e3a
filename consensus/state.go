package consensus

import (
	"bytes"
	"context"
	"sort"

	"github.com/atoll-project/atoll/mkvs"
)

// State is the key-value view of the consensus state an application reads and writes. Get
// returns nil for an absent key (and a non-nil, possibly empty, slice for a present one).
// Iterate calls fn on every key in [start, end) in ascending order (end nil: no upper bound)
// until fn returns false or an error; fn must not modify the state. Every error from the
// underlying store wraps ErrState. Returned slices belong to the caller.
//
// A State is used by one goroutine at a time.
type State interface {
	Get(key []byte) ([]byte, error)
	Insert(key, value []byte) error
	Remove(key []byte) error
	Iterate(start, end []byte, fn func(key, value []byte) (bool, error)) error
}

// IteratePrefix calls fn on every key of s starting with prefix, in ascending order.
func IteratePrefix(s State, prefix []byte, fn func(key, value []byte) (bool, error)) error {
	return s.Iterate(prefix, PrefixEnd(prefix), fn)
}

// PrefixEnd returns the smallest key above every key starting with prefix, or nil when there
// is none (a prefix of 0xff bytes only).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// treeState adapts an MKVS tree to State for the duration of one ABCI call, whose context it
// carries.
type treeState struct {
	ctx  context.Context
	tree *mkvs.Tree
}

func (s *treeState) Get(key []byte) ([]byte, error) {
	v, err := s.tree.Get(s.ctx, key)
	if err != nil {
		return nil, StateError(err)
	}
	return v, nil
}

func (s *treeState) Insert(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	return StateError(s.tree.Insert(s.ctx, key, value))
}

func (s *treeState) Remove(key []byte) error {
	return StateError(s.tree.Remove(s.ctx, key))
}

func (s *treeState) Iterate(start, end []byte, fn func(key, value []byte) (bool, error)) error {
	it := s.tree.NewIterator(s.ctx)
	defer it.Close()
	for it.Seek(start); it.Valid(); it.Next() {
		if end != nil && bytes.Compare(it.Key(), end) >= 0 {
			break
		}
		more, err := fn(bytes.Clone(it.Key()), bytes.Clone(it.Value()))
		if err != nil || !more {
			return err
		}
	}
	return StateError(it.Err())
}

// overlayEntry is a buffered write: a value, or a removal.
type overlayEntry struct {
	value   []byte
	removed bool
}

// smallOverlayEntry is a buffered write of an overlay still in its small form.
type smallOverlayEntry struct {
	key []byte
	overlayEntry
}

// smallOverlayMax is the most writes an overlay keeps in a slice before it moves them to a
// map: a transaction's overlays hold a handful of writes, which a slice holds without
// allocating a map and searches faster than it hashes.
const smallOverlayMax = 8

// Overlay buffers writes over a parent State until Commit applies them to it; dropping an
// Overlay reverts them. Overlays nest: a transaction's overlay sits on the block's state, a
// runtime message's on the transaction's.
type Overlay struct {
	parent State
	// The buffered writes are in small while there are at most smallOverlayMax of them, then
	// all in writes (small is then empty). Values are the overlay's own copies.
	small  []smallOverlayEntry
	writes map[string]overlayEntry
}

// NewOverlay returns an empty overlay over parent.
func NewOverlay(parent State) *Overlay {
	return &Overlay{parent: parent}
}

// lookup returns the buffered write of key.
func (o *Overlay) lookup(key []byte) (overlayEntry, bool) {
	if o.writes != nil {
		e, ok := o.writes[string(key)]
		return e, ok
	}
	for i := range o.small {
		if string(o.small[i].key) == string(key) {
			return o.small[i].overlayEntry, true
		}
	}
	return overlayEntry{}, false
}

// set buffers e (whose value the overlay owns) for key.
func (o *Overlay) set(key []byte, e overlayEntry) {
	if o.writes == nil {
		for i := range o.small {
			if string(o.small[i].key) == string(key) {
				o.small[i].overlayEntry = e
				return
			}
		}
		if len(o.small) < smallOverlayMax {
			if o.small == nil {
				o.small = make([]smallOverlayEntry, 0, 4)
			}
			o.small = append(o.small, smallOverlayEntry{key: bytes.Clone(key), overlayEntry: e})
			return
		}
		o.writes = make(map[string]overlayEntry, 2*smallOverlayMax)
		for _, se := range o.small {
			o.writes[string(se.key)] = se.overlayEntry
		}
		o.small = nil
	}
	o.writes[string(key)] = e
}

// each calls fn on every buffered write, in no particular order.
func (o *Overlay) each(fn func(key []byte, e overlayEntry) error) error {
	for _, se := range o.small {
		if err := fn(se.key, se.overlayEntry); err != nil {
			return err
		}
	}
	for k, e := range o.writes {
		if err := fn([]byte(k), e); err != nil {
			return err
		}
	}
	return nil
}

// Get implements State.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	if e, ok := o.lookup(key); ok {
		if e.removed {
			return nil, nil
		}
		return bytes.Clone(e.value), nil
	}
	return o.parent.Get(key)
}

// Insert implements State.
func (o *Overlay) Insert(key, value []byte) error {
	v := make([]byte, len(value))
	copy(v, value)
	o.set(key, overlayEntry{value: v})
	return nil
}

// Remove implements State.
func (o *Overlay) Remove(key []byte) error {
	o.set(key, overlayEntry{removed: true})
	return nil
}

// Iterate implements State, merging the buffered writes with the parent's keys.
func (o *Overlay) Iterate(start, end []byte, fn func(key, value []byte) (bool, error)) error {
	var keys []string
	_ = o.each(func(key []byte, _ overlayEntry) error {
		if k := string(key); k >= string(start) && (end == nil || k < string(end)) {
			keys = append(keys, k)
		}
		return nil
	})
	sort.Strings(keys)
	i := 0
	stopped := false
	// emitOwn yields the buffered keys below limit (all of them when limit is nil).
	emitOwn := func(limit []byte) (bool, error) {
		for ; i < len(keys) && (limit == nil || keys[i] < string(limit)); i++ {
			e, _ := o.lookup([]byte(keys[i]))
			if e.removed {
				continue
			}
			more, err := fn([]byte(keys[i]), bytes.Clone(e.value))
			if err != nil || !more {
				i++
				return false, err
			}
		}
		return true, nil
	}
	err := o.parent.Iterate(start, end, func(key, value []byte) (bool, error) {
		more, err := emitOwn(key)
		if err != nil || !more {
			stopped = true
			return false, err
		}
		if _, own := o.lookup(key); own {
			// The buffered entry shadows the parent's; emitOwn yields it next round.
			return true, nil
		}
		more, err = fn(key, value)
		if err != nil || !more {
			stopped = true
		}
		return more, err
	})
	if err != nil || stopped {
		return err
	}
	_, err = emitOwn(nil)
	return err
}

// Commit applies the buffered writes to the parent and empties the overlay.
func (o *Overlay) Commit() error {
	if p, ok := o.parent.(*Overlay); ok {
		// The values are this overlay's own copies, and it is emptied: hand them over.
		_ = o.each(func(key []byte, e overlayEntry) error {
			p.set(key, e)
			return nil
		})
	} else {
		err := o.each(func(key []byte, e overlayEntry) error {
			if e.removed {
				return o.parent.Remove(key)
			}
			return o.parent.Insert(key, e.value)
		})
		if err != nil {
			return err
		}
	}
	o.small, o.writes = nil, nil
	return nil
}

// Len returns the number of buffered writes.
func (o *Overlay) Len() int { return len(o.small) + len(o.writes) }
