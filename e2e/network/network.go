package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/atoll-project/atoll/consensus/grpcapi"
)

// DefaultStopTimeout is how long Stop and Close wait for a node to exit after SIGTERM before
// they kill it.
const DefaultStopTimeout = 30 * time.Second

// pollInterval is how often the waits ask the nodes for their status.
const pollInterval = 100 * time.Millisecond

// statusTimeout bounds one status call of a wait.
const statusTimeout = 3 * time.Second

// ErrClosed is returned by the methods of a closed Network.
var ErrClosed = errors.New("network: closed")

// Network runs the nodes of a Manifest as `atoll node` processes. Create it with New.
type Network struct {
	binary   string
	manifest *Manifest
	// StopTimeout overrides DefaultStopTimeout; set it before starting nodes.
	StopTimeout time.Duration

	mu      sync.Mutex
	nodes   []*nodeState
	closed  bool
	failure error // the first unexpected exit
	failed  chan struct{}
	waiters sync.WaitGroup
}

// nodeState is what the Network knows of one node.
type nodeState struct {
	proc   *process // the current or last run; nil before the first start
	starts int
	client *grpcapi.Client
}

// New returns a Network that runs the nodes of m with the atoll binary at binary. It starts
// nothing: call StartAll or Start. The caller must Close it.
func New(binary string, m *Manifest) *Network {
	nodes := make([]*nodeState, len(m.Nodes))
	for i := range nodes {
		nodes[i] = &nodeState{}
	}
	return &Network{binary: binary, manifest: m, nodes: nodes, failed: make(chan struct{})}
}

// Manifest returns the network's manifest.
func (n *Network) Manifest() *Manifest { return n.manifest }

// Size returns the number of nodes.
func (n *Network) Size() int { return len(n.nodes) }

func (n *Network) stopTimeout() time.Duration {
	if n.StopTimeout > 0 {
		return n.StopTimeout
	}
	return DefaultStopTimeout
}

// node returns node i's state; it is called with n.mu held.
func (n *Network) node(i int) (*nodeState, error) {
	if n.closed {
		return nil, ErrClosed
	}
	if i < 0 || i >= len(n.nodes) {
		return nil, fmt.Errorf("network: no node %d (the network has %d)", i, len(n.nodes))
	}
	return n.nodes[i], nil
}

// StartAll starts every node that is not running. On an error the nodes it started keep
// running; Close stops them.
func (n *Network) StartAll() error {
	for i := range n.nodes {
		if n.Running(i) {
			continue
		}
		if err := n.Start(i); err != nil {
			return err
		}
	}
	return nil
}

// Start starts node i, which must not be running. It returns once the process has started;
// WaitNodeHeight tells when the node serves.
func (n *Network) Start(i int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	st, err := n.node(i)
	if err != nil {
		return err
	}
	name := n.manifest.Nodes[i].Name
	if st.proc != nil && !st.proc.exited() {
		return fmt.Errorf("network: %s is already running", name)
	}
	n.dropClient(st)
	// A node killed with SIGKILL leaves its socket behind. The node would replace it, but
	// until then clients would dial a dead socket and back off; without it they fail fast.
	if err := os.Remove(n.manifest.Socket(i)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("network: %s: removing the stale socket: %w", name, err)
	}
	st.starts++
	p, err := startProcess(n.binary, n.manifest.NodeDir(i), n.manifest.ConfigFile(i), n.manifest.LogFile(i),
		fmt.Sprintf("network runner: starting %s (start %d)", name, st.starts))
	if err != nil {
		return fmt.Errorf("network: %s: %w", name, err)
	}
	st.proc = p
	n.waiters.Add(1)
	go func() {
		defer n.waiters.Done()
		p.wait()
		n.exited(i, p)
	}()
	return nil
}

// exited records the exit of a run of node i; an exit nobody asked for is the network's
// failure.
func (n *Network) exited(i int, p *process) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p.expected || n.failure != nil {
		return
	}
	n.failure = n.unexpectedExit(i, p)
	close(n.failed)
}

