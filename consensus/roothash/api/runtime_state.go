package api

import (
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

// RuntimeState is what roothash keeps per runtime besides its blocks and pool, and the answer
// to QueryRuntimeState.
type RuntimeState struct {
	// Runtime is the descriptor snapshot taken at the last epoch transition (or at
	// registration, before the first); rounds run by it until the next transition.
	Runtime registry.Runtime `cbor:"runtime"`
	// Epoch is the epoch of the snapshot and the committees.
	Epoch beacon.EpochTime `cbor:"epoch"`
	// Latest is the latest block; LatestHeight the consensus height it was made at.
	Latest       Header `cbor:"latest"`
	LatestHeight int64  `cbor:"latest_height"`
	// LastNormalRound and LastNormalHeight locate the latest Normal block, whose round
	// results are delivered until the next one.
	LastNormalRound  uint64 `cbor:"last_normal_round"`
	LastNormalHeight int64  `cbor:"last_normal_height"`
	// Suspended is set from a Suspended block until the next EpochTransition block.
	Suspended bool `cbor:"suspended,omitempty"`
	// Executor and Storage are the committees of Epoch; nil while the runtime has none.
	Executor *scheduler.Committee `cbor:"executor,omitempty"`
	Storage  *scheduler.Committee `cbor:"storage,omitempty"`
	// NextTimeout is the height at which the pool's timer fires; 0 when it is not armed.
	NextTimeout int64 `cbor:"next_timeout,omitempty"`
}
