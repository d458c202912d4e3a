package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runAtoll(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func skipWithoutBubblewrap(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (apt-get install -y bubblewrap); skipping a test that needs the real sandbox")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh in PATH")
	}
}

func TestDebugSandboxExecPassesOutputAndExitCodeThrough(t *testing.T) {
	skipWithoutBubblewrap(t)
	code, out, errOut := runAtoll(t, "debug", "sandbox", "exec", "--env", "GREETING=hi", "--",
		"sh", "-c", `echo "$GREETING"; echo oops >&2; exit 3`)
	if code != 3 || out != "hi\n" || errOut != "oops\n" {
		t.Fatalf("got code %d, stdout %q, stderr %q; want 3, \"hi\\n\", \"oops\\n\"", code, out, errOut)
	}
}

func TestDebugSandboxExecPassesFlagsAfterTheProgramToIt(t *testing.T) {
	skipWithoutBubblewrap(t)
	code, out, errOut := runAtoll(t, "debug", "sandbox", "exec", "sh", "-c", "echo -n ok")
	if code != 0 || out != "ok" {
		t.Fatalf("got code %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestDebugSandboxExecShowsOnlyTheBoundPaths(t *testing.T) {
	skipWithoutBubblewrap(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "visible"), []byte("bound\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "read line < " + filepath.Join(dir, "visible") + ` && echo "$line"; ` +
		"if read x < /etc/hostname; then echo host-file-visible; fi; echo x > " + filepath.Join(dir, "new") + " || echo read-only"
	code, out, errOut := runAtoll(t, "debug", "sandbox", "exec", "--bind-ro", dir, "--", "sh", "-c", script)
	if code != 0 || out != "bound\nread-only\n" {
		t.Fatalf("got code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Fatal("the sandboxed program wrote into a read-only bind")
	}
}

func TestDebugSandboxExecReportsAnUnknownProgram(t *testing.T) {
	code, _, errOut := runAtoll(t, "debug", "sandbox", "exec", "--", "atoll-no-such-program")
	if code != 1 || !strings.Contains(errOut, "atoll-no-such-program") {
		t.Fatalf("got code %d, stderr %q", code, errOut)
	}
}
