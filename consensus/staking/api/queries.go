package api

import (
	"github.com/atoll-project/atoll/common/quantity"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// Query methods. Arguments and answers are CBOR.
const (
	// QueryAccount takes OwnerQuery and answers Account (the zero account when absent).
	QueryAccount = "staking.Account"
	// QueryDelegations takes OwnerQuery and answers []DelegationInfo: the owner's delegations.
	QueryDelegations = "staking.Delegations"
	// QueryDebondingDelegations takes OwnerQuery and answers []DebondingDelegationInfo.
	QueryDebondingDelegations = "staking.DebondingDelegations"
	// QueryAllowance takes AllowanceQuery and answers a Quantity.
	QueryAllowance = "staking.Allowance"
	// QuerySupply takes nothing and answers Supply.
	QuerySupply = "staking.Supply"
	// QueryParams takes nothing and answers ConsensusParameters.
	QueryParams = "staking.Params"
)

// OwnerQuery names an account.
type OwnerQuery struct {
	Owner Address `cbor:"owner"`
}

// AllowanceQuery names an allowance.
type AllowanceQuery struct {
	Owner       Address `cbor:"owner"`
	Beneficiary Address `cbor:"beneficiary"`
}

// DelegationInfo is one delegation of the queried owner.
type DelegationInfo struct {
	Escrow Address           `cbor:"escrow"`
	Shares quantity.Quantity `cbor:"shares"`
	// Amount is what the shares are worth now.
	Amount quantity.Quantity `cbor:"amount"`
}

// DebondingDelegationInfo is one debonding delegation of the queried owner.
type DebondingDelegationInfo struct {
	Escrow        Address           `cbor:"escrow"`
	Shares        quantity.Quantity `cbor:"shares"`
	Amount        quantity.Quantity `cbor:"amount"`
	DebondEndTime beacon.EpochTime  `cbor:"debond_end_time"`
}

// Supply is the token supply and the pools outside accounts.
type Supply struct {
	TotalSupply quantity.Quantity `cbor:"total_supply"`
	CommonPool  quantity.Quantity `cbor:"common_pool"`
	// LastBlockFees are the fees paid in the queried block.
	LastBlockFees quantity.Quantity `cbor:"last_block_fees"`
}
