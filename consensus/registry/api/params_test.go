package api

import (
	"testing"

	"github.com/atoll-project/atoll/consensus/transaction"
)

func TestDefaultParametersPassSanityCheck(t *testing.T) {
	if err := testParams().SanityCheck(); err != nil {
		t.Fatal(err)
	}
}

func TestSanityCheckRejectsOutOfRangeParameters(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func(p *ConsensusParameters)
		fragment string
	}{
		{"max_node_expiration of zero", func(p *ConsensusParameters) { p.MaxNodeExpiration = 0 }, "max_node_expiration"},
		{"min_deployment_notice below 2 epochs", func(p *ConsensusParameters) { p.MinDeploymentNotice = 1 }, "min_deployment_notice 1 out of range 2.."},
		{"max_deployments below 2", func(p *ConsensusParameters) { p.MaxDeployments = 1 }, "max_deployments"},
		{"max_deployments above 64", func(p *ConsensusParameters) { p.MaxDeployments = 65 }, "max_deployments"},
		{"max_runtime_messages too large", func(p *ConsensusParameters) { p.MaxRuntimeMessages = MaxMaxRuntimeMessages + 1 }, "max_runtime_messages"},
		{"a frame cap below 4 KiB", func(p *ConsensusParameters) { p.MaxFrameSize = 4095 }, "max_frame_size"},
		{"a frame cap above the decoder's limit", func(p *ConsensusParameters) { p.MaxFrameSize = MaxMaxFrameSize + 1 }, "max_frame_size"},
		{"a missing gas cost", func(p *ConsensusParameters) { delete(p.GasCosts, GasOpRegisterNode) }, `lacks "register_node"`},
		{"an unknown gas cost", func(p *ConsensusParameters) { p.GasCosts["bogus"] = transaction.Gas(1) }, `unknown methods ["bogus"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams()
			tc.mutate(p)
			assertRuleError(t, p.SanityCheck(), ErrInvalidParameters, []string{tc.fragment})
		})
	}
}
