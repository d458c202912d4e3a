package staking_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/staking"
	"github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

func auditSupply(c *memchain.Chain) error {
	return c.ReadState(func(s consensus.State) error { return staking.CheckSupply(s) })
}

func TestEveryStakingRuleAcceptsOrRejectsAsSpecified(t *testing.T) {
	e := newEnv(t, memchain.FixtureParams{Validators: 1, Accounts: 3, Balance: 1_000_000, SelfEscrow: 100_000, Tweak: func(d *genesis.Document) {
		d.Staking.Params.MinDelegation = q(10)
		d.Staking.Params.MaxAllowances = 1
	}})
	a, b, c := e.f.Accounts[0], e.f.Accounts[1], e.f.Accounts[2]
	addrA, addrB, addrC := memchain.Address(a), memchain.Address(b), memchain.Address(c)
	for _, tc := range []struct {
		name   string
		method transaction.MethodName
		body   any
		want   error
	}{
		{"a transfer within the balance succeeds", api.MethodTransfer, &api.Transfer{To: addrB, Amount: q(10)}, nil},
		{"a transfer to oneself succeeds", api.MethodTransfer, &api.Transfer{To: addrA, Amount: q(10)}, nil},
		{"a transfer over the balance is rejected", api.MethodTransfer, &api.Transfer{To: addrB, Amount: q(10_000_000)}, api.ErrInsufficientBalance},
		{"a body of the wrong type is malformed", api.MethodTransfer, &api.Allow{Beneficiary: addrB}, transaction.ErrMalformedBody},
		{"an escrow below the minimum delegation is rejected", api.MethodAddEscrow, &api.Escrow{Account: addrB, Amount: q(9)}, api.ErrUnderMinDelegation},
		{"an escrow of zero is rejected", api.MethodAddEscrow, &api.Escrow{Account: addrB, Amount: q(0)}, api.ErrInvalidArgument},
		{"an escrow over the balance is rejected", api.MethodAddEscrow, &api.Escrow{Account: addrB, Amount: q(10_000_000)}, api.ErrInsufficientBalance},
		{"an escrow within the balance succeeds", api.MethodAddEscrow, &api.Escrow{Account: addrB, Amount: q(1000)}, nil},
		{"reclaiming more shares than delegated is rejected", api.MethodReclaimEscrow, &api.ReclaimEscrow{Account: addrB, Shares: q(1001)}, api.ErrInsufficientStake},
		{"reclaiming zero shares is rejected", api.MethodReclaimEscrow, &api.ReclaimEscrow{Account: addrB, Shares: q(0)}, api.ErrInvalidArgument},
		{"reclaiming delegated shares succeeds", api.MethodReclaimEscrow, &api.ReclaimEscrow{Account: addrB, Shares: q(500)}, nil},
		{"an allowance to oneself is rejected", api.MethodAllow, &api.Allow{Beneficiary: addrA, AmountChange: q(5)}, api.ErrInvalidArgument},
		{"an allowance succeeds", api.MethodAllow, &api.Allow{Beneficiary: addrB, AmountChange: q(50)}, nil},
		{"an allowance past max_allowances is rejected", api.MethodAllow, &api.Allow{Beneficiary: addrC, AmountChange: q(50)}, api.ErrTooManyAllowances},
		{"withdrawing from oneself is rejected", api.MethodWithdraw, &api.Withdraw{From: addrA, Amount: q(1)}, api.ErrInvalidArgument},
		{"withdrawing without an allowance is rejected", api.MethodWithdraw, &api.Withdraw{From: addrB, Amount: q(1)}, api.ErrAllowanceExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, e.run(a, string(tc.method), tc.body), tc.want)
		})
	}
	t.Run("a beneficiary withdraws within its allowance, and not beyond", func(t *testing.T) {
		wantCode(t, e.run(b, string(api.MethodWithdraw), &api.Withdraw{From: addrA, Amount: q(30)}), nil)
		wantCode(t, e.run(b, string(api.MethodWithdraw), &api.Withdraw{From: addrA, Amount: q(21)}), api.ErrAllowanceExceeded)
		var left quantity.Quantity
		if err := e.chain.Query(api.QueryAllowance, &api.AllowanceQuery{Owner: addrA, Beneficiary: addrB}, &left, 0); err != nil {
			t.Fatal(err)
		}
		if left.ToBigInt().Uint64() != 20 {
			t.Fatalf("allowance left %s, want 20", &left)
		}
	})
}

func TestAMethodNeedingMoreGasThanTheFeeAllowsFailsOutOfGas(t *testing.T) {
	e := newEnv(t, defaultParams())
	a := e.f.Accounts[0]
	raw := e.f.SignTx(a, memchain.Tx{Nonce: 0, Gas: 999, Method: api.MethodTransfer, Body: &api.Transfer{To: memchain.Address(a), Amount: q(1)}})
	e.nonce[memchain.Address(a)] = 1
	wantCode(t, e.deliver(raw).TxErr(0), transaction.ErrOutOfGas)
	if n := e.account(memchain.Address(a)).General.Nonce; n != 1 {
		t.Fatalf("nonce %d after an out-of-gas transaction, want 1", n)
	}
}

