package election

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
)

func TestEligibilityRules(t *testing.T) {
	rt := runtime()
	active := rt.ActiveDeployment(5) // version 1
	teeRuntime := runtime()
	teeRuntime.TEEHardware = node.TEEHardwareMock
	withTEE := func(c Candidate) Candidate {
		c.Node.Runtimes[0].Capabilities.TEE = &node.CapabilityTEE{Hardware: node.TEEHardwareMock, RAK: key("rak"), Attestation: []byte("r")}
		return c
	}
	all := node.RoleCompute | node.RoleStorage
	for _, tc := range []struct {
		name              string
		c                 Candidate
		teeRuntime        bool
		executor, storage error
	}{
		{"a compute and storage node on the active version is eligible for both", candidate(1, 1, all, 1), false, nil, nil},
		{"a storage-only node is no executor", candidate(1, 1, node.RoleStorage, 1), false, ErrWrongRole, nil},
		{"a compute-only node is no storage node", candidate(1, 1, node.RoleCompute, 1), false, nil, ErrWrongRole},
		{"an expired node is eligible for nothing", func() Candidate { c := candidate(1, 1, all, 1); c.Node.Expiration = 4; return c }(), false, ErrExpired, ErrExpired},
		{"a node expiring in the epoch is still eligible", func() Candidate { c := candidate(1, 1, all, 1); c.Node.Expiration = 5; return c }(), false, nil, nil},
		{"a frozen node is eligible for nothing", func() Candidate { c := candidate(1, 1, all, 1); c.Frozen = true; return c }(), false, ErrFrozen, ErrFrozen},
		{"a node without stake is eligible for nothing", func() Candidate { c := candidate(1, 1, all, 1); c.StakeOK = false; return c }(), false, ErrStake, ErrStake},
		{"a node excluded for liveness faults is no executor but still a storage node",
			func() Candidate { c := candidate(1, 1, all, 1); c.LivenessExcluded = true; return c }(), false, ErrLivenessExcluded, nil},
		{"a node of another runtime is eligible for nothing", func() Candidate {
			c := candidate(1, 1, all, 1)
			c.Node.Runtimes[0].ID[0] ^= 1
			return c
		}(), false, ErrNotRegistered, ErrNotRegistered},
		{"a node on another version only is a storage node but no executor", candidate(1, 1, all, 2), false, ErrWrongDeployment, nil},
		{"a node on the active version with another bundle is no executor", func() Candidate {
			c := candidate(1, 1, all, 1)
			c.Node.Runtimes[0].BundleChecksum = bundle(7)
			return c
		}(), false, ErrWrongDeployment, nil},
		{"a node registered for both versions is an executor", candidate(1, 1, all, 2, 1), false, nil, nil},
		{"a TEE runtime's executor needs the capability", candidate(1, 1, all, 1), true, ErrMissingCapability, nil},
		{"a TEE runtime's executor with the capability is eligible", withTEE(candidate(1, 1, all, 1)), true, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rt
			if tc.teeRuntime {
				r = teeRuntime
			}
			c := tc.c
			if err := CheckExecutor(&c, r, active, 5); !errors.Is(err, tc.executor) || (tc.executor == nil && err != nil) {
				t.Errorf("CheckExecutor = %v, want %v", err, tc.executor)
			}
			if err := CheckStorage(&c, r, 5); !errors.Is(err, tc.storage) || (tc.storage == nil && err != nil) {
				t.Errorf("CheckStorage = %v, want %v", err, tc.storage)
			}
		})
	}
}

func TestIneligibleCandidatesAreNeverElected(t *testing.T) {
	cs := candidates(10, 10)
	cs[0].Frozen = true
	cs[1].StakeOK = false
	cs[2].LivenessExcluded = true
	cs[3].Node.Roles = node.RoleStorage
	cs[4].Node.Runtimes[0].BundleChecksum = bundle(9)
	res := mustElect(t, input(runtime(), 5, cs))
	banned := map[signature.PublicKey]string{cs[0].Node.ID: "frozen", cs[1].Node.ID: "no stake", cs[2].Node.ID: "liveness", cs[3].Node.ID: "storage only", cs[4].Node.ID: "other bundle"}
	for _, m := range res.Executor.Members {
		if why, ok := banned[m.PublicKey]; ok {
			t.Errorf("elected an ineligible executor (%s)", why)
		}
	}
}