func (n *Network) unexpectedExit(i int, p *process) error {
	return fmt.Errorf("network: %s exited unexpectedly (%s); the end of %s:\n%s",
		n.manifest.Nodes[i].Name, exitDescription(p.err), n.manifest.LogFile(i), logTail(n.manifest.LogFile(i)))
}

// Stop stops node i with SIGTERM and waits for it to exit, killing it after StopTimeout (an
// error: a node must stop cleanly). Stopping a node that is not running does nothing.
func (n *Network) Stop(i int) error {
	return n.halt(i, syscall.SIGTERM)
}

// Kill kills node i with SIGKILL (a crash: nothing is flushed) and waits for it to exit.
// Killing a node that is not running does nothing.
func (n *Network) Kill(i int) error {
	return n.halt(i, syscall.SIGKILL)
}

func (n *Network) halt(i int, sig syscall.Signal) error {
	n.mu.Lock()
	st, err := n.node(i)
	if err != nil {
		n.mu.Unlock()
		return err
	}
	n.dropClient(st)
	p := st.proc
	if p == nil || p.exited() {
		n.mu.Unlock()
		return nil
	}
	p.expected = true
	n.mu.Unlock()
	if err := p.stop(sig, n.stopTimeout()); err != nil {
		return fmt.Errorf("network: %s %w; the end of its log:\n%s", n.manifest.Nodes[i].Name, err, logTail(n.manifest.LogFile(i)))
	}
	return nil
}

// Running reports whether node i's process is running.
func (n *Network) Running(i int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	st, err := n.node(i)
	return err == nil && st.proc != nil && !st.proc.exited()
}

// Failed is closed when a node exits without Stop, Kill or Close asking it to; Check then
// says which and why.
func (n *Network) Failed() <-chan struct{} { return n.failed }

// Check returns the first unexpected exit of a node, with the end of its log, or nil.
func (n *Network) Check() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.failure
}

// Client returns a client of node i's gRPC API over its Unix socket. The Network owns it: it
// is closed when the node stops or the network closes, and a new one is made after a restart
// (wait for the restarted node with WaitNodeHeight before asking for it).
func (n *Network) Client(i int) (*grpcapi.Client, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	st, err := n.node(i)
	if err != nil {
		return nil, err
	}
	if st.proc == nil || st.proc.exited() {
		return nil, fmt.Errorf("network: %s is not running", n.manifest.Nodes[i].Name)
	}
	if st.client == nil {
		c, err := grpcapi.DialUnix(n.manifest.Socket(i), grpcapi.ClientConfig{})
		if err != nil {
			return nil, fmt.Errorf("network: %s: %w", n.manifest.Nodes[i].Name, err)
		}
		st.client = c
	}
	return st.client, nil
}

// dropClient closes the node's client; it is called with n.mu held.
func (n *Network) dropClient(st *nodeState) {
	if st.client != nil {
		_ = st.client.Close()
		st.client = nil
	}
}

// Status returns node i's status.
func (n *Network) Status(ctx context.Context, i int) (*grpcapi.Status, error) {
	c, err := n.Client(i)
	if err != nil {
		return nil, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("network: status of %s: %w", n.manifest.Nodes[i].Name, err)
	}
	return st, nil
}

