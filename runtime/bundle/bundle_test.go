package bundle

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
)

func testID(b byte) namespace.Namespace {
	var id namespace.Namespace
	id[0] = 0x80 // the test flag
	id[31] = b
	return id
}

func testFiles(tag string) map[string][]byte {
	return map[string][]byte{
		"bin/runtime":       []byte("\x7fELF runtime " + tag),
		"data/genesis.json": []byte(`{"tag":"` + tag + `"}`),
		"README":            []byte("readme"),
	}
}

func testManifest(v version.Version) Manifest {
	return Manifest{ID: testID(1), Version: v, Executable: "bin/runtime"}
}

func writeTestBundle(t *testing.T, dir string, m Manifest, files map[string][]byte) (string, Digest) {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("bundle-%s.zip", m.Version))
	sum, err := Write(path, m, files)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return path, sum
}

func TestAWrittenBundleOpensWithTheSameManifestAndChecksum(t *testing.T) {
	v := version.Version{Major: 1, Minor: 2, Patch: 3}
	files := testFiles("a")
	path, sum := writeTestBundle(t, t.TempDir(), testManifest(v), files)

	b, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	m := b.Manifest()
	if m.ID != testID(1) || m.Version != v || m.Executable != "bin/runtime" {
		t.Errorf("manifest %+v", m)
	}
	if len(m.Files) != len(files) {
		t.Errorf("manifest lists %d files, want %d", len(m.Files), len(files))
	}
	for name, data := range files {
		if m.Files[name] != DigestOf(data) {
			t.Errorf("%s: hash %s, want %s", name, m.Files[name], DigestOf(data))
		}
	}
	if m.ExecutableSHA256 != DigestOf(files["bin/runtime"]) {
		t.Errorf("executable hash %s", m.ExecutableSHA256)
	}
	if b.Checksum() != sum || m.Checksum() != sum {
		t.Errorf("checksum %s after Open, %s from Write", b.Checksum(), sum)
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	m := testManifest(version.Version{Major: 1})
	a, sumA := writeTestBundle(t, filepath.Join(dir), m, testFiles("a"))
	first, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	_, sumB := writeTestBundle(t, dir, m, testFiles("a"))
	second, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) || sumA != sumB {
		t.Fatal("the same manifest and files gave different bundles")
	}
}

// The checksum is consensus-relevant (bundle_checksum in runtime descriptors): this vector
// freezes the manifest's CBOR encoding.
func TestChecksumGoldenVector(t *testing.T) {
	m := Manifest{
		ID:         testID(1),
		Version:    version.Version{Major: 1, Minor: 2, Patch: 3},
		Executable: "bin/runtime",
		Files: map[string]Digest{
			"bin/runtime": DigestOf([]byte("runtime")),
			"README":      DigestOf([]byte("readme")),
		},
	}
	m.ExecutableSHA256 = m.Files["bin/runtime"]
	const wantCBOR = "a5" + // map(5), keys in canonical order
		"626964" + "5820" + "8000000000000000000000000000000000000000000000000000000000000001" + // id
		"6566696c6573" + "a2" + // files: map(2)
		"66524541444d45" + "5820" + "711a6108ba2ce6ca93dd47d6817f2361db10d8ab6eec89460b2dfc2c325efabe" +
		"6b62696e2f72756e74696d65" + "5820" + "d92c6a81b2ff50096bcda80885427d1f59a25b5f483f7055523504925d16ab23" +
		"6776657273696f6e" + "a3" + "656d616a6f7201" + "656d696e6f7202" + "657061746368" + "03" + // version
		"6a65786563757461626c65" + "6b62696e2f72756e74696d65" + // executable
		"7165786563757461626c655f736861323536" + "5820" + "d92c6a81b2ff50096bcda80885427d1f59a25b5f483f7055523504925d16ab23"
	const wantChecksum = "6a875380e2f0f4f81f9f4f2055957df1595ca52caeaee4bf3ad9669e3bc05080"
	if got := hex.EncodeToString(cbor.Marshal(&m)); got != wantCBOR {
		t.Errorf("canonical manifest\n%s, want\n%s", got, wantCBOR)
	}
	if got := m.Checksum().String(); got != wantChecksum {
		t.Fatalf("checksum %s, want %s", got, wantChecksum)
	}
}

