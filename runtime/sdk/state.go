package sdk

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
)

const (
	maxKeySize   = node.MaxKeySize
	maxValueSize = node.MaxValueSize
	// maxTagKeySize leaves room in an IO key for the 'E' prefix and the transaction hash.
	maxTagKeySize = node.MaxKeySize - 1 - hash.Size
)

// State is the runtime's key-value state as one transaction (or one check or query) sees it:
// reads come from the transaction's own writes first, then from the batch's state tree, whose
// nodes are fetched from the host with proofs checked against the block's state root. Writes
// stay in the transaction's overlay until it succeeds; the SDK then applies them to the tree.
//
// Errors: ErrInvalidArgument for a key or value over the MKVS caps, ErrReadOnly for a write
// outside ExecuteTx, and ErrStateUnavailable (or ErrAborted) when the host cannot serve the
// state. The last two fail the whole request, even if the runtime swallows them: runtimes
// just return them.
//
// Values returned are copies the caller owns; values passed in are copied.
type State struct {
	ctx      context.Context
	tree     *mkvs.Tree
	readOnly bool
	// failed records the first storage failure of the request; shared by every State of it.
	failed *error
	// overlay holds this transaction's writes: a nil value marks a removal.
	overlay map[string][]byte
}

func newState(ctx context.Context, tree *mkvs.Tree, failed *error, readOnly bool) *State {
	return &State{ctx: ctx, tree: tree, failed: failed, readOnly: readOnly, overlay: make(map[string][]byte)}
}

// Get returns the value under key, or nil when there is none (a present empty value is a
// non-nil empty slice).
func (s *State) Get(key []byte) ([]byte, error) {
	if len(key) > maxKeySize {
		return nil, fmt.Errorf("%w: key of %d bytes, at most %d", ErrInvalidArgument, len(key), maxKeySize)
	}
	if v, ok := s.overlay[string(key)]; ok {
		if v == nil {
			return nil, nil
		}
		return clone(v), nil
	}
	v, err := s.tree.Get(s.ctx, key)
	if err != nil {
		return nil, s.fail(err)
	}
	return v, nil
}

// Insert sets key to value (nil is stored as an empty value).
func (s *State) Insert(key, value []byte) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if len(key) > maxKeySize || len(value) > maxValueSize {
		return fmt.Errorf("%w: key of %d bytes and value of %d bytes, at most %d and %d",
			ErrInvalidArgument, len(key), len(value), maxKeySize, maxValueSize)
	}
	s.overlay[string(key)] = clone(value)
	return nil
}

// Remove deletes key; removing an absent key is not an error.
func (s *State) Remove(key []byte) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if len(key) > maxKeySize {
		return fmt.Errorf("%w: key of %d bytes, at most %d", ErrInvalidArgument, len(key), maxKeySize)
	}
	s.overlay[string(key)] = nil
	return nil
}

// fail records a storage failure for the request and returns it.
func (s *State) fail(err error) error {
	err = storageError(s.ctx, err)
	if *s.failed == nil {
		*s.failed = err
	}
	return err
}

// storageError classifies an error of the state tree: the request was aborted, or the state
// is unavailable.
func storageError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrAborted, err)
	}
	return fmt.Errorf("%w: %w", ErrStateUnavailable, err)
}

// sortedWrites returns the overlay's keys in bytewise order.
func (s *State) sortedWrites() []string {
	return slices.Sorted(maps.Keys(s.overlay))
}

// apply writes the overlay into the tree, in key order.
func (s *State) apply() error {
	for _, k := range s.sortedWrites() {
		v := s.overlay[k]
		var err error
		if v == nil {
			err = s.tree.Remove(s.ctx, []byte(k))
		} else {
			err = s.tree.Insert(s.ctx, []byte(k), v)
		}
		if err != nil {
			return s.fail(err)
		}
	}
	return nil
}
