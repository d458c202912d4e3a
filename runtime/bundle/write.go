package bundle

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// zipEpoch is the modification time of every entry Write stores, so that the same manifest
// and files always give the same archive bytes.
func zipEpoch() time.Time { return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC) }

// Write writes a bundle with files (name → contents) to path, replacing any file there
// atomically. It fills in m.Files and m.ExecutableSHA256 from files (values given are
// replaced), validates the result and returns the bundle checksum.
func Write(path string, m Manifest, files map[string][]byte) (Digest, error) {
	m.Files = make(map[string]Digest, len(files))
	var total int64
	for name, data := range files {
		m.Files[name] = DigestOf(data)
		total += int64(len(data))
	}
	m.ExecutableSHA256 = m.Files[m.Executable]
	if err := m.ValidateBasic(); err != nil {
		return Digest{}, err
	}
	if total > MaxTotalSize {
		return Digest{}, fmt.Errorf("%w: %d bytes of files, at most %d", ErrTooLarge, total, MaxTotalSize)
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return Digest{}, fmt.Errorf("bundle: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	defer tmp.Close()

	zw := zip.NewWriter(tmp)
	add := func(name string, data []byte, mode fs.FileMode) error {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch()}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	if err := add(ManifestName, encodeManifest(&m), 0o644); err != nil {
		return Digest{}, fmt.Errorf("bundle: writing %s: %w", path, err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		mode := fs.FileMode(0o644)
		if name == m.Executable {
			mode = 0o755
		}
		if err := add(name, files[name], mode); err != nil {
			return Digest{}, fmt.Errorf("bundle: writing %s: %w", path, err)
		}
	}
	if err := zw.Close(); err != nil {
		return Digest{}, fmt.Errorf("bundle: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return Digest{}, fmt.Errorf("bundle: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return Digest{}, fmt.Errorf("bundle: writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return Digest{}, fmt.Errorf("bundle: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Digest{}, fmt.Errorf("bundle: %w", err)
	}
	return m.Checksum(), nil
}
