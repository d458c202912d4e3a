package beacon_test

import (
	"testing"

	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
)

func TestTheEpochChangesInTheFirstBlockOfEachEpochWithItsEntropy(t *testing.T) {
	f, err := memchain.NewFixture(memchain.FixtureParams{Validators: 1, Accounts: 1, Balance: 10, EpochInterval: 5, Tweak: func(d *genesis.Document) {
		d.InitialHeight = 3
	}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.NewChain()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var changes []api.EpochChangedEvent
	for c.NextHeight() <= 16 {
		res, err := c.Deliver()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range res.Events {
			if ev.Type == (api.EpochChangedEvent{}).EventKind() {
				var e api.EpochChangedEvent
				if err := consensus.DecodeEvent(ev, &e); err != nil {
					t.Fatal(err)
				}
				if e.Height != res.Height {
					t.Fatalf("event at height %d says %d", res.Height, e.Height)
				}
				changes = append(changes, e)
			}
		}
	}
	// Heights 3..16 with interval 5: the first block (epoch 0), then heights 5, 10, 15.
	want := []struct {
		height int64
		epoch  api.EpochTime
	}{{3, 0}, {5, 1}, {10, 2}, {15, 3}}
	if len(changes) != len(want) {
		t.Fatalf("%d epoch changes, want %d: %+v", len(changes), len(want), changes)
	}
	for i, w := range want {
		if changes[i].Height != w.height || changes[i].Epoch != w.epoch {
			t.Errorf("change %d at height %d to epoch %d, want height %d epoch %d", i, changes[i].Height, changes[i].Epoch, w.height, w.epoch)
		}
		if changes[i].Entropy != api.InsecureEntropy(f.Genesis.ChainContext(), w.epoch) {
			t.Errorf("change %d has the wrong entropy", i)
		}
	}
	var info api.EpochInfo
	if err := c.Query(api.QueryEpoch, nil, &info, 0); err != nil {
		t.Fatal(err)
	}
	if info.Epoch != 3 || info.Height != 15 || info.Interval != 5 {
		t.Fatalf("epoch info %+v", info)
	}
	if err := c.Query(api.QueryEntropy, nil, &info, 12); err != nil {
		t.Fatal(err)
	}
	if info.Epoch != 2 || info.Entropy != api.InsecureEntropy(f.Genesis.ChainContext(), 2) {
		t.Fatalf("entropy at height 12: %+v", info)
	}
}
