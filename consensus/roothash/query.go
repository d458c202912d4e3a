package roothash

import (
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// Query answers the api.Query* methods.
func (a *App) Query(ctx *consensus.Context, method string, args []byte) (any, error) {
	v := stateView{ctx.State()}
	switch method {
	case api.QueryLatestBlock:
		var q api.RuntimeQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		rs, err := v.mustRuntime(q.ID)
		if err != nil {
			return nil, err
		}
		return &rs.Latest, nil
	case api.QueryBlock:
		var q api.BlockQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		if _, err := v.mustRuntime(q.ID); err != nil {
			return nil, err
		}
		h, err := v.block(q.ID, q.Round)
		if err != nil {
			return nil, err
		}
		if h == nil {
			return nil, fmt.Errorf("%w: runtime %s round %d", api.ErrNoSuchBlock, q.ID, q.Round)
		}
		return h, nil
	case api.QueryRoundResults:
		var q api.RuntimeQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		if _, err := v.mustRuntime(q.ID); err != nil {
			return nil, err
		}
		return v.roundResults(q.ID)
	case api.QueryRuntimeState:
		var q api.RuntimeQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		return v.mustRuntime(q.ID)
	case api.QueryParams:
		return a.loadParams(ctx.State())
	}
	return nil, fmt.Errorf("%w: %q", consensus.ErrUnknownQuery, method)
}

// DecodeEvents returns the roothash events among a block's or a transaction's ABCI events, in
// order: api.Event and api.NewBlockEvent values. Events of other services are skipped.
func DecodeEvents(evs []abci.Event) ([]consensus.Event, error) {
	var out []consensus.Event
	for _, e := range evs {
		switch e.Type {
		case api.EventKindRuntime:
			var ev api.Event
			if err := consensus.DecodeEvent(e, &ev); err != nil {
				return nil, err
			}
			out = append(out, ev)
		case api.EventKindNewBlock:
			var ev api.NewBlockEvent
			if err := consensus.DecodeEvent(e, &ev); err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
	}
	return out, nil
}
