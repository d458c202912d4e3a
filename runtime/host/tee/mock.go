package tee

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// The mock TEE's wire forms. Target info is canonical CBOR of mockTargetInfo; a report is a
// signature.Signed whose blob is canonical CBOR of mockReportBody, signed by the RAK itself in
// the context mockReportContext bound to the chain and the runtime.

// mockLabel marks every mock target info and report, so that nobody mistakes one for a real
// attestation.
const mockLabel = "atoll/tee: INSECURE mock TEE, no hardware, proves nothing"

// mockNonceSize is the size of the host's fresh challenge.
const mockNonceSize = 32

// mockMaxSize caps the mock's untrusted target infos and reports.
const mockMaxSize = 4 << 10

// mockReportContext is the signing context of mock reports (a registered signing context is a
// package-level value by the signature package's design).
var mockReportContext = signature.NewContext("atoll/tee: INSECURE mock report", signature.WithRuntimeSeparation())

type mockTargetInfo struct {
	Label        string              `cbor:"label"`
	RuntimeID    namespace.Namespace `cbor:"runtime_id"`
	ChainContext hash.Hash           `cbor:"chain_context"`
	Nonce        []byte              `cbor:"nonce"`
}

type mockReportBody struct {
	Label     string              `cbor:"label"`
	RuntimeID namespace.Namespace `cbor:"runtime_id"`
	RAK       signature.PublicKey `cbor:"rak"`
	Nonce     []byte              `cbor:"nonce"`
}

// MockProviderConfig configures NewMockProvider.
type MockProviderConfig struct {
	// TEEHardware is the runtime descriptor's tee_hardware; it must be HardwareMock.
	TEEHardware Hardware
	// DebugMode says the node runs in debug mode; it must be true.
	DebugMode bool
	// ChainContext is the chain the reports are bound to (the hash of the genesis document).
	ChainContext hash.Hash
	// Rand is the source of challenges; nil means crypto/rand.
	Rand io.Reader
	// Logger receives the INSECURE warnings; nil discards them.
	Logger *slog.Logger
}

// MockProvider is the INSECURE mock TEE's host side (see the package documentation).
type MockProvider struct {
	chain  hash.Hash
	rand   io.Reader
	logger *slog.Logger
	randMu sync.Mutex
}

var _ Provider = (*MockProvider)(nil)

// NewMockProvider returns the INSECURE mock provider. It refuses (ErrMockNotAllowed) unless
// cfg.TEEHardware is HardwareMock and cfg.DebugMode is set, and logs a warning when it
// succeeds.
func NewMockProvider(cfg MockProviderConfig) (*MockProvider, error) {
	if cfg.TEEHardware != HardwareMock {
		return nil, fmt.Errorf("%w: the runtime's tee_hardware is %s", ErrMockNotAllowed, cfg.TEEHardware)
	}
	if !cfg.DebugMode {
		return nil, fmt.Errorf("%w: the node is not in debug mode", ErrMockNotAllowed)
	}
	if cfg.ChainContext.IsZero() {
		return nil, fmt.Errorf("tee: INSECURE mock provider: zero chain context")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	logger = logger.With("module", "tee")
	logger.Warn("INSECURE: using the mock TEE; its attestations prove nothing and must never protect real value")
	return &MockProvider{chain: cfg.ChainContext, rand: r, logger: logger}, nil
}

// Hardware returns HardwareMock.
func (p *MockProvider) Hardware() Hardware { return HardwareMock }

// RakInit returns a RAK init request whose target info binds the runtime, the chain and a
// fresh nonce.
func (p *MockProvider) RakInit(id namespace.Namespace) (*messages.RuntimeCapabilityTEERakInitRequest, error) {
	nonce := make([]byte, mockNonceSize)
	p.randMu.Lock()
	_, err := io.ReadFull(p.rand, nonce)
	p.randMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("tee: INSECURE mock: reading a nonce: %w", err)
	}
	ti := mockTargetInfo{Label: mockLabel, RuntimeID: id, ChainContext: p.chain, Nonce: nonce}
	return &messages.RuntimeCapabilityTEERakInitRequest{TargetInfo: cbor.Marshal(&ti)}, nil
}

// Verify checks that resp is a mock report by the RAK it names, for runtime id on this chain,
// answering the nonce of init.
func (p *MockProvider) Verify(id namespace.Namespace, init *messages.RuntimeCapabilityTEERakInitRequest, resp *messages.RuntimeCapabilityTEERakReportResponse) (*Attestation, error) {
	ti, err := decodeMockTargetInfo(init.TargetInfo)
	if err != nil {
		return nil, err
	}
	if ti.RuntimeID != id || ti.ChainContext != p.chain {
		return nil, fmt.Errorf("%w: INSECURE mock: the challenge was made for another runtime or chain", ErrInvalidReport)
	}
	if !bytes.Equal(resp.Nonce, ti.Nonce) {
		return nil, fmt.Errorf("%w: INSECURE mock: the report answers another nonce", ErrInvalidReport)
	}
	var rak signature.PublicKey
	if err := rak.UnmarshalBinary(resp.RakPub); err != nil {
		return nil, fmt.Errorf("%w: INSECURE mock: %w", ErrInvalidReport, err)
	}
	att := &Attestation{Hardware: HardwareMock, RAK: rak, Report: resp.Report}
	body, err := p.open(id, att)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(body.Nonce, ti.Nonce) {
		return nil, fmt.Errorf("%w: INSECURE mock: the report was made for another nonce", ErrInvalidReport)
	}
	p.logger.Warn("INSECURE: accepted a mock TEE report; it proves nothing", "runtime_id", id, "rak", rak)
	return att, nil
}

