package genesis

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// DevValidator names the keys of one validator of a development chain.
type DevValidator struct {
	EntityID     signature.PublicKey
	ConsensusKey signature.PublicKey
}

// DevParams describe a development chain for DevDocument.
type DevParams struct {
	ChainID     string
	GenesisTime time.Time
	Validators  []DevValidator
	// Accounts get Balance each, besides the validators' entities.
	Accounts []staking.Address
	// Balance is every funded account's general balance (entities included).
	Balance uint64
	// SelfEscrow is what each validator's entity has in escrow with itself.
	SelfEscrow uint64
	// EpochInterval is the number of blocks per epoch.
	EpochInterval int64
	// DebugAllowMockTEE admits runtimes with the INSECURE mock TEE (registry parameter
	// debug_allow_mock_tee).
	DebugAllowMockTEE bool
}

// DevDocument returns a sanity-checked genesis document for a development chain: the given
// validators with power 10, each entity funded and self-escrowed, the extra accounts funded,
// zero stake thresholds, a zero gas price and default gas costs, the registry's default
// parameters (no descriptors) and the scheduler's. The CLI's `atoll genesis init`
// writes its EncodeJSON output.
func DevDocument(p DevParams) (*Document, error) {
	d := &Document{
		ChainID:       p.ChainID,
		GenesisTime:   p.GenesisTime.UTC().Truncate(time.Second),
		InitialHeight: 1,
		Consensus: ConsensusParams{
			MaxBlockBytes: 21 << 20,
			MaxBlockGas:   100_000_000,
			MaxTxBytes:    1 << 20,
		},
		Beacon: beacon.Genesis{Params: beacon.ConsensusParameters{
			Backend:       beacon.BackendInsecure,
			EpochInterval: p.EpochInterval,
		}},
		Staking: staking.Genesis{
			Params: staking.ConsensusParameters{
				DebondingInterval: 1,
				GasCosts:          staking.DefaultGasCosts(),
				MaxAllowances:     16,
			},
			TokenSymbol: "ATL",
		},
		Registry:  &registry.Genesis{Params: registry.DefaultConsensusParameters()},
		Scheduler: &scheduler.Genesis{},
	}
	d.Registry.Params.DebugAllowMockTEE = p.DebugAllowMockTEE
	balances := make(map[staking.Address]bool)
	for _, v := range p.Validators {
		d.Validators = append(d.Validators, Validator{EntityID: v.EntityID, ConsensusKey: v.ConsensusKey, Power: 10})
		balances[staking.NewAddress(v.EntityID)] = true
		if p.SelfEscrow > 0 {
			addr := staking.NewAddress(v.EntityID)
			d.Staking.Delegations = append(d.Staking.Delegations, staking.GenesisDelegation{
				From: addr, To: addr, Amount: *quantity.NewFromUint64(p.SelfEscrow),
			})
		}
	}
	for _, a := range p.Accounts {
		balances[a] = true
	}
	addrs := make([]staking.Address, 0, len(balances))
	for a := range balances {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i][:], addrs[j][:]) < 0 })
	total := new(quantity.Quantity)
	for _, a := range addrs {
		d.Staking.Accounts = append(d.Staking.Accounts, staking.GenesisAccount{Address: a, Balance: *quantity.NewFromUint64(p.Balance)})
		if err := total.Add(quantity.NewFromUint64(p.Balance)); err != nil {
			return nil, fmt.Errorf("genesis: %w", err)
		}
	}
	for i := range d.Staking.Delegations {
		if err := total.Add(&d.Staking.Delegations[i].Amount); err != nil {
			return nil, fmt.Errorf("genesis: %w", err)
		}
	}
	d.Staking.TotalSupply = *total
	if err := d.SanityCheck(); err != nil {
		return nil, err
	}
	return d, nil
}
