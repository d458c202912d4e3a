package roothash

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// Readers of roothash's committed state, for services outside the mux (the gRPC API reads
// runtime blocks through consensus.Mux.ReadState). They never write.

// GetRuntimeState returns roothash's record of runtime id, nil when roothash has no blocks for
// it.
func GetRuntimeState(s consensus.State, id namespace.Namespace) (*api.RuntimeState, error) {
	return stateView{s}.runtime(id)
}

// GetBlock returns the header of runtime id's block of round, nil when it is not stored: never
// made, or pruned (only the latest max_past_roots_stored blocks are kept).
func GetBlock(s consensus.State, id namespace.Namespace, round uint64) (*api.Header, error) {
	return stateView{s}.block(id, round)
}

// GetParams returns roothash's consensus parameters.
func GetParams(s consensus.State) (*api.ConsensusParameters, error) {
	return stateView{s}.params()
}