// VerifyAttestation checks a mock attestation without a challenge (as a registry would, from a
// node descriptor): the report must be a mock report for runtime id on this chain, signed by
// att.RAK. It does not show freshness.
func (p *MockProvider) VerifyAttestation(id namespace.Namespace, att *Attestation) error {
	if att.Hardware != HardwareMock {
		return fmt.Errorf("%w: INSECURE mock: attestation for %s hardware", ErrInvalidReport, att.Hardware)
	}
	_, err := p.open(id, att)
	return err
}

// open verifies att's report and returns its body.
func (p *MockProvider) open(id namespace.Namespace, att *Attestation) (*mockReportBody, error) {
	if len(att.Report) > mockMaxSize {
		return nil, fmt.Errorf("%w: INSECURE mock: report of %d bytes", ErrInvalidReport, len(att.Report))
	}
	var signed signature.Signed
	if err := cbor.UnmarshalCanonical(att.Report, &signed); err != nil {
		return nil, fmt.Errorf("%w: INSECURE mock: %w", ErrInvalidReport, err)
	}
	if signed.Signature.PublicKey != att.RAK {
		return nil, fmt.Errorf("%w: INSECURE mock: the report is signed by %s, not the RAK %s", ErrInvalidReport, signed.Signature.PublicKey, att.RAK)
	}
	var body mockReportBody
	if err := signed.Open(mockReportContext.ForChain(p.chain).ForRuntime(id), &body); err != nil {
		return nil, fmt.Errorf("%w: INSECURE mock: %w", ErrInvalidReport, err)
	}
	if body.Label != mockLabel || body.RuntimeID != id || body.RAK != att.RAK {
		return nil, fmt.Errorf("%w: INSECURE mock: the report binds another label, runtime or RAK", ErrInvalidReport)
	}
	return &body, nil
}

func decodeMockTargetInfo(data []byte) (*mockTargetInfo, error) {
	if len(data) > mockMaxSize {
		return nil, fmt.Errorf("%w: INSECURE mock: target info of %d bytes", ErrInvalidReport, len(data))
	}
	var ti mockTargetInfo
	if err := cbor.UnmarshalCanonical(data, &ti); err != nil {
		return nil, fmt.Errorf("%w: INSECURE mock: target info: %w", ErrInvalidReport, err)
	}
	if ti.Label != mockLabel || len(ti.Nonce) != mockNonceSize || ti.ChainContext.IsZero() {
		return nil, fmt.Errorf("%w: INSECURE mock: target info is not a mock challenge", ErrInvalidReport)
	}
	return &ti, nil
}

// MockEnclave is the INSECURE mock TEE's runtime side: it makes a RAK in ordinary memory and
// signs its own report with it. A runtime uses it only when its descriptor says
// tee_hardware = mock.
type MockEnclave struct {
	id   namespace.Namespace
	rand io.Reader

	mu     sync.Mutex
	rak    *signature.MemorySigner
	report *messages.RuntimeCapabilityTEERakReportResponse
}

var _ Enclave = (*MockEnclave)(nil)

// NewMockEnclave returns the INSECURE mock enclave of runtime id; random (nil: crypto/rand) is
// the source of RAK seeds.
func NewMockEnclave(id namespace.Namespace, random io.Reader) *MockEnclave {
	if random == nil {
		random = rand.Reader
	}
	return &MockEnclave{id: id, rand: random}
}

// InitRAK makes a new RAK and the report answering req's challenge. A challenge for another
// runtime is refused.
func (e *MockEnclave) InitRAK(req *messages.RuntimeCapabilityTEERakInitRequest) error {
	ti, err := decodeMockTargetInfo(req.TargetInfo)
	if err != nil {
		return err
	}
	if ti.RuntimeID != e.id {
		return fmt.Errorf("%w: INSECURE mock: challenge for runtime %s, this is %s", ErrInvalidReport, ti.RuntimeID, e.id)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rak, err := signature.GenerateSigner(e.rand)
	if err != nil {
		return fmt.Errorf("tee: INSECURE mock: %w", err)
	}
	body := mockReportBody{Label: mockLabel, RuntimeID: e.id, RAK: rak.Public(), Nonce: ti.Nonce}
	signed, err := signature.SignBlob(rak, mockReportContext.ForChain(ti.ChainContext).ForRuntime(e.id), &body)
	if err != nil {
		return fmt.Errorf("tee: INSECURE mock: %w", err)
	}
	if e.rak != nil {
		e.rak.Reset()
	}
	pub := rak.Public()
	e.rak = rak
	e.report = &messages.RuntimeCapabilityTEERakReportResponse{
		RakPub: pub[:],
		Report: cbor.Marshal(signed),
		Nonce:  ti.Nonce,
	}
	return nil
}

// Report returns the report made by the last InitRAK.
func (e *MockEnclave) Report() (*messages.RuntimeCapabilityTEERakReportResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.report == nil {
		return nil, ErrNotInitialized
	}
	r := *e.report
	return &r, nil
}

// RAK returns the current RAK, or nil before InitRAK.
func (e *MockEnclave) RAK() signature.Signer {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rak == nil {
		return nil
	}
	return e.rak
}
