package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/consensus/genesis"
)

func TestGenesisInitWritesALoadableDevDocumentAndNeverOverwritesIt(t *testing.T) {
	dir := t.TempDir()
	node0 := filepath.Join(dir, "node0")
	if code, _, errOut := runCLI(t, "keys", "generate", "--datadir", node0); code != 0 {
		t.Fatalf("keys generate: %s", errOut)
	}
	out := filepath.Join(dir, "genesis.json")
	extra := "00" + strings.Repeat("ab", 20)
	code, stdout, errOut := runCLI(t, "genesis", "init", "--datadir", node0, "--out", out,
		"--fund", extra, "--bench-accounts", "5", "--epoch-interval", "7", "--json")
	if code != 0 {
		t.Fatalf("genesis init: exit %d: %s", code, errOut)
	}
	var printed struct {
		ChainContext   string `json:"chain_context"`
		FundedAccounts int    `json:"funded_accounts"`
		BenchAccounts  int    `json:"bench_accounts"`
	}
	if err := json.Unmarshal([]byte(stdout), &printed); err != nil {
		t.Fatalf("printed %q: %v", stdout, err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := genesis.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	cc := doc.ChainContext()
	if printed.ChainContext != cc.String() || printed.FundedAccounts != 1+1+5 || len(doc.Staking.Accounts) != 7 || doc.Beacon.Params.EpochInterval != 7 {
		t.Fatalf("printed %+v for a document with %d accounts", printed, len(doc.Staking.Accounts))
	}
	if code, _, errOut := runCLI(t, "genesis", "init", "--datadir", node0, "--out", out); code == 0 || !strings.Contains(errOut, "never overwritten") {
		t.Fatalf("a second init over the file: exit %d: %s", code, errOut)
	}
}

func TestGenesisInitGeneratesValidatorsWithTheirGenesisFile(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "genesis", "init", "--validators", "2", "--nodes-dir", dir, "--out", filepath.Join(dir, "genesis.json"))
	if code != 0 {
		t.Fatalf("genesis init: %s", errOut)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "genesis.json"))
	for _, n := range []string{"node-0", "node-1"} {
		got, err := os.ReadFile(filepath.Join(dir, n, "genesis.json"))
		if err != nil || string(got) != string(want) {
			t.Fatalf("%s/genesis.json: %v", n, err)
		}
	}
}

func TestCommandsSayWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"genesis", "init", "--out", filepath.Join(dir, "g.json")}, "name the validators"},
		{[]string{"status", "--datadir", dir}, "is `atoll node` running"},
		{[]string{"status"}, "pass --socket PATH or --datadir DIR"},
		{[]string{"stake", "account", "--socket", filepath.Join(dir, "x.sock")}, "pass --address ADDRESS"},
		{[]string{"stake", "transfer", "--datadir", dir, "--to", "00" + strings.Repeat("00", 20), "--amount", "1"}, "loading the signing key"},
		{[]string{"stake", "transfer", "--datadir", dir, "--to", "nothex", "--amount", "1"}, "--to"},
		{[]string{"bench", "transfers", "--datadir", dir, "--accounts", "0"}, "--accounts 0 out of range"},
		{[]string{"entity", "show"}, "pass --datadir DIR"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("atoll %v: exit %d, stderr %q; want it to mention %q", tc.args, code, errOut, tc.want)
		}
	}
}
