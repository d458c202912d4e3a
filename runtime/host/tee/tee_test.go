package tee

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	testRuntime = namespace.Namespace{31: 0x42}
	testChain   = hash.Digest([]byte("test genesis"))
)

func newProvider(t *testing.T) *MockProvider {
	t.Helper()
	p, err := NewMockProvider(MockProviderConfig{TEEHardware: HardwareMock, DebugMode: true, ChainContext: testChain})
	if err != nil {
		t.Fatalf("NewMockProvider() = %v", err)
	}
	return p
}

func TestTheMockProviderIsRefusedUnlessTheRuntimeIsMockAndTheNodeInDebugMode(t *testing.T) {
	for _, c := range []struct {
		name  string
		hw    Hardware
		debug bool
	}{
		{"no debug mode", HardwareMock, false},
		{"no TEE hardware", HardwareNone, true},
		{"sgx hardware", HardwareSGX, true},
		{"neither", HardwareNone, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewMockProvider(MockProviderConfig{TEEHardware: c.hw, DebugMode: c.debug, ChainContext: testChain})
			if !errors.Is(err, ErrMockNotAllowed) || p != nil {
				t.Fatalf("NewMockProvider() = %v, %v; want ErrMockNotAllowed", p, err)
			}
		})
	}
}

// enclaveHandler serves the TEE requests of a runtime from e, as a runtime SDK would.
func enclaveHandler(e Enclave) protocol.Handler {
	return protocol.HandlerFunc(func(_ context.Context, b *messages.Body) (*messages.Body, error) {
		switch {
		case b.RuntimeCapabilityTEERakInitRequest != nil:
			return nil, e.InitRAK(b.RuntimeCapabilityTEERakInitRequest)
		case b.RuntimeCapabilityTEERakReportRequest != nil:
			r, err := e.Report()
			if err != nil {
				return nil, err
			}
			return &messages.Body{RuntimeCapabilityTEERakReportResponse: r}, nil
		}
		return nil, protocol.ErrMethodNotSupported
	})
}

