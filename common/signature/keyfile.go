package signature

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// This file is the only disk I/O in common/*.

// keyFilePEMType is the PEM block type of a key file; the block holds the 32-byte seed.
const keyFilePEMType = "ATOLL ED25519 PRIVATE KEY"

// keyFileMode is the permission of key files written here, and the most a key file may have:
// no access for group or others.
const keyFileMode fs.FileMode = 0o600

var (
	// ErrKeyFilePermissions is returned for a key file that group or others can access.
	ErrKeyFilePermissions = errors.New("signature: key file is accessible by group or others")
	// ErrMalformedKeyFile is returned for a key file that is not one PEM block of the
	// expected type holding a seed.
	ErrMalformedKeyFile = errors.New("signature: malformed key file")
)

// SaveSignerFile writes s's seed to a new PEM file at path with mode 0600. It refuses to
// overwrite an existing file, so a key is never lost by accident.
func SaveSignerFile(path string, s *MemorySigner) (err error) {
	seed := s.Seed()
	if seed == nil {
		return fmt.Errorf("signature: saving key file %s: signer was reset", path)
	}
	defer clear(seed)
	data := pem.EncodeToMemory(&pem.Block{Type: keyFilePEMType, Bytes: seed})
	defer clear(data)

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, keyFileMode)
	if err != nil {
		return fmt.Errorf("signature: creating key file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("signature: closing key file %s: %w", path, cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	// The umask may only have removed bits; make the mode exact regardless.
	if err := f.Chmod(keyFileMode); err != nil {
		return fmt.Errorf("signature: setting key file mode %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("signature: writing key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("signature: syncing key file %s: %w", path, err)
	}
	return nil
}

// LoadSignerFile reads the key file at path. It fails with ErrKeyFilePermissions when group or
// others have any access to the file, and with ErrMalformedKeyFile when the content is not a
// single PEM block of the key file type holding a 32-byte seed.
func LoadSignerFile(path string) (*MemorySigner, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signature: opening key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("signature: key file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrMalformedKeyFile, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 on it", ErrKeyFilePermissions, path, perm)
	}
	// A key file is tiny; read a little more than the largest valid one to detect junk.
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("signature: reading key file %s: %w", path, err)
	}
	defer clear(data)
	block, rest := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf("%w: %s holds no PEM block", ErrMalformedKeyFile, path)
	case block.Type != keyFilePEMType:
		return nil, fmt.Errorf("%w: %s holds a %q block, want %q", ErrMalformedKeyFile, path, block.Type, keyFilePEMType)
	case len(block.Headers) != 0:
		return nil, fmt.Errorf("%w: %s has PEM headers", ErrMalformedKeyFile, path)
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, fmt.Errorf("%w: %s has data after the PEM block", ErrMalformedKeyFile, path)
	case len(block.Bytes) != SeedSize:
		return nil, fmt.Errorf("%w: %s holds %d bytes, want a %d-byte seed", ErrMalformedKeyFile, path, len(block.Bytes), SeedSize)
	}
	defer clear(block.Bytes)
	return NewSignerFromSeed(block.Bytes)
}

// LoadOrGenerateSignerFile loads the key file at path, or, when there is none, generates a key
// with seed from rand (crypto/rand.Reader outside tests) and saves it there.
func LoadOrGenerateSignerFile(path string, rand io.Reader) (*MemorySigner, error) {
	s, err := LoadSignerFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	if s, err = GenerateSigner(rand); err != nil {
		return nil, err
	}
	if err := SaveSignerFile(path, s); err != nil {
		s.Reset()
		return nil, err
	}
	return s, nil
}
