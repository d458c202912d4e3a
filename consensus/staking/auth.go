package staking

import (
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

type beaconEpoch = beacon.EpochTime

// AuthenticateTx implements consensus.TxAuthenticator: the nonce must be the signer's account
// nonce, fee.amount must be at least fee.gas × min_gas_price and the general balance must
// cover it. The fee moves to the block's fees (paid out in EndBlock) and the nonce advances;
// the mux keeps both even when the method then fails.
func (a *App) AuthenticateTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	p, err := a.loadParams(ctx.State())
	if err != nil {
		return err
	}
	v := stateView{ctx.State()}
	addr := ctx.Caller().Address
	acct, err := v.account(addr)
	if err != nil {
		return err
	}
	if tx.Fee.Amount.IsZero() {
		// No fee: the supply record is left alone (the common case on dev chains).
		var zero quantity.Quantity
		if err := chargeFee(acct, tx, &p.MinGasPrice, &zero); err != nil {
			return err
		}
		return v.setAccount(addr, acct)
	}
	sup, err := v.supply()
	if err != nil {
		return err
	}
	if err := chargeFee(acct, tx, &p.MinGasPrice, &sup.BlockFees); err != nil {
		return err
	}
	if err := v.setAccount(addr, acct); err != nil {
		return err
	}
	return v.setSupply(sup)
}
