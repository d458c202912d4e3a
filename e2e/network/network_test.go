package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// These tests run the runner's process management against a fake node: the test binary
// itself, which TestMain turns into one when fakeNodeEnv is set. The fake node does what its
// mode says and serves no API; the real `atoll node` is exercised by the e2e scenarios.
const (
	fakeNodeEnv = "ATOLL_NETWORK_FAKE_NODE"
	// fakeChildEnv makes the test binary a child that a fake node spawned: it sleeps.
	fakeChildEnv = "ATOLL_NETWORK_FAKE_CHILD"
)

func TestMain(m *testing.M) {
	if modes := os.Getenv(fakeNodeEnv); modes != "" {
		os.Exit(fakeNode(fakeNodeMode(modes)))
	}
	if os.Getenv(fakeChildEnv) != "" {
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// fakeNodeMode picks the fake node's mode from the comma-separated list modes: node i (the
// process runs in its data directory, node-i) takes the i-th, or the last when the list is
// shorter.
func fakeNodeMode(modes string) string {
	list := strings.Split(modes, ",")
	wd, _ := os.Getwd()
	i, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(wd), "node-"))
	if err != nil {
		return list[0]
	}
	return list[min(i, len(list)-1)]
}

// fakeNode behaves as mode says:
//   - "serve": runs until SIGTERM, then exits 0;
//   - "crash": prints an error and exits 3 at once;
//   - "stubborn": ignores SIGTERM;
//   - "parent": spawns a sleeping child, writes its pid to child.pid in its directory, then
//     serves like "serve".
func fakeNode(mode string) int {
	fmt.Println("fake node", mode, strings.Join(os.Args[1:], " "))
	switch mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "error: opening the consensus state: disk on fire")
		return 3
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(time.Hour)
		return 0
	case "parent":
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), fakeChildEnv+"=1", fakeNodeEnv+"=")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := os.WriteFile("child.pid", []byte(strconv.Itoa(child.Process.Pid)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	fmt.Println("ready")
	<-sig
	fmt.Println("stopping")
	return 0
}

// fakeNetwork writes a network of n nodes and returns a runner of fake nodes over it, in the
// modes of fakeNodeMode.
func fakeNetwork(t *testing.T, n int, modes string) *Network {
	t.Helper()
	t.Setenv(fakeNodeEnv, modes)
	m, err := Fixture{Validators: n}.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	net := New(self, m)
	t.Cleanup(func() { _ = net.Close() })
	return net
}

// waitLog waits until node i's log contains s.
func waitLog(t *testing.T, net *Network, i int, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logTail(net.Manifest().LogFile(i)), s) {
		if time.Now().After(deadline) {
			t.Fatalf("node %d's log never said %q; it has:\n%s", i, s, logTail(net.Manifest().LogFile(i)))
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

func TestStopKillAndStartAreSeenInTheProcessesAndTheirLogs(t *testing.T) {
	net := fakeNetwork(t, 2, "serve")
	if err := net.StartAll(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, net, 0, "ready")
	waitLog(t, net, 1, "ready")
	if !net.Running(0) || !net.Running(1) {
		t.Fatal("nodes not running after StartAll")
	}
	if err := net.Start(0); err == nil {
		t.Fatal("starting a running node succeeded")
	}

	if err := net.Stop(0); err != nil {
		t.Fatal(err)
	}
	if net.Running(0) || !strings.Contains(logTail(net.Manifest().LogFile(0)), "stopping") {
		t.Fatal("node 0 did not stop through its SIGTERM handler")
	}
	if err := net.Kill(1); err != nil {
		t.Fatal(err)
	}
	if net.Running(1) {
		t.Fatal("node 1 runs after Kill")
	}
	if err := net.Stop(1); err != nil {
		t.Fatalf("stopping a stopped node: %v", err)
	}

	if err := net.Start(1); err != nil {
		t.Fatal(err)
	}
	waitLog(t, net, 1, "(start 2)")
	waitLog(t, net, 1, "--config "+net.Manifest().ConfigFile(1))
	if err := net.Check(); err != nil {
		t.Fatalf("a stop or a kill counted as a failure: %v", err)
	}
	if err := net.Close(); err != nil {
		t.Fatal(err)
	}
	if net.Running(1) {
		t.Fatal("node 1 runs after Close")
	}
	if err := net.Start(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	if err := net.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

func TestANodeThatDiesUnexpectedlyFailsTheWaitsWithTheEndOfItsLog(t *testing.T) {
	net := fakeNetwork(t, 1, "crash")
	if err := net.StartAll(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := net.WaitHeight(ctx, 1)
	if err == nil || !strings.Contains(err.Error(), "exited unexpectedly (exit status 3)") || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("waiting on a crashed node: %v", err)
	}
	select {
	case <-net.Failed():
	case <-ctx.Done():
		t.Fatal("Failed was not closed")
	}
	if err := net.Check(); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Check: %v", err)
	}
	if err := net.WaitHeight(ctx, 1); err == nil || !strings.Contains(err.Error(), "node-0 exited unexpectedly") {
		t.Fatalf("a later wait forgot the crash: %v", err)
	}
	if err := net.Close(); err == nil || !strings.Contains(err.Error(), "node-0 exited unexpectedly") {
		t.Fatalf("Close did not report the crash: %v", err)
	}
}

func TestANodeThatDiesEndsTheWaitForTheWholeNetworkAtOnce(t *testing.T) {
	net := fakeNetwork(t, 2, "serve,crash")
	if err := net.StartAll(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	err := net.WaitHeight(ctx, 1)
	if err == nil || !strings.Contains(err.Error(), "node-1 exited unexpectedly") || ctx.Err() != nil {
		t.Fatalf("waiting on a network with a crashed node: %v (context: %v)", err, ctx.Err())
	}
	if !net.Running(0) {
		t.Fatal("the node that did not crash stopped")
	}
}

func TestAWaitEndsAtItsDeadlineSayingWhichNodeIsBehind(t *testing.T) {
	net := fakeNetwork(t, 1, "serve")
	if err := net.StartAll(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, net, 0, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := net.WaitNodeHeight(ctx, 0, 1)
	if err == nil || !strings.Contains(err.Error(), "node-0 did not reach height 1") || !strings.Contains(err.Error(), "fake node serve") {
		t.Fatalf("got %v", err)
	}
	if _, err := net.Client(0); err == nil {
		t.Fatal("a client of a node that serves no socket")
	}
}

func TestANodeThatIgnoresSIGTERMIsKilledAndReported(t *testing.T) {
	net := fakeNetwork(t, 1, "stubborn")
	net.StopTimeout = 300 * time.Millisecond
	if err := net.StartAll(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, net, 0, "ready")
	if err := net.Stop(0); err == nil || !strings.Contains(err.Error(), "did not exit within") {
		t.Fatalf("stopping a node that ignores SIGTERM: %v", err)
	}
	if net.Running(0) {
		t.Fatal("the node still runs")
	}
}

func TestClosingANetworkEndsWhatItsNodesSpawned(t *testing.T) {
	net := fakeNetwork(t, 1, "parent")
	if err := net.StartAll(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, net, 0, "ready")
	raw := mustRead(t, filepath.Join(net.Manifest().NodeDir(0), "child.pid"))
	pid, err := strconv.Atoi(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Close(); err != nil {
		t.Fatal(err)
	}
	// The child was in the node's process group, which the runner killed once the node had
	// exited. It is not the test's child, so only its disappearance can be observed.
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the node's child %d outlived the network", pid)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// alive reports whether the process pid exists and is not a zombie waiting for whoever
// inherited it to reap it.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no procfs: trust kill
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
