package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/internal/cli"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(context.Background(), args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

type keysJSON struct {
	DataDir   string `json:"datadir"`
	Entity    string `json:"entity"`
	Node      string `json:"node"`
	TLS       string `json:"tls"`
	Consensus string `json:"consensus"`
	P2PID     string `json:"p2p_id"`
}

func TestKeysGenerateThenShowPrintTheSameKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node0")
	code, out, errOut := runCLI(t, "keys", "generate", "--datadir", dir, "--json")
	if code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errOut)
	}
	var gen keysJSON
	if err := json.Unmarshal([]byte(out), &gen); err != nil {
		t.Fatalf("generate --json printed %q: %v", out, err)
	}
	for name, v := range map[string]string{"entity": gen.Entity, "node": gen.Node, "tls": gen.TLS, "consensus": gen.Consensus} {
		if len(v) != 64 {
			t.Errorf("%s key %q is not 32 bytes of hex", name, v)
		}
	}
	if len(gen.P2PID) != 40 || gen.DataDir != dir {
		t.Errorf("generate printed %+v", gen)
	}

	code, out, errOut = runCLI(t, "keys", "show", "--datadir", dir, "--json")
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errOut)
	}
	var shown keysJSON
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	if shown != gen {
		t.Fatalf("show printed %+v, generate %+v", shown, gen)
	}

	code, out, _ = runCLI(t, "keys", "show", "--datadir", dir)
	if code != 0 || !strings.Contains(out, "consensus  "+gen.Consensus) || !strings.Contains(out, "p2p id     "+gen.P2PID) {
		t.Fatalf("show (text): exit %d, %q", code, out)
	}
	fi, err := os.Stat(filepath.Join(dir, "entity.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("entity key file: %v %v", err, fi.Mode())
	}
}

func TestKeysGenerateRefusesToOverwriteKeys(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, "keys", "generate", "--datadir", dir); code != 0 {
		t.Fatalf("first generate: %s", errOut)
	}
	code, _, errOut := runCLI(t, "keys", "generate", "--datadir", dir)
	if code == 0 || !strings.Contains(errOut, "never overwritten") {
		t.Fatalf("second generate: exit %d, %q", code, errOut)
	}
}

func TestKeysShowOfAnEmptyDirectorySaysHowToGenerate(t *testing.T) {
	code, _, errOut := runCLI(t, "keys", "show", "--datadir", t.TempDir())
	if code == 0 || !strings.Contains(errOut, "atoll keys generate") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
}

func TestNodeExplainsABadOrMissingConfig(t *testing.T) {
	code, _, errOut := runCLI(t, "node")
	if code == 0 || !strings.Contains(errOut, "--config FILE") {
		t.Fatalf("no --config: exit %d, %q", code, errOut)
	}
	path := filepath.Join(t.TempDir(), "node.yaml")
	if err := os.WriteFile(path, []byte("consensus:\n  timeout_comit: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "node", "--config", path)
	if code == 0 || !strings.Contains(errOut, `line 2: "consensus.timeout_comit"`) {
		t.Fatalf("unknown key: exit %d, %q", code, errOut)
	}
}
