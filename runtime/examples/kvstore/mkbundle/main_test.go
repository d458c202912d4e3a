package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/atoll-project/atoll/runtime/bundle"
)

func TestMkbundleWritesABundleThatOpensAndNamesTheExecutable(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "kvstore-v2")
	if err := os.WriteFile(exe, []byte("\x7fELF not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "kvstore-v2.atb")
	if err := run([]string{"-version", "2", "-executable", exe, "-out", out}); err != nil {
		t.Fatalf("run() = %v", err)
	}
	b, err := bundle.Open(out)
	if err != nil {
		t.Fatalf("bundle.Open() = %v", err)
	}
	defer b.Close()
	m := b.Manifest()
	if m.Executable != "kvstore-v2" || m.Version.Major != 2 || m.ID.String() != defaultRuntimeID {
		t.Fatalf("manifest = %+v", m)
	}
}

func TestMkbundleRequiresItsFlags(t *testing.T) {
	if err := run([]string{"-version", "1"}); err == nil {
		t.Fatal("run() accepted missing flags")
	}
}
