package staking_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// TestTotalSupplyIsConservedByEveryRandomSequenceOfStakingOperations runs random transfers,
// escrow deposits and reclaims, allowances, withdrawals, slashes and runtime calls (with fees)
// over short epochs so that debonding releases happen too, and checks after every block that
// all holdings add up to the total supply.
func TestTotalSupplyIsConservedByEveryRandomSequenceOfStakingOperations(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		e := openEnv(rt, memchain.FixtureParams{Validators: 2, Accounts: 3, Balance: 10_000, SelfEscrow: 1_000, EpochInterval: 2, Tweak: func(d *genesis.Document) {
			d.Staking.Params.DebondingInterval = 1
			d.Staking.Params.MinGasPrice = q(1)
			d.Staking.Params.Slashing.Liveness = api.SlashParams{Amount: q(77)}
			d.Staking.Params.GasCosts[api.GasOpTransfer] = 1
		}})
		defer e.chain.Close()
		runtime := api.NewRuntimeAddress(namespace.Namespace{runtimeIDIndex})
		signers := e.f.Accounts
		addrs := []api.Address{runtime}
		for _, s := range signers {
			addrs = append(addrs, memchain.Address(s))
		}
		for _, v := range e.f.Validators {
			addrs = append(addrs, memchain.Address(v.Entity))
		}
		blocks := rapid.IntRange(1, 6).Draw(rt, "blocks")
		for b := 0; b < blocks; b++ {
			n := rapid.IntRange(0, 5).Draw(rt, "txs")
			var txs [][]byte
			for i := 0; i < n; i++ {
				s := signers[rapid.IntRange(0, len(signers)-1).Draw(rt, "signer")]
				to := addrs[rapid.IntRange(0, len(addrs)-1).Draw(rt, "to")]
				amount := q(rapid.Uint64Range(0, 3_000).Draw(rt, "amount"))
				var method string
				var body any
				switch rapid.IntRange(0, 6).Draw(rt, "op") {
				case 0:
					method, body = string(api.MethodTransfer), &api.Transfer{To: to, Amount: amount}
				case 1:
					method, body = string(api.MethodAddEscrow), &api.Escrow{Account: to, Amount: amount}
				case 2:
					method, body = string(api.MethodReclaimEscrow), &api.ReclaimEscrow{Account: to, Shares: amount}
				case 3:
					method, body = string(api.MethodAllow), &api.Allow{Beneficiary: to, Negative: rapid.Bool().Draw(rt, "neg"), AmountChange: amount}
				case 4:
					method, body = string(api.MethodWithdraw), &api.Withdraw{From: to, Amount: amount}
				case 5:
					method, body = string(methodSlash), &slashBody{Offender: to, Reason: api.SlashLiveness, To: &runtime}
				case 6:
					method, body = string(methodRuntime), &runtimeBody{Calls: []api.RuntimeCall{
						{Caller: runtime, Transfer: &api.Transfer{To: to, Amount: amount}},
						{Caller: runtime, AddEscrow: &api.Escrow{Account: to, Amount: amount}},
					}}
				}
				addr := memchain.Address(s)
				nonce := e.nonce[addr]
				e.nonce[addr] = nonce + 1
				fee := rapid.Uint64Range(10_000, 10_050).Draw(rt, "fee")
				txs = append(txs, e.f.SignTx(s, memchain.Tx{Nonce: nonce, Fee: fee / 1000, Gas: 10, Method: transaction.MethodName(method), Body: body}))
			}
			e.deliver(txs...) // deliver checks the supply
		}
	})
}