func connect(t *testing.T, runtimeHandler protocol.Handler) *protocol.Connection {
	t.Helper()
	a, b := net.Pipe()
	host := protocol.NewConnection(a, nil, protocol.Config{})
	rt := protocol.NewConnection(b, runtimeHandler, protocol.Config{})
	t.Cleanup(func() {
		_ = host.Close()
		_ = rt.Close()
	})
	return host
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAttestOverTheProtocolBindsTheEnclavesRAK(t *testing.T) {
	p := newProvider(t)
	e := NewMockEnclave(testRuntime, nil)
	att, err := Attest(testContext(t), connect(t, enclaveHandler(e)), p, testRuntime)
	if err != nil {
		t.Fatalf("Attest() = %v", err)
	}
	if att.Hardware != HardwareMock || att.RAK != e.RAK().Public() {
		t.Errorf("Attest() = %+v, want the enclave's RAK %s", att, e.RAK().Public())
	}
	if err := p.VerifyAttestation(testRuntime, att); err != nil {
		t.Errorf("VerifyAttestation() = %v", err)
	}
	if err := p.VerifyAttestation(namespace.Namespace{1}, att); !errors.Is(err, ErrInvalidReport) {
		t.Errorf("VerifyAttestation(another runtime) = %v, want ErrInvalidReport", err)
	}
}

func TestAnEnclaveAskedForAReportBeforeInitFails(t *testing.T) {
	_, err := Attest(testContext(t), connect(t, protocol.HandlerFunc(func(_ context.Context, b *messages.Body) (*messages.Body, error) {
		if b.RuntimeCapabilityTEERakInitRequest != nil {
			return nil, nil // claims success without making a RAK
		}
		return enclaveHandler(NewMockEnclave(testRuntime, nil)).Handle(context.Background(), b)
	})), newProvider(t), testRuntime)
	if err == nil {
		t.Fatal("Attest() succeeded against an enclave without a RAK")
	}
}

// report runs RAK init and report directly, returning the challenge and the answer.
func report(t *testing.T, p *MockProvider, e *MockEnclave) (*messages.RuntimeCapabilityTEERakInitRequest, *messages.RuntimeCapabilityTEERakReportResponse) {
	t.Helper()
	init, err := p.RakInit(testRuntime)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.InitRAK(init); err != nil {
		t.Fatalf("InitRAK() = %v", err)
	}
	r, err := e.Report()
	if err != nil {
		t.Fatal(err)
	}
	return init, r
}

func TestAMockReportVerifies(t *testing.T) {
	p := newProvider(t)
	e := NewMockEnclave(testRuntime, nil)
	init, r := report(t, p, e)
	att, err := p.Verify(testRuntime, init, r)
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if att.RAK != e.RAK().Public() {
		t.Errorf("RAK = %s, want %s", att.RAK, e.RAK().Public())
	}
}

func TestATamperedMockReportIsRejected(t *testing.T) {
	p := newProvider(t)
	e := NewMockEnclave(testRuntime, nil)
	init, good := report(t, p, e)
	other := NewMockEnclave(testRuntime, nil)
	_, otherReport := report(t, p, other)
	otherChain, err := NewMockProvider(MockProviderConfig{TEEHardware: HardwareMock, DebugMode: true, ChainContext: hash.Digest([]byte("another chain"))})
	if err != nil {
		t.Fatal(err)
	}
	otherChainInit, _ := otherChain.RakInit(testRuntime)

	clone := func() *messages.RuntimeCapabilityTEERakReportResponse {
		return &messages.RuntimeCapabilityTEERakReportResponse{
			RakPub: append([]byte(nil), good.RakPub...),
			Report: append([]byte(nil), good.Report...),
			Nonce:  append([]byte(nil), good.Nonce...),
		}
	}
	cases := []struct {
		name   string
		id     namespace.Namespace
		init   *messages.RuntimeCapabilityTEERakInitRequest
		tamper func(r *messages.RuntimeCapabilityTEERakReportResponse)
	}{
		{"another RAK named", testRuntime, init, func(r *messages.RuntimeCapabilityTEERakReportResponse) { r.RakPub = otherReport.RakPub }},
		{"another enclave's report", testRuntime, init, func(r *messages.RuntimeCapabilityTEERakReportResponse) {
			r.RakPub, r.Report = otherReport.RakPub, otherReport.Report
		}},
		{"another nonce", testRuntime, init, func(r *messages.RuntimeCapabilityTEERakReportResponse) { r.Nonce[0] ^= 1 }},
		{"a stale report for a new challenge", testRuntime, nil, func(*messages.RuntimeCapabilityTEERakReportResponse) {}},
		{"another runtime", namespace.Namespace{31: 7}, init, func(*messages.RuntimeCapabilityTEERakReportResponse) {}},
		{"a challenge of another chain", testRuntime, otherChainInit, func(*messages.RuntimeCapabilityTEERakReportResponse) {}},
		{"a truncated report", testRuntime, init, func(r *messages.RuntimeCapabilityTEERakReportResponse) { r.Report = r.Report[:len(r.Report)-1] }},
	}
	// Every single-bit flip anywhere in the report is caught.
	for i := range good.Report {
		cases = append(cases, struct {
			name   string
			id     namespace.Namespace
			init   *messages.RuntimeCapabilityTEERakInitRequest
			tamper func(r *messages.RuntimeCapabilityTEERakReportResponse)
		}{"a flipped bit in report byte " + strconv.Itoa(i), testRuntime, init, func(r *messages.RuntimeCapabilityTEERakReportResponse) { r.Report[i] ^= 0x10 }})
	}
	for _, c := range cases {
		init := c.init
		if init == nil {
			init, _ = p.RakInit(testRuntime)
		}
		r := clone()
		c.tamper(r)
		if att, err := p.Verify(c.id, init, r); !errors.Is(err, ErrInvalidReport) {
			t.Errorf("%s: Verify() = %+v, %v; want ErrInvalidReport", c.name, att, err)
		}
	}
	// The untouched report still verifies.
	if _, err := p.Verify(testRuntime, init, clone()); err != nil {
		t.Errorf("Verify(untampered) = %v", err)
	}
}

func TestAnEnclaveRefusesAChallengeForAnotherRuntime(t *testing.T) {
	p := newProvider(t)
	init, err := p.RakInit(namespace.Namespace{31: 9})
	if err != nil {
		t.Fatal(err)
	}
	if err := NewMockEnclave(testRuntime, nil).InitRAK(init); !errors.Is(err, ErrInvalidReport) {
		t.Errorf("InitRAK() = %v, want ErrInvalidReport", err)
	}
}
