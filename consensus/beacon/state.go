package beacon

import (
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
	return consensus.GetRecord(s, "beacon", singletonKeyFmt.Encode(table), dst)
}

func setRecord(s consensus.State, table uint8, v any) error {
	return consensus.PutRecord(s, singletonKeyFmt.Encode(table), v)
}
