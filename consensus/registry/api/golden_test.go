package api

import (
	"encoding/hex"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// goldenRuntime has every field of the descriptor set.
func goldenRuntime(t *testing.T) *Runtime {
	rt := validRuntime(t)
	rt.Genesis = RuntimeGenesis{StateRoot: hash.Digest([]byte("golden state")), Round: 7}
	rt.TEEHardware = node.TEEHardwareMock
	rt.Constraints = Constraints{
		Executor: RoleConstraints{MaxNodesPerEntity: 2, MinPoolSize: 4},
		Storage:  RoleConstraints{MaxNodesPerEntity: 1},
	}
	rt.AdmissionPolicy = AdmissionPolicy{EntityWhitelist: &EntityWhitelistPolicy{Entities: map[signature.PublicKey]EntityWhitelistConfig{
		testKey(t, "entity"): {MaxNodes: map[node.RolesMask]uint16{node.RoleCompute: 3, node.RoleStorage: 2}},
		testKey(t, "other"):  {},
	}}}
	rt.Staking = RuntimeStakingParameters{
		Thresholds: map[staking.ThresholdKind]quantity.Quantity{staking.KindNodeCompute: *quantity.NewFromUint64(1000)},
		Slashing:   map[staking.SlashReason]staking.SlashParams{staking.SlashIncorrectResults: {Amount: *quantity.NewFromUint64(50), FreezeInterval: 3}},
	}
	rt.GovernanceModel = GovernanceRuntime
	rt.Deployments = []VersionInfo{dep(1, 0), dep(2, 12)}
	rt.Deployments[1].TEE = []byte("golden policy")
	return rt
}

// The encodings below are frozen: a change means a descriptor's wire form changed, which
// forks consensus and needs a protocol version bump.
const (
	goldenRuntimeHash = "202b45e63aaa4844db131cc22c29ffda00b608c99de9bf105f69f6ff89845f1a"
	goldenEntityHash  = "70fc34c65707e97583e07a3d01e0b6e75daf78391b398f9b55bea9fb98c4df90"
)

func TestRuntimeDescriptorEncodingGoldenVector(t *testing.T) {
	enc := cbor.Marshal(goldenRuntime(t))
	if got := hash.Digest(enc).String(); got != goldenRuntimeHash {
		t.Errorf("H(cbor(runtime)) = %s, want %s\ncbor: %s", got, goldenRuntimeHash, hex.EncodeToString(enc))
	}
	back, err := DecodeRuntime(enc)
	if err != nil {
		t.Fatalf("the golden encoding does not decode: %v", err)
	}
	p := testParams()
	p.DebugAllowMockTEE = true
	if err := VerifyRuntimeRegistration(p, back, 0, true); err != nil {
		t.Errorf("the golden descriptor is not valid: %v", err)
	}
}

func TestEntityEncodingGoldenVector(t *testing.T) {
	e := &Entity{ID: testKey(t, "entity"), Nodes: []signature.PublicKey{testKey(t, "node"), testKey(t, "node 2")}}
	enc := cbor.Marshal(e)
	if got := hash.Digest(enc).String(); got != goldenEntityHash {
		t.Errorf("H(cbor(entity)) = %s, want %s\ncbor: %s", got, goldenEntityHash, hex.EncodeToString(enc))
	}
}