// Close stops every running node (SIGTERM, then SIGKILL after StopTimeout), waits until all
// have exited and closes the clients. It returns the first unexpected exit of a node during
// the network's life, or a node that did not stop cleanly. It is idempotent.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		n.waiters.Wait()
		return nil
	}
	var running []int
	for i, st := range n.nodes {
		n.dropClient(st)
		if st.proc != nil && !st.proc.exited() {
			st.proc.expected = true
			running = append(running, i)
		}
	}
	n.closed = true
	failure := n.failure
	n.mu.Unlock()

	// Stop the nodes together: one slow node should not make the others wait their turn.
	errs := make([]error, len(running))
	var wg sync.WaitGroup
	for k, i := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := n.nodes[i].proc
			if err := p.stop(syscall.SIGTERM, n.stopTimeout()); err != nil {
				errs[k] = fmt.Errorf("network: %s %w; the end of its log:\n%s", n.manifest.Nodes[i].Name, err, logTail(n.manifest.LogFile(i)))
			}
		}()
	}
	wg.Wait()
	n.waiters.Wait()
	return errors.Join(append([]error{failure}, errs...)...)
}

// WaitHeight waits until every running node has committed height h. It fails when ctx ends
// first (naming the nodes behind, with the end of their logs) or when a node has exited
// unexpectedly, before the call or during it.
func (n *Network) WaitHeight(ctx context.Context, h int64) error {
	if err := n.Check(); err != nil {
		return err
	}
	var running []int
	for i := range n.nodes {
		if n.Running(i) {
			running = append(running, i)
		}
	}
	if len(running) == 0 {
		return errors.New("network: no node is running")
	}
	// A node that dies ends the whole wait at once, not only its own part of it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-n.failed:
			cancel()
		case <-ctx.Done():
		}
	}()
	errs := make([]error, len(running))
	var wg sync.WaitGroup
	for k, i := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[k] = n.WaitNodeHeight(ctx, i, h)
		}()
	}
	wg.Wait()
	if err := n.Check(); err != nil {
		return fmt.Errorf("waiting for height %d: %w", h, err)
	}
	return errors.Join(errs...)
}

// WaitNodeHeight waits until node i has committed height h and returns its status then. It
// fails when ctx ends first or when the node is not running (it exited, or was stopped), the
// error carrying the end of its log.
func (n *Network) WaitNodeHeight(ctx context.Context, i int, h int64) (*grpcapi.Status, error) {
	n.mu.Lock()
	st, err := n.node(i)
	var p *process
	if err == nil {
		p = st.proc
	}
	n.mu.Unlock()
	if err != nil {
		return nil, err
	}
	name := n.manifest.Nodes[i].Name
	if p == nil {
		return nil, fmt.Errorf("network: %s was never started", name)
	}
	// The wait uses its own connection, redialled whenever the node does not answer, so a
	// restart in between costs no reconnection back-off.
	var c *grpcapi.Client
	defer func() {
		if c != nil {
			_ = c.Close()
		}
	}()
	var last error
	var lastHeight int64
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if p.exited() {
			n.mu.Lock()
			expected := p.expected
			n.mu.Unlock()
			if expected {
				return nil, fmt.Errorf("network: %s was stopped while waiting for height %d", name, h)
			}
			return nil, fmt.Errorf("waiting for height %d: %w", h, n.unexpectedExit(i, p))
		}
		if c == nil {
			c, last = grpcapi.DialUnix(n.manifest.Socket(i), grpcapi.ClientConfig{})
		}
		if c != nil {
			callCtx, cancel := context.WithTimeout(ctx, statusTimeout)
			status, err := c.Status(callCtx)
			cancel()
			switch {
			case err == nil && status.CommittedHeight >= h:
				return status, nil
			case err == nil:
				lastHeight, last = status.CommittedHeight, nil
			case errors.Is(err, grpcapi.ErrNoNode):
				_ = c.Close()
				c, last = nil, err
			default:
				last = err
			}
		}
		select {
		case <-ctx.Done():
			why := fmt.Sprintf("it is at height %d", lastHeight)
			if last != nil {
				why = fmt.Sprintf("its last answer: %v", last)
			}
			return nil, fmt.Errorf("network: %s did not reach height %d (%v; %s); the end of %s:\n%s",
				name, h, ctx.Err(), why, n.manifest.LogFile(i), logTail(n.manifest.LogFile(i)))
		case <-p.done:
		case <-ticker.C:
		}
	}
}
