package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/atoll-project/atoll/consensus/grpcapi"
)

// testNode is one `atoll node` process.
type testNode struct {
	t       *testing.T
	dataDir string
	config  string
	log     string
	cmd     *exec.Cmd
	// done is closed once the process has exited, with its exit status in waitErr.
	done    chan struct{}
	waitErr error
}

// newTestNode writes the configuration of a node whose data directory already holds keys and
// genesis.json. Everything listens on loopback; CometBFT's RPC is off.
func newTestNode(t *testing.T, dataDir string) *testNode {
	t.Helper()
	cfg := fmt.Sprintf(`datadir: %s
log:
  level: info
consensus:
  moniker: e2e
  timeout_commit: 100ms
  p2p:
    listen: tcp://127.0.0.1:0
  rpc:
    listen: ""
`, dataDir)
	path := filepath.Join(filepath.Dir(dataDir), filepath.Base(dataDir)+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return &testNode{t: t, dataDir: dataDir, config: path, log: filepath.Join(filepath.Dir(dataDir), filepath.Base(dataDir)+".log")}
}

// start starts the node process, appending its output to its log file.
func (n *testNode) start() {
	n.t.Helper()
	logFile, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	n.cmd = exec.Command(atollBinary, "node", "--config", n.config)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	if err := n.cmd.Start(); err != nil {
		_ = logFile.Close()
		n.t.Fatal(err)
	}
	done := make(chan struct{})
	n.done = done
	go func() {
		n.waitErr = n.cmd.Wait()
		_ = logFile.Close()
		close(done)
	}()
	n.t.Cleanup(func() { n.kill() })
}

// kill sends SIGKILL and waits for the process to exit; it is a no-op when it already has.
func (n *testNode) kill() { n.signal(syscall.SIGKILL) }

// stop sends SIGTERM (a clean stop) and waits for the exit.
func (n *testNode) stop() { n.signal(syscall.SIGTERM) }

func (n *testNode) signal(sig syscall.Signal) {
	if n.cmd == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(sig)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
		n.t.Errorf("node did not exit within 30s of %s", sig)
	}
}

// socket returns the node's gRPC socket.
func (n *testNode) socket() string { return filepath.Join(n.dataDir, "atoll.sock") }

// client returns a client of the node (the socket must exist).
func (n *testNode) client() *grpcapi.Client {
	n.t.Helper()
	c, err := grpcapi.DialUnix(n.socket(), grpcapi.ClientConfig{QueryTimeout: 5 * time.Second})
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitHeight waits until the node has committed height h, failing the test at the deadline or
// when the process exits.
func (n *testNode) waitHeight(h int64, timeout time.Duration) *grpcapi.Status {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var c *grpcapi.Client
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			n.t.Fatalf("node exited (%v) before height %d; log:\n%s", n.waitErr, h, n.tail())
		default:
		}
		if c == nil {
			if cl, err := grpcapi.DialUnix(n.socket(), grpcapi.ClientConfig{QueryTimeout: 2 * time.Second}); err == nil {
				c = cl
				defer c.Close()
			} else {
				last = err
			}
		}
		if c != nil {
			st, err := c.Status(context.Background())
			if err == nil && st.CommittedHeight >= h {
				return st
			}
			last = err
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not a wait for an outcome
	}
	n.t.Fatalf("height %d not reached in %s (last error %v); log:\n%s", h, timeout, last, n.tail())
	return nil
}

// tail returns the end of the node's log.
func (n *testNode) tail() string {
	data, _ := os.ReadFile(n.log)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
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
