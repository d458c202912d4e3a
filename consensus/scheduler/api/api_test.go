package api

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
)

func pk(name string) signature.PublicKey { return signature.PublicKey(hash.Digest([]byte(name))) }

func testCommittee() *Committee {
	return &Committee{
		Kind: KindExecutor,
		Members: []CommitteeNode{
			{Role: RoleWorker, PublicKey: pk("a")}, {Role: RoleWorker, PublicKey: pk("b")},
			{Role: RoleWorker, PublicKey: pk("c")}, {Role: RoleBackup, PublicKey: pk("d")},
		},
		RuntimeID: namespace.Namespace(hash.Digest([]byte("rt"))),
		ValidFor:  4,
	}
}

func TestCommitteeAccessors(t *testing.T) {
	c := testCommittee()
	if w := c.Workers(); len(w) != 3 || w[0] != pk("a") || w[2] != pk("c") {
		t.Errorf("Workers() = %v", w)
	}
	if b := c.Backups(); len(b) != 1 || b[0] != pk("d") {
		t.Errorf("Backups() = %v", b)
	}
	for round, want := range map[uint64]string{0: "a", 1: "b", 2: "c", 3: "a", 7: "b", 1<<63 + 1: "a"} {
		if got, ok := c.TransactionScheduler(round); !ok || got != pk(want) {
			t.Errorf("round %d: scheduler %s, want %s", round, got, want)
		}
	}
	if r, ok := c.RoleOf(pk("d")); !ok || r != RoleBackup {
		t.Errorf("RoleOf(d) = %s, %v", r, ok)
	}
	if _, ok := c.RoleOf(pk("z")); ok {
		t.Error("RoleOf found a non-member")
	}
}

func TestCommitteeValidateBasic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c *Committee)
		ok     bool
	}{
		{"a valid committee", func(*Committee) {}, true},
		{"an unknown kind", func(c *Committee) { c.Kind = 9 }, false},
		{"no workers", func(c *Committee) { c.Members = c.Members[3:] }, false},
		{"a node in both roles", func(c *Committee) { c.Members[3].PublicKey = pk("a") }, false},
		{"a worker after a backup", func(c *Committee) { c.Members = append(c.Members, CommitteeNode{Role: RoleWorker, PublicKey: pk("e")}) }, false},
		{"a backup in a storage committee", func(c *Committee) { c.Kind = KindStorage }, false},
		{"an unknown role", func(c *Committee) { c.Members[0].Role = 7 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCommittee()
			tc.mutate(c)
			err := c.ValidateBasic()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidCommittee)) {
				t.Errorf("ValidateBasic() = %v", err)
			}
		})
	}
}

func TestCommitteeEncodingGoldenVector(t *testing.T) {
	const want = "b2416bdf88160da7395d9a502f2870f0798f9a091d9f1ba33c34672d29ed2b72"
	if got := hash.DigestCBOR(testCommittee()).String(); got != want {
		t.Errorf("H(cbor(committee)) = %s, want %s", got, want)
	}
	r := ElectionResult{RuntimeID: testCommittee().RuntimeID, Epoch: 4, Outcome: OutcomeElected, Executor: testCommittee()}
	var back ElectionResult
	if err := cbor.UnmarshalCanonical(cbor.Marshal(&r), &back); err != nil || !back.Elected() || back.Executor.ValidFor != 4 {
		t.Errorf("ElectionResult round trip: %+v, %v", back, err)
	}
}

func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		KindExecutor.String(): "executor", KindStorage.String(): "storage", CommitteeKind(9).String(): "unknown(9)",
		RoleWorker.String(): "worker", RoleBackup.String(): "backup", Role(0).String(): "unknown(0)",
		OutcomeElected.String(): "elected", OutcomeNotDeployed.String(): "not deployed",
		OutcomeTooFewExecutors.String(): "too few eligible executors", OutcomeTooFewStorage.String(): "too few eligible storage nodes",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}