func TestReclaimedEscrowIsReleasedOnlyOnceTheDebondingIntervalHasPassed(t *testing.T) {
	// Epochs of 5 blocks, debonding over 2 epochs.
	e := newEnv(t, memchain.FixtureParams{Validators: 1, Accounts: 2, Balance: 1_000_000, EpochInterval: 5, Tweak: func(d *genesis.Document) {
		d.Staking.Params.DebondingInterval = 2
	}})
	a, b := e.f.Accounts[0], e.f.Accounts[1]
	addrA, addrB := memchain.Address(a), memchain.Address(b)
	e.mustRun(a, string(api.MethodAddEscrow), &api.Escrow{Account: addrB, Amount: q(1000)})           // height 2, epoch 0
	e.mustRun(a, string(api.MethodReclaimEscrow), &api.ReclaimEscrow{Account: addrB, Shares: q(400)}) // height 3, epoch 0
	var deb []api.DebondingDelegationInfo
	if err := e.chain.Query(api.QueryDebondingDelegations, &api.OwnerQuery{Owner: addrA}, &deb, 0); err != nil {
		t.Fatal(err)
	}
	if len(deb) != 1 || deb[0].DebondEndTime != 2 || deb[0].Amount.ToBigInt().Uint64() != 400 {
		t.Fatalf("debonding delegations %+v, want one of 400 ending at epoch 2", deb)
	}
	before := e.balance(addrA)
	for e.chain.NextHeight() < 10 { // heights 4..9: epoch 0 and 1
		e.deliver()
		if got := e.balance(addrA); got != before {
			t.Fatalf("released at height %d (epoch %d), before epoch 2", e.chain.Height(), e.chain.Height()/5)
		}
	}
	res := e.deliver() // height 10: epoch 2 starts
	if got := e.balance(addrA); got != before+400 {
		t.Fatalf("balance %d after epoch 2 began, want %d", got, before+400)
	}
	var ev api.ReclaimEscrowEvent
	if !findEvent(res, &ev) || ev.Amount.ToBigInt().Uint64() != 400 || ev.Owner != addrA {
		t.Fatalf("no ReclaimEscrow event of 400 in %v", res.Events)
	}
}

func TestSlashingCutsActiveAndDebondingEscrowInProportion(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		active, reclaim, penalty  uint64
		wantActive, wantDebonding uint64
	}{
		{"three to one with a penalty of 100", 800, 200, 100, 720, 180},
		{"rounding favours the debonding side by at most one", 700, 300, 101, 630, 269},
		{"a penalty above the stake takes everything", 600, 400, 5000, 0, 0},
		{"no debonding escrow: all from active", 1000, 0, 100, 900, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, memchain.FixtureParams{Validators: 1, Accounts: 2, Balance: 1_000_000, Tweak: func(d *genesis.Document) {
				d.Staking.Params.Slashing.Equivocation = api.SlashParams{Amount: q(tc.penalty), FreezeInterval: 3}
				d.Staking.Params.DebondingInterval = 100
			}})
			a, runtime := e.f.Accounts[0], api.NewRuntimeAddress(namespace.Namespace{runtimeIDIndex})
			addrA := memchain.Address(a)
			e.mustRun(a, string(api.MethodAddEscrow), &api.Escrow{Account: addrA, Amount: q(tc.active + tc.reclaim)})
			if tc.reclaim > 0 {
				e.mustRun(a, string(api.MethodReclaimEscrow), &api.ReclaimEscrow{Account: addrA, Shares: q(tc.reclaim)})
			}
			e.mustRun(a, string(methodSlash), &slashBody{Offender: addrA, Reason: api.SlashEquivocation, To: &runtime})
			acct := e.account(addrA)
			if got := acct.Escrow.Active.Balance.ToBigInt().Uint64(); got != tc.wantActive {
				t.Errorf("active %d, want %d", got, tc.wantActive)
			}
			if got := acct.Escrow.Debonding.Balance.ToBigInt().Uint64(); got != tc.wantDebonding {
				t.Errorf("debonding %d, want %d", got, tc.wantDebonding)
			}
			if got := acct.Escrow.Active.TotalShares.ToBigInt().Uint64(); got != tc.active {
				t.Errorf("active shares %d changed, want %d", got, tc.active)
			}
			taken := tc.active + tc.reclaim - tc.wantActive - tc.wantDebonding
			if got := e.balance(runtime); got != taken {
				t.Errorf("runtime account got %d, want %d", got, taken)
			}
		})
	}
}

