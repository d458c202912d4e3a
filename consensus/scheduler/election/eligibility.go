package election

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/node"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
)

// Reasons a candidate is not eligible; CheckExecutor and CheckStorage wrap them with the
// node and the detail.
var (
	ErrWrongRole         = errors.New("election: node lacks the role")
	ErrExpired           = errors.New("election: node registration expired")
	ErrFrozen            = errors.New("election: node is frozen")
	ErrLivenessExcluded  = errors.New("election: node is excluded for liveness faults")
	ErrStake             = errors.New("election: node's entity fails the stake check")
	ErrNotRegistered     = errors.New("election: node is not registered for the runtime")
	ErrWrongDeployment   = errors.New("election: node does not run the active deployment")
	ErrMissingCapability = errors.New("election: node lacks the runtime's TEE capability")
)

// CheckExecutor returns nil when c may be elected into rt's executor committee for epoch,
// whose active deployment is active, and otherwise the first rule it breaks.
func CheckExecutor(c *Candidate, rt *registry.Runtime, active *registry.VersionInfo, epoch beacon.EpochTime) error {
	n := c.Node
	if err := checkCommon(c, node.RoleCompute, epoch); err != nil {
		return err
	}
	if c.LivenessExcluded {
		return fmt.Errorf("%w: node %s, runtime %s", ErrLivenessExcluded, n.ID, rt.ID)
	}
	if !n.HasRuntime(rt.ID) {
		return fmt.Errorf("%w: node %s, runtime %s", ErrNotRegistered, n.ID, rt.ID)
	}
	e := n.GetRuntime(rt.ID, active.Version)
	if e == nil || e.BundleChecksum != active.BundleChecksum {
		return fmt.Errorf("%w: node %s lacks version %s with bundle %s", ErrWrongDeployment, n.ID, active.Version, active.BundleChecksum)
	}
	if rt.IsTEE() && (e.Capabilities.TEE == nil || e.Capabilities.TEE.Hardware != rt.TEEHardware) {
		return fmt.Errorf("%w: node %s, version %s, hardware %s", ErrMissingCapability, n.ID, active.Version, rt.TEEHardware)
	}
	return nil
}

// CheckStorage returns nil when c may be elected into rt's storage committee for epoch (any
// version of the runtime), and otherwise the first rule it breaks.
func CheckStorage(c *Candidate, rt *registry.Runtime, epoch beacon.EpochTime) error {
	if err := checkCommon(c, node.RoleStorage, epoch); err != nil {
		return err
	}
	if !c.Node.HasRuntime(rt.ID) {
		return fmt.Errorf("%w: node %s, runtime %s", ErrNotRegistered, c.Node.ID, rt.ID)
	}
	return nil
}

func checkCommon(c *Candidate, role node.RolesMask, epoch beacon.EpochTime) error {
	n := c.Node
	switch {
	case !n.HasRole(role):
		return fmt.Errorf("%w: node %s has roles %s, needs %s", ErrWrongRole, n.ID, n.Roles, role)
	case n.IsExpired(uint64(epoch)):
		return fmt.Errorf("%w: node %s expired after epoch %d", ErrExpired, n.ID, n.Expiration)
	case c.Frozen:
		return fmt.Errorf("%w: node %s", ErrFrozen, n.ID)
	case !c.StakeOK:
		return fmt.Errorf("%w: node %s, entity %s", ErrStake, n.ID, n.EntityID)
	}
	return nil
}
