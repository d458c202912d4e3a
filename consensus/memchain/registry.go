package memchain

import (
	"fmt"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// Registry fixtures: deterministic test runtimes, nodes and the signed transactions and genesis
// entries that register them. Like TestSigner, every key here is public: tests only.

// TestRuntimeID returns test runtime number i's ID.
func TestRuntimeID(i int) namespace.Namespace {
	return namespace.Namespace(hash.Digest([]byte(fmt.Sprintf("atoll/memchain: test runtime %d", i))))
}

// TestBundle returns the bundle checksum of version v of runtime id.
func TestBundle(id namespace.Namespace, v version.Version) hash.Hash {
	return hash.Digest([]byte("atoll/memchain: test bundle"), id[:], []byte(v.String()))
}

// TestRuntime returns a descriptor that passes the registry's rules under the default
// parameters: runtime i of entity, entity-governed, admitting any node, one deployment of
// version 1.0.0 valid from validFrom; executor committees of 2 workers and 1 backup, storage
// committees of 1.
func TestRuntime(i int, entity signature.PublicKey, validFrom beacon.EpochTime) *registry.Runtime {
	id := TestRuntimeID(i)
	v := version.Version{Major: 1}
	return &registry.Runtime{
		ID:       id,
		EntityID: entity,
		Genesis:  registry.RuntimeGenesis{StateRoot: hash.Empty},
		Kind:     registry.KindCompute,
		Executor: registry.ExecutorParameters{GroupSize: 2, GroupBackupSize: 1, RoundTimeout: 10, MaxMessages: 16},
		TxnScheduler: registry.TxnSchedulerParameters{
			MaxBatchSize: 100, MaxBatchSizeBytes: 1 << 16, BatchFlushTimeout: 100, ProposeBatchTimeout: 2,
		},
		Storage:         registry.StorageParameters{GroupSize: 1, MinWriteReplication: 1, MaxApplyWriteLogEntries: 1000, MaxApplyOps: 2},
		AdmissionPolicy: registry.AdmissionPolicy{AnyNode: &registry.AnyNodePolicy{}},
		GovernanceModel: registry.GovernanceEntity,
		Deployments:     []registry.VersionInfo{{Version: v, ValidFrom: validFrom, BundleChecksum: TestBundle(id, v)}},
	}
}

// TestNodeSigner returns the node key of test node i.
func TestNodeSigner(i int) *signature.MemorySigner { return TestSigner("node", i) }

// NodeRuntime returns a node's runtime entry for version v of runtime rt, with the deployment's
// bundle checksum when rt has that version (TestBundle otherwise).
func NodeRuntime(rt *registry.Runtime, v version.Version) node.Runtime {
	sum := TestBundle(rt.ID, v)
	if d := rt.DeploymentForVersion(v); d != nil {
		sum = d.BundleChecksum
	}
	return node.Runtime{ID: rt.ID, Version: v, BundleChecksum: sum}
}

// TestNode returns test node i of entity: its node key (TestNodeSigner(i)), distinct consensus
// and TLS keys, a loopback TLS address, the roles, expiration and runtime entries given.
func TestNode(i int, entity signature.PublicKey, roles node.RolesMask, expiration beacon.EpochTime, runtimes ...node.Runtime) *node.Node {
	return &node.Node{
		ID:         TestNodeSigner(i).Public(),
		EntityID:   entity,
		Expiration: uint64(expiration),
		TLS: node.TLSInfo{
			PubKey:    TestSigner("node-tls", i).Public(),
			Addresses: []string{fmt.Sprintf("127.0.0.1:%d", 20000+i)},
		},
		Consensus: node.ConsensusInfo{ID: TestSigner("node-consensus", i).Public()},
		Runtimes:  runtimes,
		Roles:     roles,
	}
}

// RegisterEntityTx returns a registry.RegisterEntity transaction by entity listing nodes.
func (f *Fixture) RegisterEntityTx(entity signature.Signer, nonce uint64, nodes ...signature.PublicKey) []byte {
	e := &registry.Entity{ID: entity.Public(), Nodes: nodes}
	signed, err := registry.SignEntity(entity, registry.RegisterEntitySignatureContext.ForChain(f.ChainContext), e)
	if err != nil {
		panic(err)
	}
	return f.SignTx(entity, Tx{Nonce: nonce, Gas: 10_000, Method: registry.MethodRegisterEntity, Body: signed})
}

// RegisterNodeTx returns a registry.RegisterNode transaction for n, signed by its node key
// nodeSigner and sent (and paid) by payer with the given gas limit.
func (f *Fixture) RegisterNodeTx(payer, nodeSigner signature.Signer, nonce uint64, gas transaction.Gas, n *node.Node) []byte {
	signed, err := node.Sign(nodeSigner, node.RegisterSignatureContext.ForChain(f.ChainContext), n)
	if err != nil {
		panic(err)
	}
	return f.SignTx(payer, Tx{Nonce: nonce, Gas: gas, Method: registry.MethodRegisterNode, Body: signed})
}

// RegisterRuntimeTx returns a registry.RegisterRuntime transaction for rt sent by signer.
func (f *Fixture) RegisterRuntimeTx(signer signature.Signer, nonce uint64, rt *registry.Runtime) []byte {
	return f.SignTx(signer, Tx{Nonce: nonce, Gas: 10_000, Method: registry.MethodRegisterRuntime, Body: rt})
}

// GenesisRegistry is what AddGenesisRegistry puts in a genesis document.
type GenesisRegistry struct {
	// Entities list the nodes they vouch for.
	Entities []GenesisEntity
	Runtimes []GenesisRuntime
	// Nodes are signed by their node keys.
	Nodes []GenesisNode
}

// GenesisEntity is a genesis entity and the nodes it lists.
type GenesisEntity struct {
	Signer signature.Signer
	Nodes  []signature.PublicKey
}

// GenesisRuntime is a genesis runtime signed by its entity's key.
type GenesisRuntime struct {
	Signer    signature.Signer
	Runtime   *registry.Runtime
	Suspended bool
}

// GenesisNode is a genesis node signed by its node key.
type GenesisNode struct {
	Signer signature.Signer
	Node   *node.Node
}

// AddGenesisRegistry signs the descriptors of g with the genesis contexts and appends them to
// doc's registry section (creating it with the default parameters). Use it from
// FixtureParams.Tweak.
func AddGenesisRegistry(doc *genesis.Document, g GenesisRegistry) {
	if doc.Registry == nil {
		doc.Registry = &registry.Genesis{Params: registry.DefaultConsensusParameters()}
	}
	r := doc.Registry
	for _, e := range g.Entities {
		s, err := registry.SignEntity(e.Signer, registry.GenesisEntitySignatureContext.Unbound(), &registry.Entity{ID: e.Signer.Public(), Nodes: e.Nodes})
		if err != nil {
			panic(err)
		}
		r.Entities = append(r.Entities, *s)
	}
	for _, rt := range g.Runtimes {
		s, err := registry.SignGenesisRuntime(rt.Signer, rt.Runtime)
		if err != nil {
			panic(err)
		}
		r.Runtimes = append(r.Runtimes, *s)
		if rt.Suspended {
			r.SuspendedRuntimes = append(r.SuspendedRuntimes, rt.Runtime.ID)
		}
	}
	for _, n := range g.Nodes {
		s, err := node.Sign(n.Signer, node.GenesisSignatureContext.Unbound(), n.Node)
		if err != nil {
			panic(err)
		}
		r.Nodes = append(r.Nodes, *s)
	}
}
