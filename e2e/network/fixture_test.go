package network

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atoll-project/atoll/config"
	"github.com/atoll-project/atoll/consensus/genesis"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

func TestAFixtureWritesAMeshOfLoopbackNodesThatShareOneGenesis(t *testing.T) {
	dir := t.TempDir()
	extra := staking.Address{0x00, 0x42}
	m, err := Fixture{Validators: 3, EpochInterval: 7, TimeoutCommit: 150 * time.Millisecond, Accounts: 2, Fund: []staking.Address{extra}, CometRPC: true}.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes) != 3 || len(m.Accounts) != 2 {
		t.Fatalf("manifest has %d nodes and %d accounts", len(m.Nodes), len(m.Accounts))
	}

	raw, err := os.ReadFile(m.GenesisFile())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := genesis.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	if doc.ChainContext() != m.ChainContext || doc.Beacon.Params.EpochInterval != 7 {
		t.Fatalf("genesis: chain context %s (manifest %s), epoch interval %d", doc.ChainContext(), m.ChainContext, doc.Beacon.Params.EpochInterval)
	}
	funded := map[staking.Address]bool{}
	for _, a := range doc.Staking.Accounts {
		funded[a.Address] = true
	}
	for i, a := range m.Accounts {
		s, err := m.AccountSigner(i)
		if err != nil {
			t.Fatal(err)
		}
		if staking.NewAddress(s.Public()) != a.Address || !funded[a.Address] {
			t.Fatalf("account %d: key and address disagree, or it is not funded", i)
		}
		s.Reset()
	}
	if !funded[extra] {
		t.Fatal("the address given in Fund is not funded")
	}

	ports := map[string]bool{}
	for i, n := range m.Nodes {
		if !bytes.Equal(mustRead(t, filepath.Join(m.NodeDir(i), GenesisFile)), raw) {
			t.Fatalf("%s has another genesis document", n.Name)
		}
		v := doc.Validators[i]
		if v.ConsensusKey != n.ConsensusKey || v.EntityID != n.EntityID || !funded[n.Address] {
			t.Fatalf("%s: genesis validator %+v, manifest %+v", n.Name, v, n)
		}
		if len(n.ValidatorAddress) != 40 || strings.ToLower(n.ValidatorAddress) != n.ValidatorAddress {
			t.Fatalf("%s: validator address %q", n.Name, n.ValidatorAddress)
		}
		cfg, err := config.Load(m.ConfigFile(i))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DataDir != m.NodeDir(i) || cfg.UnixSocket() != m.Socket(i) {
			t.Fatalf("%s: data dir %s, socket %s", n.Name, cfg.DataDir, cfg.UnixSocket())
		}
		c := cfg.Consensus
		if !c.Validator || c.Moniker != n.Name || time.Duration(c.TimeoutCommit) != 150*time.Millisecond ||
			!c.P2P.AllowDuplicateIP || c.P2P.Listen != "tcp://"+n.P2PAddress || c.RPC.Listen != "tcp://"+n.RPCAddress {
			t.Fatalf("%s: consensus section %+v", n.Name, c)
		}
		var want []string
		for j, o := range m.Nodes {
			if j != i {
				want = append(want, o.P2PID+"@"+o.P2PAddress)
			}
		}
		if diff := cmp.Diff(want, c.P2P.Peers); diff != "" {
			t.Fatalf("%s: peers (-want +got):\n%s", n.Name, diff)
		}
		for _, addr := range []string{n.P2PAddress, n.RPCAddress} {
			if !strings.HasPrefix(addr, "127.0.0.1:") || ports[addr] {
				t.Fatalf("%s: address %s is not a distinct loopback address", n.Name, addr)
			}
			ports[addr] = true
		}
	}

	back, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, back); diff != "" {
		t.Fatalf("the manifest does not read back (-wrote +read):\n%s", diff)
	}
}

func TestAFixtureNeverOverwritesANetwork(t *testing.T) {
	dir := t.TempDir()
	if _, err := (Fixture{Validators: 1}).Write(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := (Fixture{Validators: 1}).Write(dir); err == nil || !strings.Contains(err.Error(), "already holds a network") {
		t.Fatalf("writing over a network: %v", err)
	}
}

func TestAFixtureWithABasePortUsesFixedPorts(t *testing.T) {
	m, err := Fixture{Validators: 2, BasePort: 31000}.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := []string{m.Nodes[0].P2PAddress, m.Nodes[1].P2PAddress, m.Nodes[0].RPCAddress}
	if want := []string{"127.0.0.1:31000", "127.0.0.1:31010", ""}; !slices.Equal(got, want) {
		t.Fatalf("addresses %q, want %q", got, want)
	}
}

func TestAFixtureRejectsWhatCannotRun(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	cases := []struct {
		name string
		f    Fixture
		dir  string
		want string
	}{
		{"no validators", Fixture{}, t.TempDir(), "at least one validator"},
		{"ports past 65535", Fixture{Validators: 2, BasePort: 65530}, t.TempDir(), "base port"},
		{"a socket path too long", Fixture{Validators: 1}, long, "longer than 103 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.f.Write(c.dir); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}

func TestLoadManifestSaysWhenADirectoryHoldsNoNetwork(t *testing.T) {
	if _, err := LoadManifest(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no network") {
		t.Fatalf("got %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
