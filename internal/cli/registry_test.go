package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atoll-project/atoll/internal/cli"
)

// runningNode is an `atoll node` run in the test process through cli.Main: a one-validator dev
// chain from `atoll genesis init`, its keys from `atoll keys generate`.
type runningNode struct {
	dataDir string
	log     *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the node's writer and the test's reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startNode runs a node until the test ends. epochInterval is in blocks (~50 ms each).
func startNode(t *testing.T, epochInterval int) *runningNode {
	t.Helper()
	// A short directory: the node's Unix socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "atoll-cli")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	n := &runningNode{dataDir: filepath.Join(dir, "node"), log: &syncBuffer{}}
	if code, _, errOut := runCLI(t, "keys", "generate", "--datadir", n.dataDir); code != 0 {
		t.Fatalf("keys generate: %s", errOut)
	}
	if code, _, errOut := runCLI(t, "genesis", "init", "--datadir", n.dataDir, "--out", filepath.Join(n.dataDir, "genesis.json"),
		"--epoch-interval", fmt.Sprint(epochInterval)); code != 0 {
		t.Fatalf("genesis init: %s", errOut)
	}
	cfg := filepath.Join(dir, "node.yaml")
	yaml := "datadir: node\nlog:\n  level: warn\nconsensus:\n  timeout_commit: 50ms\n  p2p:\n    listen: tcp://127.0.0.1:0\n  rpc:\n    listen: \"\"\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"node", "--config", cfg}, cli.Streams{In: strings.NewReader(""), Out: n.log, Err: n.log})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("node exited with %d:\n%s", code, n.log.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("node did not stop within 30s")
		}
	})
	n.waitFor(t, "the first block", func() bool {
		var st struct {
			CommittedHeight int64 `json:"committed_height"`
		}
		return n.cliJSON(&st, "status") == nil && st.CommittedHeight >= 1
	}, done)
	return n
}

// waitFor polls cond until it holds, failing the test after a minute or when the node stops.
func (n *runningNode) waitFor(t *testing.T, what string, cond func() bool, stopped ...chan int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		for _, ch := range stopped {
			select {
			case code := <-ch:
				t.Fatalf("node exited with %d while waiting for %s:\n%s", code, what, n.log.String())
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute; node log:\n%s", what, n.log.String())
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
}

// cliJSON runs a command against the node with --json and decodes its output into v.
func (n *runningNode) cliJSON(v any, args ...string) error {
	var out, errOut bytes.Buffer
	args = append(args, "--datadir", n.dataDir, "--json")
	if code := cli.Main(context.Background(), args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}); code != 0 {
		return fmt.Errorf("%v: exit %d: %s", args, code, errOut.String())
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		return fmt.Errorf("%v printed %q: %w", args, out.String(), err)
	}
	return nil
}

// run runs a command against the node and returns its exit code and output.
func (n *runningNode) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, append(args, "--datadir", n.dataDir)...)
}

func (n *runningNode) mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	if err := n.cliJSON(v, args...); err != nil {
		t.Fatal(err)
	}
}

func (n *runningNode) epoch(t *testing.T) uint64 {
	t.Helper()
	var e struct {
		Epoch uint64 `json:"epoch"`
	}
	n.mustJSON(t, &e, "status", "epoch")
	return e.Epoch
}

func (n *runningNode) nonce(t *testing.T) uint64 {
	t.Helper()
	var a struct {
		Account struct {
			General struct {
				Nonce uint64 `json:"nonce"`
			} `json:"general"`
		} `json:"account"`
	}
	n.mustJSON(t, &a, "stake", "account")
	return a.Account.General.Nonce
}

const (
	testRuntimeID = "8000000000000000000000000000000000000000000000000000000000000001"
	testBundleV1  = "1111111111111111111111111111111111111111111111111111111111111111"
	testBundleV2  = "2222222222222222222222222222222222222222222222222222222222222222"
)

// runtimeYAML is a valid descriptor of testRuntimeID with the given deployments section and
// executor lines.
func runtimeYAML(executor, deployments string) string {
	return `# the test runtime
id: ` + testRuntimeID + `
genesis:
  state_root: 0000000000000000000000000000000000000000000000000000000000000000
  round: 0
kind: compute
tee_hardware: none
executor:
` + executor + `
txn_scheduler:
  max_batch_size: 100
  max_batch_size_bytes: 16384
  batch_flush_timeout: 1000
  propose_batch_timeout: 2
storage:
  group_size: 1
  min_write_replication: 1
  max_apply_write_log_entries: 1000
  max_apply_ops: 2
constraints:
  executor: {max_nodes_per_entity: 0, min_pool_size: 0}
  storage: {max_nodes_per_entity: 0, min_pool_size: 0}
admission_policy:
  any_node:
governance_model: entity
deployments:
` + deployments
}

