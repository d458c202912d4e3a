package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/atoll-project/atoll/common/cbor"
)

// Caps of a LocalStorage.
const (
	// MaxLocalStorageKeySize caps a key.
	MaxLocalStorageKeySize = 1 << 10
	// MaxLocalStorageValueSize caps a value.
	MaxLocalStorageValueSize = 64 << 10
	// MaxLocalStorageSize caps the sum of all keys and values.
	MaxLocalStorageSize = 4 << 20
)

// LocalStorage is a runtime's untrusted node-local key-value store, the one behind
// HostLocalStorageGet/Set: a small map held in memory and, when opened with a file, written
// through to it on every Set (the whole store, as canonical CBOR, replaced atomically by a
// synced temporary file and a rename), so that it survives restarts of the runtime and of the
// node. It is meant for a few small items (a runtime's cached keys or settings), hence the
// caps above and the O(size) cost of a Set; it is not consensus state and nothing verifies
// it. Keep one per runtime (for example <data dir>/runtimes/<id>/local_storage.cbor): every
// version of a runtime shares it. It is safe for concurrent use.
type LocalStorage struct {
	path string

	mu   sync.Mutex
	data map[string][]byte
	size int
}

type localStorageEntry struct {
	Key   []byte `cbor:"key"`
	Value []byte `cbor:"value"`
}

// NewMemoryLocalStorage returns an empty LocalStorage that lives in memory only.
func NewMemoryLocalStorage() *LocalStorage {
	return &LocalStorage{data: make(map[string][]byte)}
}

// OpenLocalStorage opens the LocalStorage kept in the file at path, creating it (and its
// directory, mode 0700) on the first Set.
func OpenLocalStorage(path string) (*LocalStorage, error) {
	s := &LocalStorage{path: path, data: make(map[string][]byte)}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("host: local storage: %w", err)
	}
	var entries []localStorageEntry
	if err := cbor.UnmarshalLimit(raw, &entries, MaxLocalStorageSize+len(raw)); err != nil {
		return nil, fmt.Errorf("host: local storage %s: %w", path, err)
	}
	for _, e := range entries {
		s.data[string(e.Key)] = e.Value
		s.size += len(e.Key) + len(e.Value)
	}
	return s, nil
}

// Get returns a copy of the value under key, or nil when the key is not set.
func (s *LocalStorage) Get(key []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[string(key)]
	if !ok {
		return nil
	}
	return append([]byte{}, v...)
}

// Set sets key to value (a nil value deletes the key; an empty one is a value) and persists
// the store when it has a file. It fails with ErrLocalStorageLimit past the caps, and leaves
// the store unchanged when persisting fails.
func (s *LocalStorage) Set(key, value []byte) error {
	if len(key) > MaxLocalStorageKeySize || len(value) > MaxLocalStorageValueSize {
		return fmt.Errorf("%w: key of %d bytes (at most %d), value of %d bytes (at most %d)",
			ErrLocalStorageLimit, len(key), MaxLocalStorageKeySize, len(value), MaxLocalStorageValueSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.data[string(key)]
	size := s.size
	if had {
		size -= len(key) + len(old)
	}
	if value != nil {
		size += len(key) + len(value)
	}
	if size > MaxLocalStorageSize {
		return fmt.Errorf("%w: the store would hold %d bytes, at most %d", ErrLocalStorageLimit, size, MaxLocalStorageSize)
	}
	if value == nil {
		delete(s.data, string(key))
	} else {
		s.data[string(key)] = append([]byte{}, value...)
	}
	if err := s.persist(); err != nil {
		if had {
			s.data[string(key)] = old
		} else {
			delete(s.data, string(key))
		}
		return err
	}
	s.size = size
	return nil
}

// persist writes the whole store to its file; the caller holds mu.
func (s *LocalStorage) persist() error {
	if s.path == "" {
		return nil
	}
	keys := make([]string, 0, len(s.data))
	for k := range s.data {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	entries := make([]localStorageEntry, 0, len(keys))
	for _, k := range keys {
		entries = append(entries, localStorageEntry{Key: []byte(k), Value: s.data[k]})
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("host: local storage: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".*")
	if err != nil {
		return fmt.Errorf("host: local storage: %w", err)
	}
	defer os.Remove(tmp.Name()) // nothing left to remove after the rename
	defer tmp.Close()
	if _, err := tmp.Write(cbor.Marshal(entries)); err != nil {
		return fmt.Errorf("host: local storage: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("host: local storage: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("host: local storage: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("host: local storage: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("host: local storage: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("host: local storage: %w", err)
	}
	return nil
}
