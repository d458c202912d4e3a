package consensus

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
)

// GetRecord reads the CBOR record at key into dst and reports whether it exists. The record was
// written by this node's own state transitions, so a record that does not decode means the
// state is broken: the error wraps ErrState and names module and key.
func GetRecord(s State, module string, key []byte, dst any) (bool, error) {
	raw, err := s.Get(key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := cbor.UnmarshalTrusted(raw, dst); err != nil {
		return false, StateError(fmt.Errorf("%s: record %x: %w", module, key, err))
	}
	return true, nil
}

// PutRecord writes value's canonical CBOR encoding at key.
func PutRecord(s State, key []byte, value any) error {
	return s.Insert(key, cbor.Marshal(value))
}

// RequireRecord reads the CBOR record at key into dst like GetRecord, for a record the state
// always holds (parameters, singletons): its absence means the state is broken, and the error
// wraps ErrState naming module and what.
func RequireRecord(s State, module, what string, key []byte, dst any) error {
	found, err := GetRecord(s, module, key, dst)
	if err == nil && !found {
		err = StateErrorf("%s: %s missing", module, what)
	}
	return err
}
