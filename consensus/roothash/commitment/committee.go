package commitment

import (
	"fmt"

	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// Role is a node's place in an executor committee.
type Role uint8

const (
	// RoleNone is a node outside the committee.
	RoleNone Role = 0
	// RoleWorker is a primary worker; the round's scheduler is one of them.
	RoleWorker Role = 1
	// RoleBackup is a backup worker, heard only during a discrepancy.
	RoleBackup Role = 2
)

// String returns the role's name.
func (r Role) String() string {
	switch r {
	case RoleNone:
		return "none"
	case RoleWorker:
		return "worker"
	case RoleBackup:
		return "backup"
	default:
		return fmt.Sprintf("invalid(%d)", uint8(r))
	}
}

// Committee is the pool's view of an executor committee: the node keys of its workers in
// election order and of its backups. The scheduler's election result converts to it; the
// two lists are disjoint (a node never judges its own commitment).
type Committee struct {
	Workers []signature.PublicKey `cbor:"workers"`
	Backups []signature.PublicKey `cbor:"backups,omitempty"`
}

// ValidateBasic checks that there is at least one worker and no node appears twice.
func (c *Committee) ValidateBasic() error {
	if len(c.Workers) == 0 {
		return fmt.Errorf("%w: no workers", api.ErrInvalidCommittee)
	}
	all := append(append([]signature.PublicKey{}, c.Workers...), c.Backups...)
	for i := range all {
		for j := range all[:i] {
			if all[i] == all[j] {
				return fmt.Errorf("%w: node %s appears twice", api.ErrInvalidCommittee, all[i])
			}
		}
	}
	return nil
}

// Scheduler returns the transaction scheduler of round: workers[round mod len(workers)]. The
// committee must have workers.
func (c *Committee) Scheduler(round uint64) signature.PublicKey {
	return c.Workers[round%uint64(len(c.Workers))]
}

// Role returns pk's role in the committee.
func (c *Committee) Role(pk signature.PublicKey) Role {
	if c.index(pk) < 0 {
		return RoleNone
	}
	if c.index(pk) < len(c.Workers) {
		return RoleWorker
	}
	return RoleBackup
}

// index returns pk's position in committee order (workers, then backups), or -1.
func (c *Committee) index(pk signature.PublicKey) int {
	for i, w := range c.Workers {
		if w == pk {
			return i
		}
	}
	for i, b := range c.Backups {
		if b == pk {
			return len(c.Workers) + i
		}
	}
	return -1
}
