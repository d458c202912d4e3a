package consensus

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/keyformat"
	"github.com/atoll-project/atoll/common/signature"
)

// The consensus layer's own state, under PrefixConsensus:
//
//	0x01 0x01 | address (20 bytes)  → ValidatorInfo: the validator with that CometBFT address
//	0x01 0x02                      → lastBlockRecord: height and time of the last block
var (
	validatorKeyFmt = keyformat.New(PrefixConsensus, keyformat.Uint8, keyformat.Fixed(ValidatorAddressSize))
	lastBlockKeyFmt = keyformat.New(PrefixConsensus, keyformat.Uint8)
)

const (
	tableValidators uint8 = 0x01
	tableLastBlock  uint8 = 0x02
)

// ValidatorAddressSize is the length of a CometBFT validator address.
const ValidatorAddressSize = 20

// ValidatorAddress returns CometBFT's address of an Ed25519 consensus key: the first 20
// bytes of SHA-256(key).
func ValidatorAddress(consensusKey signature.PublicKey) [ValidatorAddressSize]byte {
	sum := sha256.Sum256(consensusKey[:])
	var a [ValidatorAddressSize]byte
	copy(a[:], sum[:ValidatorAddressSize])
	return a
}

// ValidatorInfo is a validator of the current set, with the entity it belongs to.
type ValidatorInfo struct {
	EntityID     signature.PublicKey `cbor:"entity_id"`
	ConsensusKey signature.PublicKey `cbor:"consensus_key"`
	Power        int64               `cbor:"power"`
}

type lastBlockRecord struct {
	Height int64 `cbor:"height"`
	Time   int64 `cbor:"time"` // Unix nanoseconds
}

func validatorKey(addr [ValidatorAddressSize]byte) []byte {
	return validatorKeyFmt.Encode(tableValidators, addr)
}

// setValidator stores (power > 0) or removes a validator.
func setValidator(s State, v ValidatorInfo) error {
	key := validatorKey(ValidatorAddress(v.ConsensusKey))
	if v.Power <= 0 {
		return s.Remove(key)
	}
	return s.Insert(key, cbor.Marshal(&v))
}

// validatorByAddress returns the validator with a CometBFT address, or nil.
func validatorByAddress(s State, addr []byte) (*ValidatorInfo, error) {
	if len(addr) != ValidatorAddressSize {
		return nil, nil
	}
	var a [ValidatorAddressSize]byte
	copy(a[:], addr)
	raw, err := s.Get(validatorKey(a))
	if err != nil || raw == nil {
		return nil, err
	}
	var v ValidatorInfo
	if err := cbor.UnmarshalTrusted(raw, &v); err != nil {
		return nil, StateError(fmt.Errorf("validator record: %w", err))
	}
	return &v, nil
}

// Validators returns the current validator set stored in s, in address order.
func Validators(s State) ([]ValidatorInfo, error) {
	var out []ValidatorInfo
	err := IteratePrefix(s, validatorKeyFmt.Prefix(tableValidators), func(_, value []byte) (bool, error) {
		var v ValidatorInfo
		if err := cbor.UnmarshalTrusted(value, &v); err != nil {
			return false, StateError(fmt.Errorf("validator record: %w", err))
		}
		out = append(out, v)
		return true, nil
	})
	return out, err
}

func setLastBlock(s State, height int64, t time.Time) error {
	return s.Insert(lastBlockKeyFmt.Encode(tableLastBlock), cbor.Marshal(&lastBlockRecord{Height: height, Time: t.UnixNano()}))
}

func getLastBlock(s State) (*lastBlockRecord, error) {
	raw, err := s.Get(lastBlockKeyFmt.Encode(tableLastBlock))
	if err != nil || raw == nil {
		return nil, err
	}
	var r lastBlockRecord
	if err := cbor.UnmarshalTrusted(raw, &r); err != nil {
		return nil, StateError(fmt.Errorf("last block record: %w", err))
	}
	return &r, nil
}
