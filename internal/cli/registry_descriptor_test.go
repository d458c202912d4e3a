package cli

import (
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/node"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

const descriptorYAML = `id: 8000000000000000000000000000000000000000000000000000000000000001
entity_id: 0101010101010101010101010101010101010101010101010101010101010101
kind: compute
tee_hardware: mock
executor: {group_size: 3, group_backup_size: 2, allowed_stragglers: 1, round_timeout: 5, max_messages: 16}
txn_scheduler: {max_batch_size: 100, max_batch_size_bytes: 16384, batch_flush_timeout: 1000, propose_batch_timeout: 2}
storage: {group_size: 2, min_write_replication: 2, max_apply_write_log_entries: 1000, max_apply_ops: 2}
admission_policy:
  entity_whitelist:
    entities:
      0101010101010101010101010101010101010101010101010101010101010101:
        max_nodes: {compute: 2, storage: 1}
staking:
  thresholds: {node-compute: 100, 4: "7"}
  slashing:
    liveness: {amount: 5, freeze_interval: 3}
governance_model: runtime
deployments:
  - version: 1.2.0
    valid_from: 4
    tee: aGVsbG8=
    bundle_checksum: 1111111111111111111111111111111111111111111111111111111111111111
`

func TestADescriptorFileDecodesNamesTextAndNumbersIntoTheRegistryType(t *testing.T) {
	rt, err := decodeRuntimeDescriptor([]byte(descriptorYAML))
	if err != nil {
		t.Fatal(err)
	}
	entity := rt.EntityID
	switch {
	case rt.Kind != registry.KindCompute, rt.TEEHardware != node.TEEHardwareMock, rt.GovernanceModel != registry.GovernanceRuntime:
		t.Fatalf("enumerations: %+v", rt)
	case rt.Executor.GroupSize != 3 || rt.Storage.MinWriteReplication != 2 || rt.TxnScheduler.BatchFlushTimeout != 1000:
		t.Fatalf("parameters: %+v", rt)
	case rt.AdmissionPolicy.EntityWhitelist == nil || rt.AdmissionPolicy.EntityWhitelist.Entities[entity].MaxNodes[node.RoleCompute] != 2:
		t.Fatalf("admission policy: %+v", rt.AdmissionPolicy)
	case rt.Staking.Thresholds[staking.KindNodeCompute].String() != "100" || rt.Staking.Thresholds[staking.KindRuntime].String() != "7":
		t.Fatalf("thresholds: %+v", rt.Staking.Thresholds)
	case rt.Staking.Slashing[staking.SlashLiveness].FreezeInterval != 3:
		t.Fatalf("slashing: %+v", rt.Staking.Slashing)
	case len(rt.Deployments) != 1 || rt.Deployments[0].Version.String() != "1.2.0" || string(rt.Deployments[0].TEE) != "hello":
		t.Fatalf("deployments: %+v", rt.Deployments)
	}
}

func TestAnEmptyMarkerKeySetsItsPolicy(t *testing.T) {
	for _, form := range []string{"admission_policy:\n  any_node:\n", "admission_policy: {any_node: {}}\n", `{"admission_policy": {"any_node": {}}}`} {
		rt, err := decodeRuntimeDescriptor([]byte(form))
		if err != nil || rt.AdmissionPolicy.AnyNode == nil {
			t.Fatalf("%q: %+v %v", form, rt, err)
		}
	}
}

func TestADescriptorFileThatBreaksItsFormIsRefusedNamingLineAndKey(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"an unknown top-level key", "id: 80\nentity: 01\n", []string{"line 1: id:"}},
		{"an unknown top-level key after a good one", "kind: 1\nentity: 01\n", []string{`line 2: entity: unknown key "entity" at the top level`, "entity_id"}},
		{"an unknown nested key", "storage:\n  group_size: 1\n  min_replication: 1\n", []string{`line 3: storage.min_replication: unknown key "min_replication" in storage`, "min_write_replication"}},
		{"an unknown key in a list entry", "deployments:\n  - version: 1.0.0\n    checksum: 11\n", []string{`line 3: deployments[0].checksum: unknown key`, "bundle_checksum"}},
		{"a key given twice", "kind: 1\nkind: 1\n", []string{`line 2: kind: key "kind" given twice`}},
		{"a number that is text", "executor: {group_size: many}\n", []string{"executor.group_size", `"many" is not a number`}},
		{"a number out of its field's range", "executor: {group_size: 70000}\n", []string{"executor.group_size", "70000 is out of range"}},
		{"a negative count", "executor: {group_size: -1}\n", []string{"executor.group_size", "out of range"}},
		{"a fractional timeout", "executor: {round_timeout: 2.5}\n", []string{"executor.round_timeout: want an integer"}},
		{"an unknown enumeration name", "kind: batch\n", []string{`kind: "batch" is neither a number nor a known name (compute = 1)`}},
		{"a malformed key", "entity_id: nothex\n", []string{"line 1: entity_id:"}},
		{"a malformed version", "deployments: [{version: v1}]\n", []string{"deployments[0].version", "major.minor.patch"}},
		{"a mapping where a list belongs", "deployments: {version: 1.0.0}\n", []string{"deployments: want a list"}},
		{"a blob that is not base64", "deployments: [{tee: '***'}]\n", []string{"deployments[0].tee: want base64"}},
		{"an unknown role in a whitelist", "admission_policy: {entity_whitelist: {entities: {0101010101010101010101010101010101010101010101010101010101010101: {max_nodes: {miner: 1}}}}}\n",
			[]string{"max_nodes[miner]", `unknown role "miner"`}},
		{"an alias", "a: &x 1\n", []string{`unknown key "a"`}},
		{"an empty document", "", []string{"empty document"}},
		{"a list at the top", "- 1\n", []string{"want a mapping"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeRuntimeDescriptor([]byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func FuzzDecodeRuntimeDescriptor(f *testing.F) {
	f.Add([]byte(descriptorYAML))
	f.Add([]byte(`{"id": "80", "deployments": [{"version": "1.0.0"}]}`))
	f.Add([]byte("admission_policy:\n  any_node:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rt, err := decodeRuntimeDescriptor(data)
		if err == nil && rt == nil {
			t.Fatal("nil descriptor without an error")
		}
	})
}