func TestTheChecksumCoversEveryFileAndField(t *testing.T) {
	dir := t.TempDir()
	base := testManifest(version.Version{Major: 1})
	_, sum := writeTestBundle(t, dir, base, testFiles("a"))
	changed := func(name string, m Manifest, files map[string][]byte) {
		t.Helper()
		sub := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, other := writeTestBundle(t, sub, m, files); other == sum {
			t.Errorf("%s: checksum unchanged", name)
		}
	}
	files := testFiles("a")
	files["README"] = []byte("other readme")
	changed("a data file", base, files)
	files = testFiles("a")
	files["extra"] = []byte{}
	changed("an added file", base, files)
	other := base
	other.Version.Patch = 1
	changed("the version", other, testFiles("a"))
	other = base
	other.ID = testID(2)
	changed("the id", other, testFiles("a"))
	other = base
	other.Executable = "README"
	changed("the executable", other, testFiles("a"))
}

// rawEntry is one entry of a hand-made archive.
type rawEntry struct {
	name string
	data []byte
	mode fs.FileMode
}

// rawZip builds an archive entry by entry, without Write's checks.
func rawZip(t *testing.T, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.name, "/") {
			continue // zip refuses data for a directory name
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// manifestFor returns a canonical manifest entry listing files.
func manifestFor(files map[string][]byte, executable string) rawEntry {
	m := testManifest(version.Version{Major: 1})
	m.Executable = executable
	m.Files = make(map[string]Digest)
	for name, data := range files {
		m.Files[name] = DigestOf(data)
	}
	m.ExecutableSHA256 = m.Files[executable]
	return rawEntry{name: ManifestName, data: encodeManifest(&m)}
}

func openBytes(b []byte) error {
	bundle, err := OpenReader(bytes.NewReader(b), int64(len(b)))
	if err == nil {
		bundle.Close()
	}
	return err
}

func TestOpenAcceptsAHandMadeCanonicalBundle(t *testing.T) {
	files := map[string][]byte{"run": []byte("exe")}
	if err := openBytes(rawZip(t, manifestFor(files, "run"), rawEntry{"run", files["run"], 0o755})); err != nil {
		t.Fatalf("OpenReader: %v", err)
	}
}

func TestOpenRejectsATamperedFile(t *testing.T) {
	dir := t.TempDir()
	files := testFiles("a")
	path, sum := writeTestBundle(t, dir, testManifest(version.Version{Major: 1}), files)

	// Rebuild the archive with the original manifest but one file changed.
	tampered := map[string][]byte{}
	for k, v := range files {
		tampered[k] = v
	}
	tampered["bin/runtime"] = []byte("\x7fELF evil")
	b, _ := Open(path)
	m := b.Manifest()
	b.Close()
	entries := []rawEntry{{name: ManifestName, data: encodeManifest(&m)}}
	for name, data := range tampered {
		entries = append(entries, rawEntry{name: name, data: data})
	}
	err := openBytes(rawZip(t, entries...))
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), "bin/runtime") {
		t.Fatalf("OpenReader: %v, want ErrDigestMismatch naming bin/runtime", err)
	}

	// Flipping any bit of the archive either breaks it, or touches metadata Open ignores
	// (times, permission bits): what Open accepts is always the original bundle.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		flipped := bytes.Clone(raw)
		flipped[i] ^= 0x01
		bb, err := OpenReader(bytes.NewReader(flipped), int64(len(flipped)))
		if err != nil {
			continue
		}
		if bb.Checksum() != sum {
			t.Fatalf("flipping byte %d gave another bundle, %s, and Open accepted it", i, bb.Checksum())
		}
	}
}

