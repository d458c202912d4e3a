package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/consensus/memchain"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	roothashapi "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/internal/cli"
	"github.com/atoll-project/atoll/rpc"
)

// runtimeNode is a test chain with one runtime whose every block is an epoch transition (so a
// runtime block per consensus block), its runtime methods served on a Unix socket.
type runtimeNode struct {
	chain  *memchain.Chain
	rt     *registryapi.Runtime
	socket string
}

const runtimeKeptRounds = 8

func startRuntimeNode(t *testing.T) *runtimeNode {
	t.Helper()
	n := &runtimeNode{socket: filepath.Join(t.TempDir(), "api.sock")}
	entity := memchain.TestSigner("entity", 0)
	fix, err := memchain.NewFixture(memchain.FixtureParams{
		Validators: 1, Balance: 1000, EpochInterval: 1,
		Tweak: func(d *genesis.Document) {
			n.rt = memchain.TestRuntime(0, entity.Public(), 0)
			v1 := version.Version{Major: 1}
			g := memchain.GenesisRegistry{Runtimes: []memchain.GenesisRuntime{{Signer: entity, Runtime: n.rt}}}
			var listed []signature.PublicKey
			for i := range 4 {
				roles := node.RoleCompute
				if i == 3 {
					roles = node.RoleStorage
				}
				nd := memchain.TestNode(i, entity.Public(), roles, 1000, memchain.NodeRuntime(n.rt, v1))
				listed = append(listed, nd.ID)
				g.Nodes = append(g.Nodes, memchain.GenesisNode{Signer: memchain.TestNodeSigner(i), Node: nd})
			}
			g.Entities = []memchain.GenesisEntity{{Signer: entity, Nodes: listed}}
			memchain.AddGenesisRegistry(d, g)
			d.Registry.Params.MaxNodeExpiration = 1000
			p := roothashapi.DefaultConsensusParameters()
			p.MaxPastRootsStored = runtimeKeptRounds
			d.Roothash = &genesis.RoothashGenesis{Params: p}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n.chain, err = fix.NewChain(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.chain.Close)
	srv, err := rpc.NewServer(rpc.ServerConfig{}, grpcapi.NewRuntimeService(n.chain.Mux(), time.Millisecond).Methods()...)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := rpc.ListenUnix(n.socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return n
}

// deliver makes n consensus blocks, each with a runtime block.
func (n *runtimeNode) deliver(t *testing.T, blocks int) {
	t.Helper()
	for range blocks {
		if _, err := n.chain.Deliver(); err != nil {
			t.Fatal(err)
		}
	}
}

// runtimeOutput is a bytes.Buffer safe for a command writing while the test reads.
type runtimeOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *runtimeOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *runtimeOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func runRuntimeCLI(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut runtimeOutput
	code = cli.Main(ctx, args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func TestRuntimeBlocksPrintsOneLinePerRoundFromTheGivenRoundToTheLatest(t *testing.T) {
	n := startRuntimeNode(t)
	n.deliver(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	code, out, errOut := runRuntimeCLI(ctx, "runtime", "blocks", "--socket", n.socket, "--runtime", n.rt.ID.String(), "--from", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("want rounds 0..3, got:\n%s", out)
	}
	for i, l := range lines {
		wantType := "epoch transition"
		if i == 0 {
			wantType = "normal"
		}
		if !strings.HasPrefix(l, fmt.Sprintf("round %-6d %-16s hash ", i, wantType)) || !strings.Contains(l, " io ") || !strings.Contains(l, " state ") {
			t.Fatalf("line %d: %q", i, l)
		}
	}

	// Without --from: the latest block only. With --json: one object per line.
	code, out, errOut = runRuntimeCLI(ctx, "runtime", "blocks", "--socket", n.socket, "--runtime", n.rt.ID.String(), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var b struct {
		Round  uint64 `json:"round"`
		Type   string `json:"type"`
		Hash   string `json:"hash"`
		Header struct {
			Round     uint64 `json:"round"`
			StateRoot string `json:"state_root"`
		} `json:"header"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if b.Round != 3 || b.Header.Round != 3 || b.Type != "epoch transition" || len(b.Hash) != 64 || b.Header.StateRoot != n.rt.Genesis.StateRoot.String() {
		t.Fatalf("JSON block %+v", b)
	}
}

func TestRuntimeBlocksFollowPrintsNewBlocksUntilInterrupted(t *testing.T) {
	n := startRuntimeNode(t)
	n.deliver(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	follow, interrupt := context.WithCancel(ctx)
	var out, errOut runtimeOutput
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(follow, []string{"runtime", "blocks", "--socket", n.socket, "--runtime", n.rt.ID.String(), "--follow"},
			cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	}()
	waitFor := func(round int) {
		t.Helper()
		for !strings.Contains(out.String(), fmt.Sprintf("round %-6d", round)) {
			select {
			case code := <-done:
				t.Fatalf("the command ended (exit %d) before round %d: %s%s", code, round, out.String(), errOut.String())
			case <-ctx.Done():
				t.Fatalf("round %d not printed: %q", round, out.String())
			case <-time.After(5 * time.Millisecond): // poll interval
			}
		}
	}
	waitFor(1)
	n.deliver(t, 2)
	waitFor(3)
	interrupt() // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after the interrupt: %s", code, errOut.String())
		}
	case <-ctx.Done():
		t.Fatal("the command did not stop on the interrupt")
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 3 {
		t.Fatalf("want rounds 1..3 once each, got:\n%s", out.String())
	}
}

func TestRuntimeShowPrintsTheRuntimesState(t *testing.T) {
	n := startRuntimeNode(t)
	n.deliver(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, out, errOut := runRuntimeCLI(ctx, "runtime", "show", "--socket", n.socket, "--runtime", n.rt.ID.String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"at height 2", "epoch         2", "suspended     no", "latest round  2 (epoch transition)", "executor      workers ", "backups ", "storage       workers "} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runRuntimeCLI(ctx, "runtime", "show", "--socket", n.socket, "--runtime", n.rt.ID.String(), "--json")
	var st struct {
		Height int64 `json:"height"`
		State  struct {
			Epoch  uint64 `json:"epoch"`
			Latest struct {
				Round uint64 `json:"round"`
			} `json:"latest"`
		} `json:"state"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Height != 2 || st.State.Epoch != 2 || st.State.Latest.Round != 2 {
		t.Fatalf("exit %d, JSON %+v from %s%s", code, st, out, errOut)
	}
}

func TestRuntimeCommandsSayWhatToDoWhenTheyCannot(t *testing.T) {
	n := startRuntimeNode(t)
	n.deliver(t, runtimeKeptRounds+2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := n.rt.ID.String()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no runtime", []string{"runtime", "blocks", "--socket", n.socket}, []string{"pass --runtime ID"}},
		{"a malformed runtime ID", []string{"runtime", "show", "--socket", n.socket, "--runtime", "xyz"}, []string{"64 hex characters"}},
		{"no node", []string{"runtime", "show", "--runtime", id}, []string{"--socket", "--datadir"}},
		{"an unknown runtime", []string{"runtime", "blocks", "--socket", n.socket, "--runtime", memchain.TestRuntimeID(7).String()}, []string{"no such runtime", "registered"}},
		{"a pruned round", []string{"runtime", "blocks", "--socket", n.socket, "--runtime", id, "--from", "0"}, []string{"no longer stored", "start from round 3"}},
		{"a round not made yet", []string{"runtime", "blocks", "--socket", n.socket, "--runtime", id, "--from", "99"}, []string{"not made yet", "--follow"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runRuntimeCLI(ctx, tc.args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Fatalf("error %q lacks %q", errOut, w)
				}
			}
		})
	}
}
