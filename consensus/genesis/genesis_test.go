package genesis

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
)

func key(label string) signature.PublicKey {
	return signature.PublicKey(hash.Digest([]byte(label)))
}

func devDoc(t testing.TB) *Document {
	t.Helper()
	d, err := DevDocument(DevParams{
		ChainID: "test", GenesisTime: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Validators: []DevValidator{{EntityID: key("e0"), ConsensusKey: key("c0")}, {EntityID: key("e1"), ConsensusKey: key("c1")}},
		Balance:    1000, SelfEscrow: 500, EpochInterval: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestADevDocumentRoundTripsThroughJSONWithTheSameChainContext(t *testing.T) {
	d := devDoc(t)
	raw, err := d.EncodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	if back.ChainContext() != d.ChainContext() {
		t.Fatal("chain context changed across JSON")
	}
	// Formatting does not matter, values do.
	compact := bytes.Join(bytes.Fields(raw), nil)
	again, err := Load(compact)
	if err != nil {
		t.Fatal(err)
	}
	if again.ChainContext() != d.ChainContext() {
		t.Fatal("chain context depends on formatting")
	}
	again.ChainID = "test2"
	if again.ChainContext() == d.ChainContext() {
		t.Fatal("chain context ignores the chain ID")
	}
	if d.Staking.TotalSupply.ToBigInt().Uint64() != 3000 {
		t.Fatalf("total supply %s, want 2 × (1000 + 500)", &d.Staking.TotalSupply)
	}
}

func TestTheCometBFTChainIDIsTheFirst50HexCharactersOfTheChainContext(t *testing.T) {
	d := devDoc(t)
	cc := d.ChainContext()
	if got := d.CometBFTChainID(); got != hex.EncodeToString(cc[:])[:50] || len(got) != 50 {
		t.Fatalf("chain ID %q", got)
	}
}

func TestSanityCheckRejectsInconsistentDocuments(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Document)
		want   string
	}{
		{"a total supply that does not add up", func(d *Document) { d.Staking.TotalSupply = *quantity.NewFromUint64(1) }, "total_supply"},
		{"a validator whose entity has no account", func(d *Document) { d.Validators[0].EntityID = key("nobody") }, "no staking account"},
		{"a validator without power", func(d *Document) { d.Validators[0].Power = 0 }, "power"},
		{"a repeated consensus key", func(d *Document) { d.Validators[1].ConsensusKey = d.Validators[0].ConsensusKey }, "repeated"},
		{"no validators", func(d *Document) { d.Validators = nil }, "validators"},
		{"an initial height of zero", func(d *Document) { d.InitialHeight = 0 }, "initial_height"},
		{"a genesis time with nanoseconds", func(d *Document) { d.GenesisTime = d.GenesisTime.Add(1) }, "whole seconds"},
		{"an empty chain ID", func(d *Document) { d.ChainID = "" }, "chain_id"},
		{"a zero epoch interval", func(d *Document) { d.Beacon.Params.EpochInterval = 0 }, "epoch_interval"},
		{"an unknown beacon backend", func(d *Document) { d.Beacon.Params.Backend = "vrf" }, "backend"},
		{"a missing gas cost", func(d *Document) { delete(d.Staking.Params.GasCosts, "transfer") }, "gas_costs"},
		{"unsorted accounts", func(d *Document) {
			a := d.Staking.Accounts
			a[0], a[1] = a[1], a[0]
		}, "sorted"},
		{"a transaction larger than a block", func(d *Document) { d.Consensus.MaxTxBytes = d.Consensus.MaxBlockBytes + 1 }, "max_tx_bytes"},
		{"no block gas", func(d *Document) { d.Consensus.MaxBlockGas = 0 }, "max_block_gas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := devDoc(t)
			tc.change(d)
			err := d.SanityCheck()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestDecodeRejectsUnknownFieldsAndTrailingData(t *testing.T) {
	raw, err := devDoc(t).EncodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, doc string }{
		{"an unknown top-level field", strings.Replace(string(raw), `"chain_id"`, `"extra": 1, "chain_id"`, 1)},
		{"an unknown nested field", strings.Replace(string(raw), `"epoch_interval"`, `"epoch_length": 3, "epoch_interval"`, 1)},
		{"trailing data", string(raw) + "{}"},
		{"an unknown registry field", strings.Replace(string(raw), `"max_node_expiration"`, `"max_node_expiry": 3, "max_node_expiration"`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode([]byte(tc.doc)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	raw, err := devDoc(f).EncodeJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"staking":{"total_supply":"01"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err != nil {
			return
		}
		if d.SanityCheck() != nil {
			return
		}
		_ = d.ChainContext()
		out, err := d.EncodeJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Load(out)
		if err != nil {
			t.Fatalf("re-encoded document fails: %v", err)
		}
		if back.ChainContext() != d.ChainContext() {
			t.Fatal("chain context changed across a re-encoding")
		}
	})
}