func TestOpenRejectsUnsafeNames(t *testing.T) {
	good := map[string][]byte{"run": []byte("exe")}
	for _, name := range []string{
		"../evil", "/etc/passwd", "a/../../evil", "a/./b", "./a", "a//b", "a/", `a\b`, `..\evil`,
		"a/..", "..", ".", "a\x00b", "a\nb", "",
	} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			// Listed only in the archive.
			err := openBytes(rawZip(t, manifestFor(good, "run"), rawEntry{"run", good["run"], 0}, rawEntry{name, []byte("x"), 0}))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("archive entry: %v, want ErrMalformed", err)
			}
			// Listed in the manifest too.
			files := map[string][]byte{"run": []byte("exe"), name: []byte("x")}
			err = openBytes(rawZip(t, manifestFor(files, "run"), rawEntry{"run", files["run"], 0}, rawEntry{name, []byte("x"), 0}))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("manifest entry: %v, want ErrMalformed", err)
			}
			if _, err := Write(filepath.Join(t.TempDir(), "b.zip"), testManifest(version.Version{}), files); err == nil {
				t.Errorf("Write accepted the name")
			}
		})
	}
}

func TestOpenRejectsMalformedArchives(t *testing.T) {
	files := map[string][]byte{"run": []byte("exe"), "lib/x": []byte("lib")}
	manifest := manifestFor(files, "run")
	run := rawEntry{"run", files["run"], 0o755}
	lib := rawEntry{"lib/x", files["lib/x"], 0}
	nonCanonical := manifest
	nonCanonical.data = bytes.ReplaceAll(manifest.data, []byte("  "), []byte("   "))
	unknownField := manifest
	unknownField.data = bytes.Replace(manifest.data, []byte("{\n"), []byte("{\n  \"extra\": 1,\n"), 1)
	duplicateKey := manifest
	duplicateKey.data = bytes.Replace(manifest.data, []byte("{\n"), []byte("{\n  \"executable\": \"lib/x\",\n"), 1)
	noExec := manifestFor(files, "missing")

	for _, c := range []struct {
		name    string
		entries []rawEntry
		want    error
	}{
		{"no manifest", []rawEntry{run, lib}, ErrMalformed},
		{"a duplicate file", []rawEntry{manifest, run, lib, lib}, ErrMalformed},
		{"a duplicate manifest", []rawEntry{manifest, manifest, run, lib}, ErrMalformed},
		{"a file the manifest does not list", []rawEntry{manifest, run, lib, {"extra", nil, 0}}, ErrMalformed},
		{"a listed file missing", []rawEntry{manifest, run}, ErrMalformed},
		{"a directory entry", []rawEntry{manifest, run, lib, {"lib/", nil, fs.ModeDir | 0o755}}, ErrMalformed},
		{"a symbolic link", []rawEntry{manifest, run, {"lib/x", []byte("/etc/shadow"), fs.ModeSymlink | 0o777}}, ErrMalformed},
		{"a non-canonical manifest", []rawEntry{nonCanonical, run, lib}, ErrMalformed},
		{"an unknown manifest field", []rawEntry{unknownField, run, lib}, ErrMalformed},
		{"a duplicate manifest key", []rawEntry{duplicateKey, run, lib}, ErrMalformed},
		{"an executable not among the files", []rawEntry{noExec, run, lib}, ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := openBytes(rawZip(t, c.entries...)); !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
	if err := openBytes([]byte("not a zip")); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage: %v, want ErrMalformed", err)
	}
}

// rawDeflated adds an entry whose header declares size bytes while its deflate stream holds data.
func rawDeflated(t *testing.T, zw *zip.Writer, name string, data []byte, size uint64) {
	t.Helper()
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	fw.Close()
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: size}
	h.SetMode(0o644)
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
}

