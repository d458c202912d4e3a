package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestAStaticExecutableNeedsNoLibraries(t *testing.T) {
	libs, err := newLibraryResolver().resolve(escapeBin)
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) != 0 {
		t.Fatalf("static helper needs %v", libs)
	}
}

func TestADynamicExecutableNeedsItsInterpreterAndLibc(t *testing.T) {
	const sh = "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		t.Skipf("no %s", sh)
	}
	libs, err := newLibraryResolver().resolve(sh)
	if err != nil {
		t.Fatal(err)
	}
	var interp, libc bool
	for _, l := range libs {
		interp = interp || strings.Contains(filepath.Base(l), "ld-linux") || strings.Contains(filepath.Base(l), "ld-musl")
		libc = libc || strings.HasPrefix(filepath.Base(l), "libc.so") || strings.HasPrefix(filepath.Base(l), "libc.musl")
		if !filepath.IsAbs(l) {
			t.Errorf("relative library path %q", l)
		}
	}
	if !interp || !libc {
		t.Fatalf("%s needs %v; want its ELF interpreter and libc", sh, libs)
	}
}

func TestAScriptNeedsItsInterpreter(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	script := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh -e\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	libs, err := newLibraryResolver().resolve(script)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(libs, "/bin/sh") || len(libs) < 2 {
		t.Fatalf("script needs %v; want /bin/sh and its libraries", libs)
	}
}

func TestANonExecutableIsRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, []byte("not an ELF file"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := newLibraryResolver().resolve(file); !errors.Is(err, ErrNotExecutable) {
		t.Fatalf("got %v, want ErrNotExecutable", err)
	}
}

func TestLdSoConfIncludesAreFollowed(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ld.so.conf", "# comment\ninclude conf.d/*.conf\n/opt/first\n")
	write("conf.d/b.conf", "/usr/lib/b # trailing\n")
	write("conf.d/a.conf", "/usr/lib/a\nrelative/ignored\n")
	got := readLdSoConf(filepath.Join(dir, "ld.so.conf"), 0)
	want := []string{"/usr/lib/a", "/usr/lib/b", "/opt/first"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
