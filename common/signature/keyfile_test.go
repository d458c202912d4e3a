package signature

import (
	"bytes"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestAKeyFileRoundTripsWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "entity.pem")
	s := testSigner(t)
	if err := SaveSignerFile(path, s); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", perm)
	}
	back, err := LoadSignerFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Public() != s.Public() {
		t.Fatal("loaded key differs from the saved one")
	}
}

func TestSavingNeverOverwritesAKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "entity.pem")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SaveSignerFile(path, testSigner(t)); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("SaveSignerFile over an existing file: %v, want fs.ErrExist", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "precious" {
		t.Fatalf("existing file changed to %q", data)
	}
}

func TestLoadingRefusesKeyFilesOthersCanAccess(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []fs.FileMode{0o640, 0o604, 0o644, 0o660, 0o601, 0o666} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(dir, mode.String()+".pem")
			if err := SaveSignerFile(path, testSigner(t)); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSignerFile(path)
			if !errors.Is(err, ErrKeyFilePermissions) {
				t.Fatalf("LoadSignerFile: %v, want ErrKeyFilePermissions", err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte("chmod 600")) {
				t.Fatalf("error %q does not say how to fix it", err)
			}
		})
	}
}

func TestLoadingRejectsMalformedKeyFiles(t *testing.T) {
	block := func(typ string, headers map[string]string, b []byte) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: b})
	}
	good := block(keyFilePEMType, nil, testSeed())
	cases := []struct {
		name string
		data []byte
	}{
		{"an empty file", nil},
		{"no PEM block", []byte("not a key\n")},
		{"another block type", block("PRIVATE KEY", nil, testSeed())},
		{"a short seed", block(keyFilePEMType, nil, testSeed()[:31])},
		{"a seed and public key", block(keyFilePEMType, nil, append(testSeed(), testSigner(t).Public().String()...))},
		{"PEM headers", block(keyFilePEMType, map[string]string{"Proc-Type": "4,ENCRYPTED"}, testSeed())},
		{"data after the block", append(append([]byte(nil), good...), "junk"...)},
		{"two blocks", append(append([]byte(nil), good...), good...)},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i)))
			if err := os.WriteFile(path, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadSignerFile(path); !errors.Is(err, ErrMalformedKeyFile) {
				t.Fatalf("LoadSignerFile: %v, want ErrMalformedKeyFile", err)
			}
		})
	}
	t.Run("a directory", func(t *testing.T) {
		sub := filepath.Join(dir, "sub")
		if err := os.Mkdir(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSignerFile(sub); !errors.Is(err, ErrMalformedKeyFile) {
			t.Fatalf("LoadSignerFile: %v, want ErrMalformedKeyFile", err)
		}
	})
	t.Run("a missing file", func(t *testing.T) {
		if _, err := LoadSignerFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("LoadSignerFile: %v, want fs.ErrNotExist", err)
		}
	})
}

func TestLoadOrGenerateCreatesTheKeyOnceThenLoadsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.pem")
	first, err := LoadOrGenerateSignerFile(path, bytes.NewReader(testSeed()))
	if err != nil {
		t.Fatal(err)
	}
	if first.Public() != testSigner(t).Public() {
		t.Fatal("generated key does not come from the given reader")
	}
	// An exhausted reader proves the second call does not generate.
	second, err := LoadOrGenerateSignerFile(path, bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if second.Public() != first.Public() {
		t.Fatal("second call returned another key")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrGenerateSignerFile(path, bytes.NewReader(testSeed())); !errors.Is(err, ErrKeyFilePermissions) {
		t.Fatalf("readable key file: %v, want ErrKeyFilePermissions", err)
	}
}
