// Package api defines the scheduler service's types (DESIGN.md §3 Scheduler): committees,
// election outcomes, the CommitteeElected message other applications receive, parameters,
// queries and events. It is pure; elections themselves are computed by
// consensus/scheduler/election.
//
// Contracts: a Committee lists its workers first, in election order, then its backups; the
// transaction scheduler of round r is workers[r mod len(workers)]; a node is never both
// worker and backup of one committee (ValidateBasic checks it).
package api

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// ModuleName is the service's name: its application name, error module and query prefix.
const ModuleName = "scheduler"

// ErrInvalidCommittee is returned by Committee.ValidateBasic.
var ErrInvalidCommittee = errors.New("scheduler: invalid committee")

// CommitteeKind is the kind of a committee.
type CommitteeKind uint8

const (
	// KindExecutor is a runtime's executor committee: workers and backups.
	KindExecutor CommitteeKind = 1
	// KindStorage is a runtime's storage committee: workers only.
	KindStorage CommitteeKind = 2
)

// String names the kind.
func (k CommitteeKind) String() string {
	switch k {
	case KindExecutor:
		return "executor"
	case KindStorage:
		return "storage"
	}
	return fmt.Sprintf("unknown(%d)", uint8(k))
}

// Role is a member's role in a committee.
type Role uint8

const (
	// RoleWorker executes every round (executor) or stores the runtime's state (storage).
	RoleWorker Role = 1
	// RoleBackup executes only to resolve a discrepancy.
	RoleBackup Role = 2
)

// String names the role.
func (r Role) String() string {
	switch r {
	case RoleWorker:
		return "worker"
	case RoleBackup:
		return "backup"
	}
	return fmt.Sprintf("unknown(%d)", uint8(r))
}

// CommitteeNode is one member of a committee.
type CommitteeNode struct {
	Role      Role                `json:"role" cbor:"role"`
	PublicKey signature.PublicKey `json:"public_key" cbor:"public_key"`
}

// Committee is a committee elected for one runtime and epoch.
type Committee struct {
	Kind CommitteeKind `json:"kind" cbor:"kind"`
	// Members are the workers in election order, then the backups in election order.
	Members   []CommitteeNode     `json:"members" cbor:"members"`
	RuntimeID namespace.Namespace `json:"runtime_id" cbor:"runtime_id"`
	// ValidFor is the epoch the committee serves.
	ValidFor beacon.EpochTime `json:"valid_for" cbor:"valid_for"`
}

// Workers returns the workers' keys in election order.
func (c *Committee) Workers() []signature.PublicKey { return c.withRole(RoleWorker) }

// Backups returns the backups' keys in election order.
func (c *Committee) Backups() []signature.PublicKey { return c.withRole(RoleBackup) }

func (c *Committee) withRole(r Role) []signature.PublicKey {
	var out []signature.PublicKey
	for _, m := range c.Members {
		if m.Role == r {
			out = append(out, m.PublicKey)
		}
	}
	return out
}

// RoleOf returns id's role in the committee, or false when it is not a member.
func (c *Committee) RoleOf(id signature.PublicKey) (Role, bool) {
	for _, m := range c.Members {
		if m.PublicKey == id {
			return m.Role, true
		}
	}
	return 0, false
}

// TransactionScheduler returns the worker that schedules round: workers[round mod
// len(workers)]. It is false for a committee without workers.
func (c *Committee) TransactionScheduler(round uint64) (signature.PublicKey, bool) {
	workers := c.Workers()
	if len(workers) == 0 {
		return signature.PublicKey{}, false
	}
	return workers[round%uint64(len(workers))], true
}

// ValidateBasic checks a committee's form: a known kind, at least one worker, workers before
// backups, backups only in executor committees, no member twice.
func (c *Committee) ValidateBasic() error {
	if c.Kind != KindExecutor && c.Kind != KindStorage {
		return fmt.Errorf("%w: kind %s", ErrInvalidCommittee, c.Kind)
	}
	seen := make(map[signature.PublicKey]bool, len(c.Members))
	workers, backups := 0, 0
	for i, m := range c.Members {
		switch {
		case seen[m.PublicKey]:
			return fmt.Errorf("%w: members[%d] (%s) appears twice", ErrInvalidCommittee, i, m.PublicKey)
		case m.Role == RoleWorker && backups > 0:
			return fmt.Errorf("%w: members[%d] is a worker after a backup", ErrInvalidCommittee, i)
		case m.Role == RoleWorker:
			workers++
		case m.Role == RoleBackup && c.Kind == KindExecutor:
			backups++
		default:
			return fmt.Errorf("%w: members[%d] has role %s in a %s committee", ErrInvalidCommittee, i, m.Role, c.Kind)
		}
		seen[m.PublicKey] = true
	}
	if workers == 0 {
		return fmt.Errorf("%w: no workers", ErrInvalidCommittee)
	}
	return nil
}

// ConsensusParameters are the scheduler's parameters. It has none yet: what an election
// needs is in each runtime's descriptor. The struct keeps the genesis section stable.
type ConsensusParameters struct{}

// Genesis is the scheduler's part of the genesis document.
type Genesis struct {
	Params ConsensusParameters `json:"params" cbor:"params"`
}

// SanityCheck checks the section; there is nothing to check yet.
func (g *Genesis) SanityCheck() error { return nil }

// Query methods. Arguments and answers are CBOR.
const (
	// QueryCommittees takes RuntimeQuery and answers []Committee (executor first, then
	// storage) for the current epoch; none when the runtime has no committees.
	QueryCommittees = "scheduler.Committees"
	// QueryElection takes RuntimeQuery and answers the latest ElectionResult of the runtime.
	QueryElection = "scheduler.Election"
	// QueryParams takes nothing and answers ConsensusParameters.
	QueryParams = "scheduler.Params"
)

// RuntimeQuery names a runtime.
type RuntimeQuery struct {
	RuntimeID namespace.Namespace `cbor:"runtime_id"`
}