func TestStakeClaimsNeedEnoughEscrowAndLockTheOwnersReclaims(t *testing.T) {
	e := newEnv(t, memchain.FixtureParams{Validators: 1, Accounts: 2, Balance: 1_000_000, Tweak: func(d *genesis.Document) {
		d.Staking.Params.Thresholds.Entity = q(500)
		d.Staking.Params.Thresholds.NodeCompute = q(300)
	}})
	a, b := e.f.Accounts[0], e.f.Accounts[1]
	addrA := memchain.Address(a)
	e.mustRun(a, string(api.MethodAddEscrow), &api.Escrow{Account: addrA, Amount: q(600)})
	entity := &claimBody{Account: addrA, Claim: "registry.RegisterEntity", Kinds: []api.ThresholdKind{api.KindEntity}}
	node := &claimBody{Account: addrA, Claim: "registry.RegisterNode.1", Kinds: []api.ThresholdKind{api.KindNodeCompute}}
	wantCode(t, e.run(a, string(methodClaim), entity), nil)
	wantCode(t, e.run(a, string(methodClaim), node), api.ErrInsufficientStake)
	wantCode(t, e.run(a, string(api.MethodReclaimEscrow), &api.ReclaimEscrow{Account: addrA, Shares: q(101)}), api.ErrInsufficientStake)
	wantCode(t, e.run(a, string(api.MethodReclaimEscrow), &api.ReclaimEscrow{Account: addrA, Shares: q(100)}), nil)
	// Another delegator's stake backs the claims but is not locked by them.
	e.mustRun(b, string(api.MethodAddEscrow), &api.Escrow{Account: addrA, Amount: q(300)})
	wantCode(t, e.run(a, string(methodClaim), node), nil)
	wantCode(t, e.run(b, string(api.MethodReclaimEscrow), &api.ReclaimEscrow{Account: addrA, Shares: q(300)}), nil)
	err := e.chain.ReadState(func(s consensus.State) error { return staking.CheckStakeClaims(s, addrA) })
	wantCode(t, err, api.ErrInsufficientStake)
	wantCode(t, e.run(a, string(methodClaim), &claimBody{Account: addrA, Claim: node.Claim, Remove: true}), nil)
	err = e.chain.ReadState(func(s consensus.State) error { return staking.CheckStakeClaims(s, addrA) })
	wantCode(t, err, nil)
}

func TestARuntimesAccountMovesOnlyThroughItsMessagesAndAFailingOneIsRevertedAlone(t *testing.T) {
	e := newEnv(t, defaultParams())
	a, b := e.f.Accounts[0], e.f.Accounts[1]
	runtime := api.NewRuntimeAddress(namespace.Namespace{runtimeIDIndex})
	if !runtime.IsRuntime() {
		t.Fatal("runtime address has the wrong kind")
	}
	e.mustRun(a, string(api.MethodTransfer), &api.Transfer{To: runtime, Amount: q(1000)})
	res := e.deliver(e.tx(a, string(methodRuntime), &runtimeBody{Calls: []api.RuntimeCall{
		{Caller: runtime, Transfer: &api.Transfer{To: memchain.Address(b), Amount: q(600)}},
		{Caller: runtime, Transfer: &api.Transfer{To: memchain.Address(b), Amount: q(600)}}, // over the balance
		{Caller: runtime, AddEscrow: &api.Escrow{Account: runtime, Amount: q(300)}},
	}}))
	wantCode(t, res.TxErr(0), nil)
	if got := e.balance(runtime); got != 100 {
		t.Fatalf("runtime balance %d, want 100", got)
	}
	if got := e.account(runtime).Escrow.Active.Balance.ToBigInt().Uint64(); got != 300 {
		t.Fatalf("runtime escrow %d, want 300", got)
	}
	if got := e.balance(memchain.Address(b)); got != 1_000_600 {
		t.Fatalf("receiver balance %d, want 1000600", got)
	}
	var failed int
	for _, ev := range res.TxResults[0].Events {
		var r runtimeResult
		if ev.Type == r.EventKind() {
			if err := consensus.DecodeEvent(ev, &r); err != nil {
				t.Fatal(err)
			}
			if r.Error != "" {
				failed++
				if r.Index != 1 {
					t.Fatalf("call %d failed, want call 1", r.Index)
				}
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d calls failed, want 1", failed)
	}
}

func TestGenesisDelegationsGiveSharesOneToOne(t *testing.T) {
	e := newEnv(t, defaultParams())
	entity := memchain.Address(e.f.Validators[0].Entity)
	acct := e.account(entity)
	if acct.Escrow.Active.Balance.ToBigInt().Uint64() != 100_000 || acct.Escrow.Active.TotalShares.ToBigInt().Uint64() != 100_000 {
		t.Fatalf("entity escrow %+v, want 100000 at 1:1", acct.Escrow.Active)
	}
	var params api.ConsensusParameters
	if err := e.chain.Query(api.QueryParams, nil, &params, 0); err != nil {
		t.Fatal(err)
	}
	if params.GasCosts[api.GasOpTransfer] != 1000 {
		t.Fatalf("params %+v", params)
	}
}

func findEvent[T consensus.Event](res *memchain.BlockResult, dst T) bool {
	for _, ev := range res.Events {
		if ev.Type == dst.EventKind() {
			return consensus.DecodeEvent(ev, dst) == nil
		}
	}
	return false
}
