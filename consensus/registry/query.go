package registry

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/registry/api"
)

// Query answers the api.Query* methods. Lists are sorted by ID and never nil.
func (a *App) Query(ctx *consensus.Context, method string, args []byte) (any, error) {
	v := stateView{ctx.State()}
	switch method {
	case api.QueryEntity:
		var q api.IDQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		e, err := v.entity(q.ID)
		if err == nil && e == nil {
			err = fmt.Errorf("%w: %s", api.ErrNoSuchEntity, q.ID)
		}
		return e, err
	case api.QueryEntities:
		return listEntities(v)
	case api.QueryNode:
		var q api.IDQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		n, err := v.node(q.ID)
		if err == nil && n == nil {
			err = fmt.Errorf("%w: %s", api.ErrNoSuchNode, q.ID)
		}
		return n, err
	case api.QueryNodes:
		out := []node.Node{}
		err := v.nodes(func(n *node.Node) error { out = append(out, *n); return nil })
		return out, err
	case api.QueryNodeStatus:
		var q api.IDQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		st, err := GetNodeStatus(ctx.State(), q.ID)
		if err == nil && st == nil {
			err = fmt.Errorf("%w: %s", api.ErrNoSuchNode, q.ID)
		}
		return st, err
	case api.QueryRuntime:
		var q api.RuntimeQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		rt, err := v.runtime(q.ID)
		if err != nil {
			return nil, err
		}
		if rt == nil {
			return nil, fmt.Errorf("%w: %s", api.ErrNoSuchRuntime, q.ID)
		}
		suspended, err := v.isSuspended(q.ID)
		return &api.RuntimeInfo{Runtime: *rt, Suspended: suspended}, err
	case api.QueryRuntimes:
		out := []api.RuntimeInfo{}
		err := v.runtimes(func(rt *api.Runtime) error {
			suspended, err := v.isSuspended(rt.ID)
			out = append(out, api.RuntimeInfo{Runtime: *rt, Suspended: suspended})
			return err
		})
		return out, err
	case api.QueryParams:
		return a.loadParams(ctx.State())
	}
	return nil, fmt.Errorf("%w: %q", consensus.ErrUnknownQuery, method)
}

func listEntities(v stateView) ([]api.Entity, error) {
	out := []api.Entity{}
	err := consensus.IteratePrefix(v.s, idKeyFmt.Prefix(tableEntity), func(key, value []byte) (bool, error) {
		var e api.Entity
		if err := cbor.UnmarshalTrusted(value, &e); err != nil {
			return false, consensus.StateError(fmt.Errorf("registry: entity record %x: %w", key, err))
		}
		out = append(out, e)
		return true, nil
	})
	return out, err
}
