// Package apps assembles the consensus applications a node runs, in consensus.AppOrder. Both
// the node (behind CometBFT) and the memchain test backend take their applications from here,
// so tests run exactly the set a node runs.
package apps

import (
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/beacon"
	"github.com/atoll-project/atoll/consensus/registry"
	"github.com/atoll-project/atoll/consensus/roothash"
	"github.com/atoll-project/atoll/consensus/scheduler"
	"github.com/atoll-project/atoll/consensus/staking"
)

// All returns fresh instances of every consensus application: beacon, staking, registry,
// scheduler and roothash.
func All() []consensus.Application {
	return []consensus.Application{
		beacon.New(),
		staking.New(),
		registry.New(),
		scheduler.New(),
		roothash.NewWithServices(),
	}
}
