package api

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

var testChain = hash.Digest([]byte("atoll registry test chain"))

func testSigner(t testing.TB, name string) *signature.MemorySigner {
	t.Helper()
	seed := hash.Digest([]byte(name))
	s, err := signature.NewSignerFromSeed(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testKey(t testing.TB, name string) signature.PublicKey { return testSigner(t, name).Public() }

func testRuntimeID(name string) namespace.Namespace {
	return namespace.Namespace(hash.Digest([]byte("runtime " + name)))
}

func v(major uint16) version.Version { return version.Version{Major: major} }

func bundle(name string) hash.Hash { return hash.Digest([]byte("bundle " + name)) }

func dep(major uint16, validFrom beacon.EpochTime) VersionInfo {
	return VersionInfo{Version: v(major), ValidFrom: validFrom, BundleChecksum: bundle(v(major).String())}
}

func testParams() *ConsensusParameters {
	p := DefaultConsensusParameters()
	return &p
}

// validRuntime returns a descriptor that passes ValidateRuntime under testParams, owned by the
// "entity" key, with one deployment valid from epoch 0.
func validRuntime(t testing.TB) *Runtime {
	t.Helper()
	return &Runtime{
		ID:          testRuntimeID("rt"),
		EntityID:    testKey(t, "entity"),
		Genesis:     RuntimeGenesis{StateRoot: hash.Empty},
		Kind:        KindCompute,
		TEEHardware: 0,
		Executor: ExecutorParameters{
			GroupSize: 3, GroupBackupSize: 2, AllowedStragglers: 1, RoundTimeout: 10, MaxMessages: 32,
		},
		TxnScheduler: TxnSchedulerParameters{
			MaxBatchSize: 100, MaxBatchSizeBytes: 1 << 20, BatchFlushTimeout: 1000, ProposeBatchTimeout: 5,
		},
		Storage: StorageParameters{
			GroupSize: 2, MinWriteReplication: 2, MaxApplyWriteLogEntries: 100_000, MaxApplyOps: 2,
		},
		AdmissionPolicy: AdmissionPolicy{AnyNode: &AnyNodePolicy{}},
		GovernanceModel: GovernanceEntity,
		Deployments:     []VersionInfo{dep(1, 0)},
	}
}

func epochT(e uint64) beacon.EpochTime { return beacon.EpochTime(e) }

// cloneRuntime deep-copies rt through its canonical encoding.
func cloneRuntime(t testing.TB, rt *Runtime) *Runtime {
	t.Helper()
	out, err := DecodeRuntime(cbor.Marshal(rt))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
