// Package bundle reads, writes and unpacks runtime bundles.
//
// A bundle is a zip archive holding manifest.json and the runtime's files. The manifest names
// the runtime (ID, Version), its executable, and the SHA-256 of every file; the bundle's
// checksum (the descriptor's bundle_checksum, DESIGN.md §4) is the SHA-256 of the manifest's
// canonical CBOR encoding. Since the manifest pins every file's hash, the checksum covers the
// whole bundle: two bundles with one checksum have identical files.
//
// Bundles are untrusted input. Open rejects anything but a plain set of regular files with
// clean relative names, each listed in the manifest exactly once and matching its hash, within
// the size caps below; manifest.json must be in the exact form Write produces. Extract unpacks
// a bundle into a directory of its own per (ID, Version, checksum), so that several versions
// of a runtime sit side by side, and VerifyExtracted checks such a directory against the
// checksum the registry expects before the host starts the runtime.
//
// A Bundle holds its archive open until Close; its methods are safe for concurrent use.
package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
)

// ManifestName is the manifest's name in a bundle and in an extracted bundle's directory.
const ManifestName = "manifest.json"

// Size caps on untrusted bundles.
const (
	// MaxManifestSize caps manifest.json.
	MaxManifestSize = 1 << 20
	// MaxFiles caps the number of files besides the manifest.
	MaxFiles = 1024
	// MaxTotalSize caps the sum of the uncompressed sizes of all files.
	MaxTotalSize = 1 << 30
	// MaxNameLength caps a file name (a slash-separated relative path).
	MaxNameLength = 1024
)

var (
	// ErrMalformed is returned for a bundle or manifest that breaks the format's rules.
	ErrMalformed = errors.New("bundle: malformed bundle")
	// ErrTooLarge is returned for a bundle past a size cap.
	ErrTooLarge = errors.New("bundle: bundle too large")
	// ErrDigestMismatch is returned when a file does not match its hash in the manifest.
	ErrDigestMismatch = errors.New("bundle: file does not match the manifest")
	// ErrChecksumMismatch is returned when a bundle's checksum is not the one expected.
	ErrChecksumMismatch = errors.New("bundle: bundle checksum mismatch")
)

// Digest is a SHA-256 hash. Its text form (in JSON) is lowercase hex.
type Digest [sha256.Size]byte

// DigestOf returns the SHA-256 of data.
func DigestOf(data []byte) Digest { return sha256.Sum256(data) }

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText returns the lowercase hex form.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText accepts exactly 64 lowercase hex digits.
func (d *Digest) UnmarshalText(text []byte) error {
	if len(text) != 2*sha256.Size || bytes.ContainsAny(text, "ABCDEF") {
		return fmt.Errorf("%w: digest %q is not %d lowercase hex digits", ErrMalformed, text, 2*sha256.Size)
	}
	if _, err := hex.Decode(d[:], text); err != nil {
		return fmt.Errorf("%w: digest %q: %v", ErrMalformed, text, err)
	}
	return nil
}

// Manifest describes a bundle.
type Manifest struct {
	// ID is the runtime the bundle implements.
	ID namespace.Namespace `json:"id" cbor:"id"`
	// Version is the runtime version.
	Version version.Version `json:"version" cbor:"version"`
	// Executable is the name, within the bundle, of the program the host starts.
	Executable string `json:"executable" cbor:"executable"`
	// ExecutableSHA256 is the executable's hash; it equals Files[Executable].
	ExecutableSHA256 Digest `json:"executable_sha256" cbor:"executable_sha256"`
	// Files maps the name of every file in the bundle but the manifest to its hash.
	Files map[string]Digest `json:"files" cbor:"files"`
}

// Checksum is the bundle checksum: the SHA-256 of m's canonical CBOR encoding.
func (m *Manifest) Checksum() Digest {
	return DigestOf(cbor.Marshal(m))
}

// ValidateBasic checks m on its own: a non-zero ID, between 1 and MaxFiles files with valid
// names none of which is a directory of another, and an executable that is one of them with
// the same hash.
func (m *Manifest) ValidateBasic() error {
	if m.ID.IsZero() {
		return fmt.Errorf("%w: zero runtime ID", ErrMalformed)
	}
	if len(m.Files) == 0 {
		return fmt.Errorf("%w: no files", ErrMalformed)
	}
	if len(m.Files) > MaxFiles {
		return fmt.Errorf("%w: %d files, at most %d", ErrTooLarge, len(m.Files), MaxFiles)
	}
	for name := range m.Files {
		if err := ValidateName(name); err != nil {
			return err
		}
		// A file cannot also be a directory of another.
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if _, ok := m.Files[dir]; ok {
				return fmt.Errorf("%w: %q is both a file and the directory of %q", ErrMalformed, dir, name)
			}
		}
	}
	h, ok := m.Files[m.Executable]
	if !ok {
		return fmt.Errorf("%w: executable %q is not among the files", ErrMalformed, m.Executable)
	}
	if h != m.ExecutableSHA256 {
		return fmt.Errorf("%w: executable_sha256 %s differs from the hash of %q, %s", ErrMalformed, m.ExecutableSHA256, m.Executable, h)
	}
	return nil
}

// ValidateName checks a file name in a bundle: a clean, relative, slash-separated path of at
// most MaxNameLength bytes without empty, "." or ".." components, backslashes, NULs or other
// control characters, and not the manifest's name.
func ValidateName(name string) error {
	switch {
	case name == "" || len(name) > MaxNameLength:
		return fmt.Errorf("%w: file name of %d bytes", ErrMalformed, len(name))
	case name == ManifestName:
		return fmt.Errorf("%w: %q is reserved for the manifest", ErrMalformed, name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("%w: absolute file name %q", ErrMalformed, name)
	case strings.ContainsRune(name, '\\'):
		return fmt.Errorf("%w: file name %q contains a backslash", ErrMalformed, name)
	case path.Clean(name) != name:
		return fmt.Errorf("%w: file name %q is not clean", ErrMalformed, name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: file name %q contains a control character", ErrMalformed, name)
		}
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("%w: file name %q has a %q component", ErrMalformed, name, part)
		}
	}
	return nil
}

// encodeManifest returns manifest.json's exact bytes for m.
func encodeManifest(m *Manifest) []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		// Every field marshals; only a broken invariant gets here.
		panic(fmt.Sprintf("bundle: encoding manifest: %v", err))
	}
	return append(b, '\n')
}

// decodeManifest strictly decodes manifest.json: no unknown fields, no trailing data, and the
// bytes must be exactly what encodeManifest gives (which also rules out duplicate keys).
func decodeManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("%w: manifest of %d bytes, at most %d", ErrTooLarge, len(data), MaxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	if !bytes.Equal(encodeManifest(&m), data) {
		return nil, fmt.Errorf("%w: manifest is not in canonical form", ErrMalformed)
	}
	if err := m.ValidateBasic(); err != nil {
		return nil, err
	}
	return &m, nil
}