func TestOpenRejectsZipBombs(t *testing.T) {
	bomb := make([]byte, 256<<10) // 256 KiB of zeros compress to a few hundred bytes
	files := map[string][]byte{"run": []byte("exe"), "bomb": bomb}

	t.Run("declared sizes past the cap", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		m := manifestFor(files, "run")
		rawDeflated(t, zw, ManifestName, m.data, uint64(len(m.data)))
		rawDeflated(t, zw, "run", files["run"], 3)
		rawDeflated(t, zw, "bomb", bomb, MaxTotalSize)
		zw.Close()
		if err := openBytes(buf.Bytes()); !errors.Is(err, ErrTooLarge) {
			t.Errorf("got %v, want ErrTooLarge", err)
		}
	})
	t.Run("a header that understates the size", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		m := manifestFor(files, "run")
		rawDeflated(t, zw, ManifestName, m.data, uint64(len(m.data)))
		rawDeflated(t, zw, "run", files["run"], 3)
		rawDeflated(t, zw, "bomb", bomb, 10)
		zw.Close()
		if err := openBytes(buf.Bytes()); !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
	t.Run("a huge manifest", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		rawDeflated(t, zw, ManifestName, make([]byte, MaxManifestSize+1), MaxManifestSize+1)
		zw.Close()
		if err := openBytes(buf.Bytes()); !errors.Is(err, ErrTooLarge) {
			t.Errorf("got %v, want ErrTooLarge", err)
		}
	})
	t.Run("too many files", func(t *testing.T) {
		entries := []rawEntry{manifestFor(map[string][]byte{"run": nil}, "run")}
		for i := range MaxFiles + 1 {
			entries = append(entries, rawEntry{fmt.Sprintf("f%d", i), nil, 0})
		}
		if err := openBytes(rawZip(t, entries...)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("got %v, want ErrTooLarge", err)
		}
	})
}

func TestTwoVersionsExtractSideBySide(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	v1, v2 := version.Version{Major: 1}, version.Version{Major: 2}
	p1, sum1 := writeTestBundle(t, dir, testManifest(v1), testFiles("one"))
	p2, sum2 := writeTestBundle(t, dir, testManifest(v2), testFiles("two"))

	var extracted []*Extracted
	for _, p := range []string{p1, p2} {
		b, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		e, err := b.Extract(root)
		b.Close()
		if err != nil {
			t.Fatalf("Extract: %v", err)
		}
		extracted = append(extracted, e)
	}
	if extracted[0].Dir != ExtractedDir(root, testID(1), v1, sum1) || extracted[1].Dir != ExtractedDir(root, testID(1), v2, sum2) {
		t.Fatalf("extracted to %s and %s", extracted[0].Dir, extracted[1].Dir)
	}
	for i, tag := range []string{"one", "two"} {
		e := extracted[i]
		for name, want := range testFiles(tag) {
			got, err := os.ReadFile(filepath.Join(e.Dir, name))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s/%s: %q, %v; want %q", e.Dir, name, got, err, want)
			}
		}
		st, err := os.Stat(e.ExecutablePath())
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("executable %s: %v, %v; want mode 0755", e.ExecutablePath(), st, err)
		}
		st, err = os.Stat(filepath.Join(e.Dir, "README"))
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("README: %v, %v; want mode 0644", st, err)
		}
		if _, err := VerifyExtracted(e.Dir, e.Checksum); err != nil {
			t.Errorf("VerifyExtracted: %v", err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(root, testID(1).String()))
	if len(entries) != 2 {
		t.Errorf("%d entries beside each other, want 2 (no temporary leftovers): %v", len(entries), entries)
	}
}

