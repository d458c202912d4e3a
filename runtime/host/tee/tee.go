// Package tee is the runtime host's trusted-execution capability: a Provider prepares the
// runtime attestation key (RAK) initialisation for a runtime and verifies the report the
// runtime returns, and Attest runs that exchange over the Runtime Host Protocol
// (RuntimeCapabilityTEERakInitRequest, then RuntimeCapabilityTEERakReportRequest). The
// verified Attestation (hardware, RAK public key, report) is what a node registers in its
// runtime entry's capabilities.tee (DESIGN.md §4), and the RAK is the key whose signatures
// over compute results roothash checks.
//
// The runtime's side of the exchange is an Enclave: it creates the RAK inside the TEE and
// produces the report binding it.
//
// The only provider today is the mock one (NewMockProvider, NewMockEnclave). It is INSECURE:
// there is no hardware, so anyone can produce a report the mock verifier accepts, and its
// "attestation" proves only that whoever answered holds the RAK's private key and saw the
// host's fresh nonce. It exists so that the TEE code paths of nodes, registry and roothash can
// run in development networks. It can be constructed only when the runtime descriptor says
// tee_hardware = mock (which consensus accepts only under its genesis debug flag) AND the node
// runs in debug mode; every construction and verification logs a warning saying so. SGX
// (tee_hardware = 2) is reserved and has no provider.
//
// Concurrency: Providers and Enclaves are safe for concurrent use. Errors are wrapped under
// the "tee:" prefix and match this package's sentinels with errors.Is.
package tee

import (
	"context"
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// Hardware is a runtime descriptor's tee_hardware (DESIGN.md §4).
type Hardware uint8

const (
	// HardwareNone: the runtime does not run in a TEE.
	HardwareNone Hardware = 0
	// HardwareMock: an INSECURE software stand-in, accepted by consensus only under the
	// genesis flag debug_allow_mock_tee.
	HardwareMock Hardware = 1
	// HardwareSGX is reserved; no provider implements it yet.
	HardwareSGX Hardware = 2
)

func (h Hardware) String() string {
	switch h {
	case HardwareNone:
		return "none"
	case HardwareMock:
		return "mock (INSECURE)"
	case HardwareSGX:
		return "sgx"
	default:
		return fmt.Sprintf("unknown(%d)", uint8(h))
	}
}

var (
	// ErrMockNotAllowed is returned by NewMockProvider unless the runtime's tee_hardware is
	// mock and the node runs in debug mode.
	ErrMockNotAllowed = errors.New("tee: the INSECURE mock TEE is allowed only for a runtime whose tee_hardware is mock on a node in debug mode")
	// ErrInvalidReport is returned when a report does not verify: it is malformed, made for
	// another runtime, chain or nonce, binds another RAK, or its signature is wrong.
	ErrInvalidReport = errors.New("tee: invalid attestation report")
	// ErrNotInitialized is returned by an Enclave asked for a report before its RAK exists.
	ErrNotInitialized = errors.New("tee: runtime attestation key not initialised")
	// ErrUnexpectedResponse is returned by Attest when the runtime answers with the wrong body.
	ErrUnexpectedResponse = errors.New("tee: unexpected response from the runtime")
)

// Attestation is a verified binding of a runtime attestation key to a TEE.
type Attestation struct {
	// Hardware is the TEE that produced the report.
	Hardware Hardware `cbor:"hardware"`
	// RAK is the runtime attestation key's public key.
	RAK signature.PublicKey `cbor:"rak"`
	// Report is the TEE's report binding RAK, as the runtime produced it.
	Report []byte `cbor:"report"`
}

// Provider is the host side of a TEE.
type Provider interface {
	// Hardware says which TEE the provider speaks for.
	Hardware() Hardware
	// RakInit returns the request that asks runtime id to initialise its RAK. Every call
	// carries a fresh challenge; the same request must be passed to Verify.
	RakInit(id namespace.Namespace) (*messages.RuntimeCapabilityTEERakInitRequest, error)
	// Verify checks the runtime's report answer to init and returns the attestation it proves.
	// Errors wrap ErrInvalidReport.
	Verify(id namespace.Namespace, init *messages.RuntimeCapabilityTEERakInitRequest, resp *messages.RuntimeCapabilityTEERakReportResponse) (*Attestation, error)
}

// Enclave is the runtime side of a TEE: it lives inside the TEE with the runtime.
type Enclave interface {
	// InitRAK creates a new RAK for the quoting target the host described.
	InitRAK(req *messages.RuntimeCapabilityTEERakInitRequest) error
	// Report returns the report binding the RAK; ErrNotInitialized before InitRAK.
	Report() (*messages.RuntimeCapabilityTEERakReportResponse, error)
	// RAK returns the signer of the current RAK, or nil before InitRAK. The runtime signs its
	// compute results headers with it.
	RAK() signature.Signer
}

// Caller sends a request to a runtime; *protocol.Connection implements it.
type Caller interface {
	Call(ctx context.Context, body *messages.Body) (*messages.Body, error)
}

// Attest runs the RAK exchange with runtime id over c: RAK init with a fresh challenge from p,
// then the report, which p verifies. ctx bounds the whole exchange.
func Attest(ctx context.Context, c Caller, p Provider, id namespace.Namespace) (*Attestation, error) {
	init, err := p.RakInit(id)
	if err != nil {
		return nil, err
	}
	resp, err := c.Call(ctx, &messages.Body{RuntimeCapabilityTEERakInitRequest: init})
	if err != nil {
		return nil, fmt.Errorf("tee: RAK init: %w", err)
	}
	if resp.Empty == nil {
		return nil, fmt.Errorf("%w: RAK init answered with %s", ErrUnexpectedResponse, resp.Kind())
	}
	resp, err = c.Call(ctx, &messages.Body{RuntimeCapabilityTEERakReportRequest: &messages.RuntimeCapabilityTEERakReportRequest{}})
	if err != nil {
		return nil, fmt.Errorf("tee: RAK report: %w", err)
	}
	report := resp.RuntimeCapabilityTEERakReportResponse
	if report == nil {
		return nil, fmt.Errorf("%w: RAK report answered with %s", ErrUnexpectedResponse, resp.Kind())
	}
	return p.Verify(id, init, report)
}
