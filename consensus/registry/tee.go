package registry

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/runtime/host/tee"
)

// teeVerifier verifies node TEE capabilities for the chain. The only TEE is the INSECURE mock
// of runtime/host/tee, used only for runtimes whose tee_hardware is mock and only when the
// genesis sets debug_allow_mock_tee (consensus never depends on how a binary was built). A
// mock report binds the RAK to the runtime and the chain; it carries no version policy, so the
// deployment's tee blob is not consulted. SGX is reserved and verifies nothing.
type teeVerifier struct {
	chain     hash.Hash
	allowMock bool
	logger    *slog.Logger
}

var _ api.TEEVerifier = teeVerifier{}

// errNoTEEVerifier is wrapped when no verifier exists for a runtime's hardware.
var errNoTEEVerifier = errors.New("registry: no TEE verifier")

// VerifyTEE implements api.TEEVerifier.
func (t teeVerifier) VerifyTEE(rt *api.Runtime, _ *api.VersionInfo, _ signature.PublicKey, c *node.CapabilityTEE) error {
	if rt.TEEHardware != node.TEEHardwareMock || c.Hardware != node.TEEHardwareMock {
		return fmt.Errorf("%w for %s", errNoTEEVerifier, rt.TEEHardware)
	}
	if !t.allowMock {
		return fmt.Errorf("%w: the mock TEE needs the genesis flag debug_allow_mock_tee", errNoTEEVerifier)
	}
	p, err := tee.NewMockProvider(tee.MockProviderConfig{
		TEEHardware: tee.HardwareMock, DebugMode: true, ChainContext: t.chain, Logger: t.logger,
	})
	if err != nil {
		return err
	}
	return p.VerifyAttestation(rt.ID, &tee.Attestation{Hardware: tee.HardwareMock, RAK: c.RAK, Report: c.Attestation})
}
