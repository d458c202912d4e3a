package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/e2e/network"
)

// startNetwork writes the fixture into a fresh directory, starts every node and waits until
// all have committed the first block. The network is closed when the test ends, and a node
// that died unexpectedly on the way fails the test. The directory is removed after a passing
// test and kept, with every node's full log, after a failing one.
func startNetwork(t *testing.T, f network.Fixture) *network.Network {
	t.Helper()
	// A short directory of its own rather than t.TempDir(): a long test name would push the
	// nodes' sockets past the OS limit on Unix socket paths.
	dir, err := os.MkdirTemp("", "atoll-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the network directory %s is kept, with the nodes' logs", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	m, err := f.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	net := network.New(atollBinary, m)
	t.Cleanup(func() {
		if err := net.Close(); err != nil {
			t.Errorf("closing the network: %v", err)
		}
	})
	if err := net.StartAll(); err != nil {
		t.Fatal(err)
	}
	waitHeight(t, net, 1, 90*time.Second)
	return net
}

// waitHeight waits until every running node has committed height h.
func waitHeight(t *testing.T, net *network.Network, h int64, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := net.WaitHeight(ctx, h); err != nil {
		t.Fatal(err)
	}
}

// waitNode waits until node i has committed height h and returns its status.
func waitNode(t *testing.T, net *network.Network, i int, h int64, timeout time.Duration) *grpcapi.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := net.WaitNodeHeight(ctx, i, h)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// client returns the network's client of node i.
func client(t *testing.T, net *network.Network, i int) *grpcapi.Client {
	t.Helper()
	c, err := net.Client(i)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// atoll runs the CLI with args and returns its standard output; a failure fails the test.
func atoll(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := atollErr(t, args...)
	if err != nil {
		t.Fatalf("atoll %v: %v", args, err)
	}
	return out
}

// atollErr runs the CLI with args and returns its standard output and its error, which
// carries its standard error.
func atollErr(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, atollBinary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%w: %s", err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// atollJSON runs the CLI with args (which should include --json) and decodes its output.
func atollJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	data := atoll(t, args...)
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("atoll %v: decoding %q: %v", args, data, err)
	}
}
