package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// escapeBin is the static helper program built from testdata/escape by TestMain.
var escapeBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// Outside /tmp if possible: the sandbox has a /tmp of its own, writable, and a test
	// checks that the directory of the executable is not.
	base := "/var/tmp"
	if _, err := os.Stat(base); err != nil {
		base = ""
	}
	dir, err := os.MkdirTemp(base, "atoll-sandbox-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The helper lives alone in its own directory, so a test can put a secret next to it.
	binDir := filepath.Join(dir, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	escapeBin = filepath.Join(binDir, "escape")
	goBin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the test helper needs the go command: %v\n", err)
		return 1
	}
	build := exec.Command(goBin, "build", "-trimpath", "-o", escapeBin, "./testdata/escape")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building testdata/escape: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// newTestBubblewrap returns the real provisioner, or skips the test when bubblewrap is not
// installed (CI installs it).
func newTestBubblewrap(t *testing.T) *Bubblewrap {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (apt-get install -y bubblewrap); skipping a test that needs the real sandbox")
	}
	b, err := NewBubblewrap(BubblewrapOptions{})
	if err != nil {
		t.Fatalf("NewBubblewrap: %v", err)
	}
	return b
}

// run starts cfg under p, waits for it and returns its output and status.
func run(t *testing.T, p Provisioner, cfg Config) (stdout, stderr string, status ExitStatus) {
	t.Helper()
	var out, errOut bytes.Buffer
	cfg.Stdout, cfg.Stderr = &out, &errOut
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	proc, err := p.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start(%s %v): %v", cfg.Executable, cfg.Args, err)
	}
	status, err = proc.Wait()
	if err != nil {
		t.Fatalf("Wait(%s %v): %v (stderr: %s)", cfg.Executable, cfg.Args, err, errOut.String())
	}
	return out.String(), errOut.String(), status
}

// probeResult is the helper's report of one attempt.
type probeResult struct {
	OK    bool   `json:"ok"`
	Errno string `json:"errno"`
	Err   string `json:"err"`
	Out   string `json:"out"`
}

// probe runs the helper with args in a sandbox configured by cfg and returns its report.
func probe(t *testing.T, p Provisioner, cfg Config, args ...string) probeResult {
	t.Helper()
	cfg.Executable = escapeBin
	cfg.Args = args
	stdout, stderr, status := run(t, p, cfg)
	if !status.Success() {
		t.Fatalf("helper %v: %v (stdout %q, stderr %q)", args, status, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var r probeResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("helper %v printed %q: %v (stderr %q)", args, stdout, err, stderr)
	}
	return r
}