const testExecutor = `  group_size: 1
  group_backup_size: 0
  allowed_stragglers: 0
  round_timeout: 5
  max_messages: 16`

func deploymentYAML(version string, validFrom uint64, bundle string) string {
	return fmt.Sprintf("  - version: %s\n    valid_from: %d\n    bundle_checksum: %s\n", version, validFrom, bundle)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// TestRegistryAndSchedulerCommandsAgainstARunningNode walks an operator's path on a real node:
// the entity, a runtime from a YAML file (rejected first for a broken rule and an unknown key),
// the node registered for it, and the committees elected once its deployment is active.
func TestRegistryAndSchedulerCommandsAgainstARunningNode(t *testing.T) {
	n := startNode(t, 10)
	var keys struct {
		Entity string `json:"entity"`
		Node   string `json:"node"`
	}
	if code, out, errOut := runCLI(t, "keys", "show", "--datadir", n.dataDir, "--json"); code != 0 || json.Unmarshal([]byte(out), &keys) != nil {
		t.Fatalf("keys show: %s %s", out, errOut)
	}

	t.Run("entity register lists the data directory's node and entity show shows it", func(t *testing.T) {
		early := writeFile(t, "early.yaml", runtimeYAML(testExecutor, deploymentYAML("1.0.0", n.epoch(t)+4, testBundleV1)))
		code, _, errOut := n.run(t, "registry", "runtime", "register", "--file", early)
		mustContain(t, "a runtime of an unregistered entity", errOut, "is not registered: register it first")
		if code == 0 {
			t.Fatal("a runtime of an unregistered entity was registered")
		}
		var reg struct {
			Entity struct {
				ID    string   `json:"id"`
				Nodes []string `json:"nodes"`
			} `json:"entity"`
			Added []string `json:"added"`
			Tx    struct {
				Height int64 `json:"height"`
			} `json:"tx"`
		}
		n.mustJSON(t, &reg, "registry", "entity", "register")
		if reg.Entity.ID != keys.Entity || len(reg.Entity.Nodes) != 1 || reg.Entity.Nodes[0] != keys.Node || len(reg.Added) != 1 || reg.Tx.Height == 0 {
			t.Fatalf("registered %+v", reg)
		}
		code, out, errOut := n.run(t, "registry", "entity", "show")
		if code != 0 {
			t.Fatal(errOut)
		}
		mustContain(t, "entity show", out, "Entity "+keys.Entity, keys.Node+"  not registered")
		// Registering again keeps the node, and says so.
		code, out, errOut = n.run(t, "registry", "entity", "register")
		if code != 0 {
			t.Fatal(errOut)
		}
		mustContain(t, "a second registration", out, keys.Node+" (kept)")
	})

	t.Run("a descriptor breaking a rule is refused locally, naming the rule, and nothing is sent", func(t *testing.T) {
		before := n.nonce(t)
		bad := strings.Replace(testExecutor, "allowed_stragglers: 0", "allowed_stragglers: 1", 1)
		file := writeFile(t, "bad.yaml", runtimeYAML(bad, deploymentYAML("1.0.0", n.epoch(t)+4, testBundleV1)))
		code, _, errOut := n.run(t, "registry", "runtime", "register", "--file", file)
		if code == 0 {
			t.Fatal("a runtime with more stragglers than (group_size − 1)/2 was registered")
		}
		mustContain(t, "the error", errOut, "executor.allowed_stragglers", "(group_size − 1)/2")
		// Too short a notice: the registration rule of ADR 0013.
		file = writeFile(t, "soon.yaml", runtimeYAML(testExecutor, deploymentYAML("1.0.0", n.epoch(t), testBundleV1)))
		code, _, errOut = n.run(t, "registry", "runtime", "register", "--file", file)
		if code == 0 || !strings.Contains(errOut, "retroactive entry") && !strings.Contains(errOut, "min_deployment_notice") {
			t.Fatalf("a first deployment valid now: exit %d: %s", code, errOut)
		}
		if after := n.nonce(t); after != before {
			t.Fatalf("the signer's nonce moved from %d to %d: something was sent", before, after)
		}
	})

	t.Run("an unknown YAML key is refused, naming it and its line", func(t *testing.T) {
		typo := strings.Replace(testExecutor, "group_size: 1", "gruop_size: 1", 1)
		file := writeFile(t, "typo.yaml", runtimeYAML(typo, deploymentYAML("1.0.0", 100, testBundleV1)))
		code, _, errOut := n.run(t, "registry", "runtime", "register", "--file", file)
		if code == 0 {
			t.Fatal("a descriptor with an unknown key was accepted")
		}
		mustContain(t, "the error", errOut, `line 9: executor.gruop_size: unknown key "gruop_size" in executor`, "known keys: group_size, group_backup_size")
	})

	validFrom := n.epoch(t) + 4
	descriptor := writeFile(t, "runtime.yaml", runtimeYAML(testExecutor, deploymentYAML("1.0.0", validFrom, testBundleV1)))

	t.Run("a runtime registered from a YAML file starts suspended, and list and show say so", func(t *testing.T) {
		code, out, errOut := n.run(t, "registry", "runtime", "register", "--file", descriptor)
		if code != 0 {
			t.Fatal(errOut)
		}
		mustContain(t, "runtime register", out, "Registered runtime "+testRuntimeID, "starts suspended", "included in block")
		var list struct {
			Runtimes []struct {
				Runtime struct {
					ID       string `json:"id"`
					EntityID string `json:"entity_id"`
				} `json:"runtime"`
				Suspended      bool `json:"suspended"`
				NextDeployment *struct {
					Version   string `json:"version"`
					ValidFrom uint64 `json:"valid_from"`
				} `json:"next_deployment"`
			} `json:"runtimes"`
		}
		n.mustJSON(t, &list, "registry", "runtime", "list")
		if len(list.Runtimes) != 1 || list.Runtimes[0].Runtime.ID != testRuntimeID || list.Runtimes[0].Runtime.EntityID != keys.Entity ||
			!list.Runtimes[0].Suspended || list.Runtimes[0].NextDeployment == nil || list.Runtimes[0].NextDeployment.ValidFrom != validFrom {
			t.Fatalf("runtime list: %+v", list)
		}
		code, out, _ = n.run(t, "registry", "runtime", "list")
		mustContain(t, "runtime list", out, testRuntimeID, "suspended", fmt.Sprintf("1.0.0 (from epoch %d)", validFrom))
		code, out, errOut = n.run(t, "registry", "runtime", "show", "--id", testRuntimeID)
		if code != 0 {
			t.Fatal(errOut)
		}
		mustContain(t, "runtime show", out, "not deployed yet", "1 worker + 0 backups", "(pending)")
		var show struct {
			Height    int64 `json:"height"`
			Suspended bool  `json:"suspended"`
		}
		n.mustJSON(t, &show, "registry", "runtime", "show", "--id", testRuntimeID)
		if !show.Suspended || show.Height == 0 {
			t.Fatalf("runtime show --json: %+v", show)
		}
		code, _, errOut = n.run(t, "registry", "runtime", "register", "--file", descriptor)
		mustContain(t, "registering twice", errOut, "already registered", "runtime update")
	})

	t.Run("an update adding a second pending deployment is refused locally", func(t *testing.T) {
		two := runtimeYAML(testExecutor, deploymentYAML("1.0.0", validFrom, testBundleV1)+deploymentYAML("2.0.0", validFrom+5, testBundleV2))
		code, _, errOut := n.run(t, "registry", "runtime", "update", "--file", writeFile(t, "two.yaml", two))
		if code == 0 {
			t.Fatal("two pending deployments were accepted")
		}
		mustContain(t, "the error", errOut, "two future entries")
	})

	t.Run("scheduler committees of a runtime without committees says why", func(t *testing.T) {
		code, out, errOut := n.run(t, "scheduler", "committees", "--runtime", testRuntimeID)
		if code != 0 {
			t.Fatal(errOut)
		}
		mustContain(t, "committees", out, "NO COMMITTEES", "not deployed yet", "registry node register")
		var c struct {
			Suspended    bool            `json:"suspended"`
			NoCommittees string          `json:"no_committees"`
			Executor     json.RawMessage `json:"executor"`
		}
		n.mustJSON(t, &c, "scheduler", "committees", "--runtime", testRuntimeID)
		if !c.Suspended || c.NoCommittees == "" || c.Executor != nil {
			t.Fatalf("committees --json: %+v", c)
		}
	})

	t.Run("a node registered for the runtime is listed, shown, and elected once the deployment is active", func(t *testing.T) {
		code, out, errOut := n.run(t, "registry", "node", "register", "--roles", "compute,storage",
			"--runtime", testRuntimeID+"@1.0.0", "--tls-address", "127.0.0.1:9100", "--expiration-epochs", "10")
		if code != 0 {
			t.Fatal(errOut)
		}
		mustContain(t, "node register", out, "Registered node "+keys.Node, "bundle "+testBundleV1, "prepaid maintenance")
		var list struct {
			Nodes []struct {
				ID    string `json:"id"`
				Roles string `json:"roles"`
			} `json:"nodes"`
		}
		n.mustJSON(t, &list, "registry", "node", "list")
		if len(list.Nodes) != 1 || list.Nodes[0].ID != keys.Node || list.Nodes[0].Roles != "compute,storage" {
			t.Fatalf("node list: %+v", list)
		}
		code, out, _ = n.run(t, "registry", "node", "show")
		mustContain(t, "node show", out, "Node "+keys.Node, "(lists it)", "not frozen", testRuntimeID+" 1.0.0")

		type committees struct {
			Executor *struct {
				Workers []string `json:"workers"`
			} `json:"executor"`
			Storage *struct {
				Workers []string `json:"workers"`
			} `json:"storage"`
			TxnScheduler string `json:"txn_scheduler"`
			NoCommittees string `json:"no_committees"`
		}
		var c committees
		n.waitFor(t, "committees", func() bool {
			c = committees{}
			return n.cliJSON(&c, "scheduler", "committees", "--runtime", testRuntimeID) == nil && c.Executor != nil
		})
		if len(c.Executor.Workers) != 1 || c.Executor.Workers[0] != keys.Node || c.Storage == nil || c.Storage.Workers[0] != keys.Node ||
			c.TxnScheduler != keys.Node || c.NoCommittees != "" {
			t.Fatalf("committees: %+v", c)
		}
		code, out, _ = n.run(t, "scheduler", "committees", "--runtime", testRuntimeID)
		mustContain(t, "committees", out, "Executor committee", "worker 0   "+keys.Node+"  ← transaction scheduler of round", "Storage committee")
		code, out, _ = n.run(t, "registry", "runtime", "show", "--id", testRuntimeID)
		mustContain(t, "runtime show", out, ": active", "(active)")
	})

	t.Run("the descriptor show prints is what update reads: a new version is announced from it", func(t *testing.T) {
		code, out, errOut := n.run(t, "registry", "runtime", "show", "--id", testRuntimeID, "--descriptor")
		if code != 0 {
			t.Fatal(errOut)
		}
		var desc map[string]any
		if err := json.Unmarshal([]byte(out), &desc); err != nil {
			t.Fatal(err)
		}
		next := n.epoch(t) + 4
		desc["deployments"] = append(desc["deployments"].([]any), map[string]any{"version": "2.0.0", "valid_from": next, "bundle_checksum": testBundleV2})
		edited, err := json.Marshal(desc)
		if err != nil {
			t.Fatal(err)
		}
		code, out, errOut = n.run(t, "registry", "runtime", "update", "--file", writeFile(t, "runtime.json", string(edited)))
		if code != 0 {
			t.Fatal(errOut)
		}
		mustContain(t, "runtime update", out, "Updated runtime "+testRuntimeID, "takes effect at the next epoch")
		var show struct {
			ActiveDeployment struct {
				Version string `json:"version"`
			} `json:"active_deployment"`
			NextDeployment struct {
				Version   string `json:"version"`
				ValidFrom uint64 `json:"valid_from"`
			} `json:"next_deployment"`
		}
		n.mustJSON(t, &show, "registry", "runtime", "show", "--id", testRuntimeID)
		if show.ActiveDeployment.Version != "1.0.0" || show.NextDeployment.Version != "2.0.0" || show.NextDeployment.ValidFrom != next {
			t.Fatalf("after the update: %+v", show)
		}
	})
}

func TestRegistryCommandsSayWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"registry", "entity", "register"}, "which nodes? pass --node ID"},
		{[]string{"registry", "entity", "register", "--node", "zz"}, `--node "zz"`},
		{[]string{"registry", "entity", "show"}, "which entity? pass --id KEY, or --datadir DIR"},
		{[]string{"registry", "entity", "show", "--datadir", dir}, "atoll keys generate"},
		{[]string{"registry", "node", "show"}, "which node? pass --id KEY"},
		{[]string{"registry", "node", "list", "--datadir", dir}, "is `atoll node` running"},
		{[]string{"registry", "node", "register", "--roles", "compute"}, "pass --datadir DIR"},
		{[]string{"registry", "node", "register", "--roles", "miner", "--datadir", dir}, `--roles: node: invalid roles: unknown role "miner"`},
		{[]string{"registry", "runtime", "register"}, `required flag(s) "file"`},
		{[]string{"registry", "runtime", "register", "--file", missing, "--datadir", dir}, "runtime descriptor file: stat " + missing},
		{[]string{"registry", "runtime", "show", "--id", "80"}, "runtime ID \"80\""},
		{[]string{"scheduler", "committees", "--runtime", "xyz"}, "--runtime: runtime ID"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d: %q lacks %q", tc.args, code, errOut, tc.want)
		}
	}
}
