package beacon

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/keyformat"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/beacon/api"
)

// State keys, under consensus.PrefixBeacon:
//
//	0x02 0x01 → api.ConsensusParameters
//	0x02 0x02 → epochRecord: the current epoch, its first height and its entropy
var singletonKeyFmt = keyformat.New(consensus.PrefixBeacon, keyformat.Uint8)

const (
	tableParams uint8 = 0x01
	tableEpoch  uint8 = 0x02
)

type epochRecord struct {
	Epoch   api.EpochTime `cbor:"epoch"`
	Height  int64         `cbor:"height"`
	Entropy hash.Hash     `cbor:"entropy"`
}

func getRecord(s consensus.State, table uint8, dst any) (bool, error) {
	raw, err := s.Get(singletonKeyFmt.Encode(table))
	if err != nil || raw == nil {
		return false, err
	}
	if err := cbor.UnmarshalTrusted(raw, dst); err != nil {
		return false, consensus.StateError(fmt.Errorf("beacon: record 0x%02x: %w", table, err))
	}
	return true, nil
}

func setRecord(s consensus.State, table uint8, v any) error {
	return s.Insert(singletonKeyFmt.Encode(table), cbor.Marshal(v))
}
