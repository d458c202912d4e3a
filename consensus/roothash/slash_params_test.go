package roothash_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/quantity"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

func TestTheRuntimesSlashingParametersDecideWhatIncorrectResultsCost(t *testing.T) {
	for _, tc := range []struct {
		name       string
		slashing   map[stakingapi.SlashReason]stakingapi.SlashParams
		wantAmount uint64
		wantFreeze beacon.EpochTime
	}{
		{
			name: "a runtime with its own amount slashes exactly that amount",
			slashing: map[stakingapi.SlashReason]stakingapi.SlashParams{
				stakingapi.SlashIncorrectResults: {Amount: *quantity.NewFromUint64(250), FreezeInterval: 5},
			},
			wantAmount: 250, wantFreeze: 5,
		},
		{
			name: "a runtime may set a smaller amount than the global one",
			slashing: map[stakingapi.SlashReason]stakingapi.SlashParams{
				stakingapi.SlashIncorrectResults: {Amount: *quantity.NewFromUint64(7), FreezeInterval: 1},
			},
			wantAmount: 7, wantFreeze: 1,
		},
		{
			name: "a runtime that overrides only another reason keeps the global amount",
			slashing: map[stakingapi.SlashReason]stakingapi.SlashParams{
				stakingapi.SlashEquivocation: {Amount: *quantity.NewFromUint64(999), FreezeInterval: 9},
			},
			wantAmount: incorrectSlash, wantFreeze: incorrectFreeze,
		},
		{
			name:       "a runtime that sets no slashing keeps the global amount",
			wantAmount: incorrectSlash, wantFreeze: incorrectFreeze,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{runtime: func(rt *registryapi.Runtime) { rt.Staking.Slashing = tc.slashing }})
			// Round 2: w2 schedules, w0 agrees, w1 disagrees; the backups side with the scheduler.
			h.commitAll(commitOpts{}, "w2", "w0")
			h.commitAll(commitOpts{result: "B"}, "w1")
			runtimeBefore := h.balance(h.runtimeAddress())
			h.commitAll(commitOpts{}, "b0", "b1")
			h.expectLatest(api.HeaderTypeNormal, 2)
			if got := h.slashedBy("w1"); got != tc.wantAmount {
				t.Fatalf("w1 lost %d, want %d", got, tc.wantAmount)
			}
			if got := h.balance(h.runtimeAddress()) - runtimeBefore; got != tc.wantAmount {
				t.Fatalf("the runtime's account received %d, want %d", got, tc.wantAmount)
			}
			if st := h.status("w1"); st.FrozenUntil != tc.wantFreeze {
				t.Fatalf("w1 frozen until epoch %d, want %d", st.FrozenUntil, tc.wantFreeze)
			}
			h.checkSupply()
		})
	}
}
