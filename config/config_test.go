package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultsValidate(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	for name, v := range map[string]interface{ Validate() error }{
		"log": new(DefaultLog()), "genesis": new(DefaultGenesis()), "consensus": new(DefaultConsensus()),
		"grpc": new(DefaultGRPC()), "metrics": new(DefaultMetrics()),
	} {
		if err := v.Validate(); err != nil {
			t.Errorf("default %s section: %v", name, err)
		}
	}
}

func TestAnEmptyFileGivesTheDefaultsWithPathsResolved(t *testing.T) {
	cfg, err := Parse(nil, "/srv/node")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.DataDir = "/srv/node/data"
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	if got := cfg.GenesisFile(); got != "/srv/node/data/genesis.json" {
		t.Errorf("GenesisFile() = %q", got)
	}
	if got := cfg.UnixSocket(); got != "/srv/node/data/atoll.sock" {
		t.Errorf("UnixSocket() = %q", got)
	}
}

func TestAFileOverridesOnlyTheKeysItNames(t *testing.T) {
	doc := `
datadir: /var/lib/atoll
consensus:
  timeout_commit: 250ms
  p2p:
    peers: ["0123456789abcdef0123456789abcdef01234567@127.0.0.1:26656"]
  mempool:
    size: 1000
`
	cfg, err := Parse([]byte(doc), "/etc/atoll")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.DataDir = "/var/lib/atoll"
	want.Consensus.TimeoutCommit = Duration(250 * time.Millisecond)
	want.Consensus.P2P.Peers = []string{"0123456789abcdef0123456789abcdef01234567@127.0.0.1:26656"}
	want.Consensus.Mempool.Size = 1000
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
}

func TestAnUnknownKeyIsRejectedNamingTheKeyAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"top level", "datadir: x\nruntimes: {}\n", `line 2: "runtimes" at the top level`},
		{"nested", "consensus:\n  p2p:\n    listne: tcp://0.0.0.0:1\n", `line 3: "consensus.p2p.listne" in section consensus.p2p`},
		{"in a section", "log:\n  level: info\n  colour: true\n", `line 3: "log.colour" in section log (known keys: level, format)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "")
			if !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("err = %v, want ErrUnknownKey", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestBadValuesAreRejectedNamingTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, doc, key string
	}{
		{"log level", "log: {level: loud}", "log.level"},
		{"log format", "log: {format: xml}", "log.format"},
		{"empty data dir", `datadir: ""`, "datadir"},
		{"zero timeout", "consensus: {timeout_commit: 0s}", "consensus.timeout_commit"},
		{"zero gossip sleep", "consensus: {peer_gossip_sleep: 0s}", "consensus.peer_gossip_sleep"},
		{"slow gossip", "consensus: {peer_gossip_sleep: 2s}", "consensus.peer_gossip_sleep"},
		{"p2p address", "consensus: {p2p: {listen: 'localhost'}}", "consensus.p2p.listen"},
		{"p2p scheme", "consensus: {p2p: {listen: 'udp://1.2.3.4:5'}}", "consensus.p2p.listen"},
		{"peer without id", "consensus: {p2p: {peers: ['127.0.0.1:26656']}}", "consensus.p2p.peers[0]"},
		{"peer with short id", "consensus: {p2p: {peers: ['abcd@127.0.0.1:26656']}}", "consensus.p2p.peers[0]"},
		{"mempool size", "consensus: {mempool: {size: 0}}", "consensus.mempool.size"},
		{"mempool bytes", "consensus: {mempool: {max_txs_bytes: 10}}", "consensus.mempool.max_txs_bytes"},
		{"tls half set", "grpc: {tcp: {listen: '127.0.0.1:9000', tls: {cert_file: c.pem}}}", "grpc.tcp.tls"},
		{"tls without listener", "grpc: {tcp: {tls: {cert_file: c.pem, key_file: k.pem}}}", "grpc.tcp.tls"},
		{"socket path too long", "grpc: {unix: {path: /" + strings.Repeat("s", 120) + "}}", "grpc.unix.path"},
		{"metrics address", "metrics: {listen: ':x'}", "metrics.listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "")
			var ie *InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want an InvalidError", err)
			}
			if ie.Key != tc.key {
				t.Fatalf("key = %q, want %q (err %v)", ie.Key, tc.key, err)
			}
		})
	}
}

func TestValuesOfTheWrongTypeAreRejected(t *testing.T) {
	for _, doc := range []string{
		"consensus: {timeout_commit: soon}",
		"consensus: {mempool: {size: many}}",
		"consensus: {validator: 3}",
		"log: [info]",
		"datadir: x\ndatadir: y\n",
	} {
		if _, err := Parse([]byte(doc), ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", doc, err)
		}
	}
}

func TestAConfigFileRoundTrips(t *testing.T) {
	dir := t.TempDir()
	cfg := Default()
	cfg.DataDir = filepath.Join(dir, "node0")
	cfg.Log = LogConfig{Level: "debug", Format: "json"}
	cfg.Genesis.File = filepath.Join(dir, "genesis.json")
	cfg.Consensus.Validator = false
	cfg.Consensus.Moniker = "node0"
	cfg.Consensus.TimeoutCommit = Duration(75 * time.Millisecond)
	cfg.Consensus.P2P.Peers = []string{"0123456789abcdef0123456789abcdef01234567@127.0.0.1:20001"}
	cfg.Consensus.P2P.AllowDuplicateIP = true
	cfg.Consensus.RPC.Listen = ""
	cfg.GRPC.TCP.Listen = "127.0.0.1:9443"
	cfg.Metrics.Listen = "127.0.0.1:9100"
	path := filepath.Join(dir, "node.yaml")
	if err := cfg.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cfg, got); diff != "" {
		t.Fatalf("(-written +loaded)\n%s", diff)
	}
}

func TestRelativePathsAreResolvedAgainstTheFilesDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.yaml")
	doc := "datadir: node0\ngenesis: {file: ../genesis.json}\ngrpc: {unix: {path: sock/a.sock}}\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != filepath.Join(dir, "node0") ||
		cfg.GenesisFile() != filepath.Join(filepath.Dir(dir), "genesis.json") ||
		cfg.UnixSocket() != filepath.Join(dir, "sock/a.sock") {
		t.Fatalf("paths not resolved: %+v", cfg)
	}
}

func TestAMissingFileSaysWhichFile(t *testing.T) {
	_, err := Load("/nonexistent/atoll.yaml")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/atoll.yaml") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}
