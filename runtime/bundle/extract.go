package bundle

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
)

// Extracted is a bundle unpacked into a directory and verified.
type Extracted struct {
	// Dir is the directory holding the bundle's files and its manifest.
	Dir string
	// Manifest is the bundle's manifest.
	Manifest Manifest
	// Checksum is the bundle checksum.
	Checksum Digest
}

// ExecutablePath returns the host path of the bundle's executable.
func (e *Extracted) ExecutablePath() string {
	return filepath.Join(e.Dir, filepath.FromSlash(e.Manifest.Executable))
}

// ExtractedDir returns the directory under root where Extract puts the bundle with the given
// runtime ID, version and checksum: root/<id>/<version>-<checksum>.
func ExtractedDir(root string, id namespace.Namespace, v version.Version, checksum Digest) string {
	return filepath.Join(root, id.String(), v.String()+"-"+checksum.String())
}

// Extract unpacks b under root into ExtractedDir(root, id, version, checksum): its files with
// mode 0644 (the executable 0755) and its manifest. The directory appears atomically, fully
// written and synced, by a rename; when it exists already it is verified as by
// VerifyExtracted and reused. Every file's hash is checked again while it is written.
func (b *Bundle) Extract(root string) (*Extracted, error) {
	m := &b.manifest
	dir := ExtractedDir(root, m.ID, m.Version, b.checksum)
	if _, err := os.Lstat(dir); err == nil {
		return VerifyExtracted(dir, b.checksum)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".extract-")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer os.RemoveAll(tmp) // nothing left to remove after the rename
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(m.Files)) {
		if err := b.extractFile(tmp, name); err != nil {
			return nil, err
		}
	}
	if err := writeSynced(filepath.Join(tmp, ManifestName), encodeManifest(m), 0o644); err != nil {
		return nil, err
	}
	if err := syncDir(tmp); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Lstat(dir); statErr == nil {
			// Extracted concurrently by someone else.
			return VerifyExtracted(dir, b.checksum)
		}
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := syncDir(parent); err != nil {
		return nil, err
	}
	return &Extracted{Dir: dir, Manifest: b.Manifest(), Checksum: b.checksum}, nil
}

func (b *Bundle) extractFile(dir, name string) error {
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	mode := fs.FileMode(0o644)
	if name == b.manifest.Executable {
		mode = 0o755
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	if err := checkEntry(b.files[name], b.manifest.Files[name], f); err != nil {
		return err
	}
	// The umask may have narrowed the mode.
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

// VerifyExtracted checks an extracted bundle directory before the host starts its runtime:
// its manifest must have the checksum want (the registry's bundle_checksum), the directory
// must hold exactly the manifest's files as regular files (no symbolic links, nothing extra),
// each matching its hash, and the executable must be executable.
func VerifyExtracted(dir string, want Digest) (*Extracted, error) {
	mf, err := openRegular(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(mf, MaxManifestSize+1))
	mf.Close()
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, dir)
	}
	if got := m.Checksum(); got != want {
		return nil, fmt.Errorf("%w: %s holds bundle %s, want %s", ErrChecksumMismatch, dir, got, want)
	}
	seen := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if name == ManifestName {
			return nil
		}
		hash, ok := m.Files[name]
		if !ok {
			return fmt.Errorf("%w: %s holds %q, which the manifest does not list", ErrDigestMismatch, dir, name)
		}
		seen++
		return verifyFile(path, hash, name == m.Executable)
	})
	if err != nil {
		if errors.Is(err, ErrDigestMismatch) || errors.Is(err, ErrMalformed) {
			return nil, err
		}
		return nil, fmt.Errorf("bundle: verifying %s: %w", dir, err)
	}
	if seen != len(m.Files) {
		return nil, fmt.Errorf("%w: %s holds %d of the manifest's %d files", ErrDigestMismatch, dir, seen, len(m.Files))
	}
	return &Extracted{Dir: dir, Manifest: *m, Checksum: want}, nil
}

func verifyFile(path string, want Digest, executable bool) error {
	f, err := openRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if executable {
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		if st.Mode().Perm()&0o100 == 0 {
			return fmt.Errorf("%w: executable %s has mode %v", ErrDigestMismatch, path, st.Mode())
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, MaxTotalSize+1)); err != nil {
		return fmt.Errorf("bundle: reading %s: %w", path, err)
	}
	var got Digest
	h.Sum(got[:0])
	if got != want {
		return fmt.Errorf("%w: %s has SHA-256 %s, the manifest says %s", ErrDigestMismatch, path, got, want)
	}
	return nil
}

// openRegular opens path for reading, refusing a symbolic link or anything but a regular file.
func openRegular(path string) (*os.File, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file (%v)", ErrDigestMismatch, path, st.Mode())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return f, nil
}

func writeSynced(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("bundle: syncing %s: %w", dir, err)
	}
	return nil
}
