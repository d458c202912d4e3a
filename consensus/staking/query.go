package staking

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/staking/api"
)

// Query answers the api.Query* methods.
func (a *App) Query(ctx *consensus.Context, method string, args []byte) (any, error) {
	v := stateView{ctx.State()}
	switch method {
	case api.QueryAccount:
		var q api.OwnerQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		return v.account(q.Owner)
	case api.QueryDelegations:
		var q api.OwnerQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		return delegationsOf(v, q.Owner)
	case api.QueryDebondingDelegations:
		var q api.OwnerQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		return debondingOf(v, q.Owner)
	case api.QueryAllowance:
		var q api.AllowanceQuery
		if err := consensus.DecodeQueryArgs(args, &q); err != nil {
			return nil, err
		}
		return v.allowance(q.Owner, q.Beneficiary)
	case api.QuerySupply:
		sup, err := v.supply()
		if err != nil {
			return nil, err
		}
		return &api.Supply{TotalSupply: sup.TotalSupply, CommonPool: sup.CommonPool, LastBlockFees: sup.LastBlockFees}, nil
	case api.QueryParams:
		return a.loadParams(ctx.State())
	}
	return nil, fmt.Errorf("%w: %q", consensus.ErrUnknownQuery, method)
}

func delegationsOf(v stateView, owner api.Address) ([]api.DelegationInfo, error) {
	out := []api.DelegationInfo{}
	err := consensus.IteratePrefix(v.s, delegationKeyFmt.Prefix(tableDelegation, owner), func(key, value []byte) (bool, error) {
		var table uint8
		var delegator, escrow api.Address
		if !delegationKeyFmt.Decode(key, &table, &delegator, &escrow) {
			return false, consensus.StateErrorf("staking: malformed delegation key %x", key)
		}
		var d api.Delegation
		if err := cbor.UnmarshalTrusted(value, &d); err != nil {
			return false, consensus.StateError(err)
		}
		acct, err := v.account(escrow)
		if err != nil {
			return false, err
		}
		amount, err := acct.Escrow.Active.TokensForShares(&d.Shares)
		if err != nil {
			return false, consensus.StateError(err)
		}
		out = append(out, api.DelegationInfo{Escrow: escrow, Shares: d.Shares, Amount: *amount})
		return true, nil
	})
	return out, err
}

func debondingOf(v stateView, owner api.Address) ([]api.DebondingDelegationInfo, error) {
	out := []api.DebondingDelegationInfo{}
	err := consensus.IteratePrefix(v.s, debondingKeyFmt.Prefix(tableDebonding, owner), func(key, value []byte) (bool, error) {
		var table uint8
		var delegator, escrow api.Address
		if !debondingKeyFmt.Decode(key, &table, &delegator, &escrow) {
			return false, consensus.StateErrorf("staking: malformed debonding key %x", key)
		}
		var d api.DebondingDelegation
		if err := cbor.UnmarshalTrusted(value, &d); err != nil {
			return false, consensus.StateError(err)
		}
		acct, err := v.account(escrow)
		if err != nil {
			return false, err
		}
		amount, err := acct.Escrow.Debonding.TokensForShares(&d.Shares)
		if err != nil {
			return false, consensus.StateError(err)
		}
		out = append(out, api.DebondingDelegationInfo{Escrow: escrow, Shares: d.Shares, Amount: *amount, DebondEndTime: d.DebondEndTime})
		return true, nil
	})
	return out, err
}

// CheckSupply checks that the general and escrow balances of all accounts, the common pool and
// the current block's fees add up to the total supply. It walks every account: for tests and
// audits, not for every block.
func CheckSupply(s consensus.State) error {
	v := stateView{s}
	sup, err := v.supply()
	if err != nil {
		return err
	}
	sum := sup.CommonPool.Clone()
	if err := sum.Add(&sup.BlockFees); err != nil {
		return consensus.StateError(err)
	}
	err = consensus.IteratePrefix(s, accountKeyFmt.Prefix(tableAccount), func(_, value []byte) (bool, error) {
		var a api.Account
		if err := cbor.UnmarshalTrusted(value, &a); err != nil {
			return false, consensus.StateError(err)
		}
		for _, q := range []*quantity.Quantity{&a.General.Balance, &a.Escrow.Active.Balance, &a.Escrow.Debonding.Balance} {
			if err := sum.Add(q); err != nil {
				return false, consensus.StateError(err)
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if sum.Cmp(&sup.TotalSupply) != 0 {
		return consensus.StateErrorf("staking: holdings %s differ from the total supply %s", sum, &sup.TotalSupply)
	}
	return nil
}
