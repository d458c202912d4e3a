package bundle

import (
	"archive/zip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
)

// Bundle is an opened, fully verified bundle.
type Bundle struct {
	manifest Manifest
	checksum Digest
	files    map[string]*zip.File
	closer   io.Closer
}

// Open opens the bundle at path and verifies it (see OpenReader). The caller must Close it.
func Open(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bundle: %w", err)
	}
	b, err := OpenReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	b.closer = f
	return b, nil
}

// OpenReader reads a bundle of size bytes from r and verifies it: a zip archive of regular
// files (stored or deflated) with valid, unique names, at most MaxFiles of them besides the
// manifest and MaxTotalSize bytes in all; a canonical manifest.json that lists exactly those
// files; and every file matching its hash. r must stay readable until Close.
func OpenReader(r io.ReaderAt, size int64) (*Bundle, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(zr.File) > MaxFiles+1 {
		return nil, fmt.Errorf("%w: %d entries, at most %d", ErrTooLarge, len(zr.File), MaxFiles+1)
	}
	files := make(map[string]*zip.File, len(zr.File))
	var manifestFile *zip.File
	var total uint64
	for _, zf := range zr.File {
		if _, dup := files[zf.Name]; dup || (zf.Name == ManifestName && manifestFile != nil) {
			return nil, fmt.Errorf("%w: duplicate entry %q", ErrMalformed, zf.Name)
		}
		if zf.Method != zip.Store && zf.Method != zip.Deflate {
			return nil, fmt.Errorf("%w: entry %q uses compression method %d", ErrMalformed, zf.Name, zf.Method)
		}
		if !zf.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: entry %q is not a regular file (%v)", ErrMalformed, zf.Name, zf.Mode())
		}
		if zf.Name == ManifestName {
			manifestFile = zf
			continue
		}
		if err := ValidateName(zf.Name); err != nil {
			return nil, err
		}
		total += zf.UncompressedSize64
		if total > MaxTotalSize {
			return nil, fmt.Errorf("%w: more than %d bytes of files", ErrTooLarge, MaxTotalSize)
		}
		files[zf.Name] = zf
	}
	if manifestFile == nil {
		return nil, fmt.Errorf("%w: no %s", ErrMalformed, ManifestName)
	}
	if manifestFile.UncompressedSize64 > MaxManifestSize {
		return nil, fmt.Errorf("%w: manifest of %d bytes, at most %d", ErrTooLarge, manifestFile.UncompressedSize64, MaxManifestSize)
	}
	data, err := readEntry(manifestFile)
	if err != nil {
		return nil, err
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, err
	}
	if len(m.Files) != len(files) {
		return nil, fmt.Errorf("%w: the manifest lists %d files, the archive holds %d", ErrMalformed, len(m.Files), len(files))
	}
	for name, zf := range files {
		want, ok := m.Files[name]
		if !ok {
			return nil, fmt.Errorf("%w: %q is not in the manifest", ErrMalformed, name)
		}
		if err := checkEntry(zf, want, io.Discard); err != nil {
			return nil, err
		}
	}
	return &Bundle{manifest: *m, checksum: m.Checksum(), files: files}, nil
}

// readEntry returns the contents of zf, whose declared size the caller has capped.
func readEntry(zf *zip.File) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrMalformed, zf.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrMalformed, zf.Name, err)
	}
	return data, nil
}

// checkEntry copies zf to w and checks it against want. archive/zip refuses to read past the
// declared size and checks the CRC at the end, so a lying header cannot inflate the copy.
func checkEntry(zf *zip.File, want Digest, w io.Writer) error {
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrMalformed, zf.Name, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(h, w), rc); err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return fmt.Errorf("bundle: writing %q: %w", zf.Name, err)
		}
		return fmt.Errorf("%w: reading %q: %v", ErrMalformed, zf.Name, err)
	}
	var got Digest
	h.Sum(got[:0])
	if got != want {
		return fmt.Errorf("%w: %q has SHA-256 %s, the manifest says %s", ErrDigestMismatch, zf.Name, got, want)
	}
	return nil
}

// Manifest returns a copy of the bundle's manifest.
func (b *Bundle) Manifest() Manifest {
	m := b.manifest
	m.Files = maps.Clone(b.manifest.Files)
	return m
}

// Checksum returns the bundle checksum (see Manifest.Checksum).
func (b *Bundle) Checksum() Digest { return b.checksum }

// Close closes the archive.
func (b *Bundle) Close() error {
	if b.closer == nil {
		return nil
	}
	if err := b.closer.Close(); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}