func TestExtractReusesAVerifiedDirectoryAndRefusesATamperedOne(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	path, sum := writeTestBundle(t, dir, testManifest(version.Version{Major: 1}), testFiles("a"))
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	e, err := b.Extract(root)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := b.Extract(root); err != nil || again.Dir != e.Dir {
		t.Fatalf("second Extract: %v, %v", again, err)
	}

	if _, err := VerifyExtracted(e.Dir, DigestOf([]byte("another bundle"))); !errors.Is(err, ErrChecksumMismatch) {
		t.Errorf("VerifyExtracted with another checksum: %v, want ErrChecksumMismatch", err)
	}
	tamper := []struct {
		name string
		do   func(t *testing.T, dir string)
		undo func(t *testing.T, dir string)
	}{
		{"a changed file", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "README"), "changed", 0o644)
		}, func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "README"), "readme", 0o644)
		}},
		{"an extra file", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "bin", "extra"), "x", 0o755)
		}, func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "bin", "extra"))
		}},
		{"a missing file", func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "README"))
		}, func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "README"), "readme", 0o644)
		}},
		{"a symbolic link", func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "README"))
			writeFile(t, filepath.Join(t.TempDir(), "target"), "readme", 0o644)
			if err := os.Symlink(filepath.Join(d, "data", "genesis.json"), filepath.Join(d, "README")); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "README"))
			writeFile(t, filepath.Join(d, "README"), "readme", 0o644)
		}},
		{"a non-executable executable", func(t *testing.T, d string) {
			os.Chmod(filepath.Join(d, "bin", "runtime"), 0o644)
		}, func(t *testing.T, d string) {
			os.Chmod(filepath.Join(d, "bin", "runtime"), 0o755)
		}},
	}
	for _, c := range tamper {
		t.Run(c.name, func(t *testing.T) {
			c.do(t, e.Dir)
			defer c.undo(t, e.Dir)
			if _, err := VerifyExtracted(e.Dir, sum); !errors.Is(err, ErrDigestMismatch) {
				t.Errorf("VerifyExtracted: %v, want ErrDigestMismatch", err)
			}
			if _, err := b.Extract(root); !errors.Is(err, ErrDigestMismatch) {
				t.Errorf("Extract over it: %v, want ErrDigestMismatch", err)
			}
		})
	}
	if _, err := VerifyExtracted(e.Dir, sum); err != nil {
		t.Fatalf("after undoing every change: %v", err)
	}
}

func writeFile(t *testing.T, path, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRefusesAnInvalidManifest(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		m     Manifest
		files map[string][]byte
	}{
		{"a zero id", Manifest{Executable: "run"}, map[string][]byte{"run": nil}},
		{"no files", testManifest(version.Version{}), nil},
		{"a missing executable", testManifest(version.Version{}), map[string][]byte{"run": nil}},
		{"the manifest's own name", Manifest{ID: testID(1), Executable: "run"}, map[string][]byte{"run": nil, ManifestName: nil}},
		{"a file that is another's directory", Manifest{ID: testID(1), Executable: "run"}, map[string][]byte{"run": nil, "lib": nil, "lib/x": nil}},
	} {
		if _, err := Write(filepath.Join(dir, "b.zip"), c.m, c.files); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", c.name, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed writes left %v", entries)
	}
}

func FuzzOpenReader(f *testing.F) {
	files := map[string][]byte{"run": []byte("exe"), "lib/x": []byte("lib")}
	m := manifestFor(files, "run")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []rawEntry{m, {"run", files["run"], 0o755}, {"lib/x", files["lib/x"], 0}} {
		w, _ := zw.Create(e.name)
		w.Write(e.data)
	}
	zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := OpenReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		defer b.Close()
		m := b.Manifest()
		if err := m.ValidateBasic(); err != nil {
			t.Fatalf("Open accepted an invalid manifest: %v", err)
		}
		if m.Checksum() != b.Checksum() {
			t.Fatal("checksum differs from the manifest's")
		}
		if _, err := b.Extract(t.TempDir()); err != nil {
			t.Fatalf("Extract of an accepted bundle: %v", err)
		}
	})
}
