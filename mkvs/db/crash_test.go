package db

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
)

// crashChildEnv selects the child role of TestFinalizedVersionsSurviveSIGKILL: "dir seed".
const crashChildEnv = "ATOLL_MKVSDB_CRASH_CHILD"

const (
	crashOpsPerVersion = 200
	crashKeepVersions  = 4
)

// TestFinalizedVersionsSurviveSIGKILL runs a child process (this test binary) that commits,
// applies, finalizes and prunes versions of a deterministic chain on a real directory, printing
// each version once Finalize returns. The parent kills it with SIGKILL at a random point,
// reopens the DB and checks that every reported version that pruning keeps is there with
// exactly the contents the chain's seed regenerates, that the flat index matches, and that the
// DB takes further commits.
func TestFinalizedVersionsSurviveSIGKILL(t *testing.T) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		runCrashChild(t, spec)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 1))
	for round := range 3 {
		seed := uint64(100 + round)
		killAfter := 2 + rng.IntN(15)
		t.Run(fmt.Sprintf("seed %d killed after %d versions", seed, killAfter), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(exe, "-test.run=^TestFinalizedVersionsSurviveSIGKILL$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", crashChildEnv, dir, seed))
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var reported []uint64
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				v, ok := strings.CutPrefix(line, "finalized ")
				if !ok {
					continue // test framework output
				}
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					t.Fatalf("bad child line %q", line)
				}
				reported = append(reported, n)
				if len(reported) == killAfter {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					break
				}
			}
			_ = cmd.Wait()
			if len(reported) < killAfter {
				t.Fatalf("child stopped after %d versions: %s", len(reported), stderr.String())
			}
			checkAfterCrash(t, dir, seed, reported)
		})
	}
}

func checkAfterCrash(t *testing.T, dir string, seed uint64, reported []uint64) {
	ctx := context.Background()
	d, err := Open(Options{Path: dir, Namespace: testNS})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lastReported := reported[len(reported)-1]
	latest, ok, err := d.LatestVersion()
	if err != nil || !ok || latest < lastReported {
		t.Fatalf("latest finalized version %d (%t, %v), child reported %d", latest, ok, err, lastReported)
	}
	earliest, _, err := d.EarliestVersion()
	if err != nil {
		t.Fatal(err)
	}
	if earliest > lastReported {
		t.Fatalf("earliest version %d is past the last reported %d", earliest, lastReported)
	}
	for _, v := range reported {
		if v < earliest {
			continue // pruned by design
		}
		roots, err := d.GetRootsForVersion(v)
		if err != nil || len(roots) != 1 {
			t.Fatalf("version %d roots: %v, %v", v, roots, err)
		}
		checkTreeContents(t, d, roots[0], chainContents(seed, v, crashOpsPerVersion))
	}
	want := chainContents(seed, latest, crashOpsPerVersion)
	for k, v := range want {
		got, err := d.GetLatest(ctx, []byte(k))
		if err != nil || string(got) != string(v) {
			t.Fatalf("latest %x = %x, %v; want %x", k, got, err, v)
		}
	}
	root, _, err := d.LatestFinalizedRoot(node.RootTypeState)
	if err != nil {
		t.Fatal(err)
	}
	tree := mkvs.NewWithRoot(root, d)
	defer tree.Close()
	if _, err := commitChainVersion(ctx, d, tree, seed, latest+1, crashOpsPerVersion); err != nil {
		t.Fatalf("commit after crash: %v", err)
	}
}

// runCrashChild is the child role: it commits versions until killed (or a generous limit).
func runCrashChild(t *testing.T, spec string) {
	dir, seedStr, _ := strings.Cut(spec, " ")
	seed, err := strconv.ParseUint(seedStr, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := Open(Options{Path: dir, Namespace: testNS})
	if err != nil {
		t.Fatal(err)
	}
	tree := mkvs.New()
	for v := uint64(1); v <= 10_000; v++ {
		if _, err := commitChainVersion(ctx, d, tree, seed, v, crashOpsPerVersion); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("finalized %d\n", v)
		if v > crashKeepVersions {
			if err := d.Prune(ctx, v-crashKeepVersions); err != nil {
				t.Fatal(err)
			}
		}
	}
}
