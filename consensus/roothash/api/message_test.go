package api

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/quantity"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

func addr(b byte) staking.Address {
	var pk [32]byte
	pk[0] = b
	return staking.NewAddress(pk)
}

func sampleMessages() []Message {
	descriptor := cbor.Marshal(map[string]any{"id": namespace.Namespace{1}, "version": 2})
	return []Message{
		{Staking: &StakingMessage{Transfer: &staking.Transfer{To: addr(1), Amount: *quantity.NewFromUint64(1000)}}},
		{Staking: &StakingMessage{Withdraw: &staking.Withdraw{From: addr(2), Amount: *quantity.NewFromUint64(5)}}},
		{Staking: &StakingMessage{AddEscrow: &staking.Escrow{Account: addr(3), Amount: *quantity.NewFromUint64(256)}}},
		{Staking: &StakingMessage{ReclaimEscrow: &staking.ReclaimEscrow{Account: addr(3), Shares: quantity.Quantity{}}}},
		{Registry: &RegistryMessage{UpdateRuntime: descriptor}},
	}
}

// goldenMessages pins the CBOR form of each sample message, in order.
var goldenMessages = []string{
	"a1677374616b696e67a1687472616e73666572a262746f55003b3a9ba0a9ee4b1df3cb85099f6c7aba0ed7dab166616d6f756e744203e8",
	"a1677374616b696e67a1687769746864726177a26466726f6d550098c44a54cc7f97e0e518c6fc0f2bd67142b1db9466616d6f756e744105",
	"a1677374616b696e67a16a6164645f657363726f77a266616d6f756e74420100676163636f756e745500a4f4f1c5ab6d1eb90e6f858c46ebe1481d68b4a7",
	"a1677374616b696e67a16e7265636c61696d5f657363726f77a26673686172657340676163636f756e745500a4f4f1c5ab6d1eb90e6f858c46ebe1481d68b4a7",
	"a1687265676973747279a16e7570646174655f72756e74696d65a2626964582001000000000000000000000000000000000000000000000000000000000000006776657273696f6e02",
}

func TestRuntimeMessagesEncodeAsTheGoldenVectors(t *testing.T) {
	for i, m := range sampleMessages() {
		enc := cbor.Marshal(&m)
		if got := hex.EncodeToString(enc); got != goldenMessages[i] {
			t.Errorf("message %d encodes as %s, want %s", i, got, goldenMessages[i])
		}
		var back Message
		if err := cbor.UnmarshalCanonical(enc, &back); err != nil {
			t.Fatalf("message %d: decoding: %v", i, err)
		}
		if err := back.ValidateBasic(); err != nil {
			t.Errorf("message %d: ValidateBasic() = %v", i, err)
		}
		if diff := cmp.Diff(enc, cbor.Marshal(&back)); diff != "" {
			t.Errorf("message %d: round trip changed the encoding:\n%s", i, diff)
		}
	}
}

func TestMessagesHashIsTheEmptyHashForNoMessagesAndHashesTheListOtherwise(t *testing.T) {
	if got := MessagesHash(nil); got != hash.Empty {
		t.Errorf("MessagesHash(nil) = %s, want H(\"\")", got)
	}
	if got := MessagesHash([]Message{}); got != hash.Empty {
		t.Errorf("MessagesHash([]) = %s, want H(\"\")", got)
	}
	msgs := sampleMessages()
	if got, want := MessagesHash(msgs), hash.Digest(cbor.Marshal(msgs)); got != want {
		t.Errorf("MessagesHash(msgs) = %s, want H(cbor(msgs)) = %s", got, want)
	}
	if MessagesHash(msgs[:1]) == MessagesHash(msgs[:2]) {
		t.Error("different message lists hash the same")
	}
}

func TestMessageValidateBasicRejectsBrokenUnions(t *testing.T) {
	transfer := &staking.Transfer{To: addr(1), Amount: *quantity.NewFromUint64(1)}
	withdraw := &staking.Withdraw{From: addr(1), Amount: *quantity.NewFromUint64(1)}
	nonCanonical := []byte{0xa2, 0x61, 'b', 0x01, 0x61, 'a', 0x02} // keys out of order
	cases := []struct {
		name string
		msg  Message
	}{
		{"a message with no field is rejected", Message{}},
		{"a message with both staking and registry is rejected", Message{
			Staking:  &StakingMessage{Transfer: transfer},
			Registry: &RegistryMessage{UpdateRuntime: []byte{0xa0}},
		}},
		{"a staking message with no method is rejected", Message{Staking: &StakingMessage{}}},
		{"a staking message with two methods is rejected", Message{Staking: &StakingMessage{Transfer: transfer, Withdraw: withdraw}}},
		{"a registry message with no descriptor is rejected", Message{Registry: &RegistryMessage{}}},
		{"a registry message with bad CBOR is rejected", Message{Registry: &RegistryMessage{UpdateRuntime: []byte{0xff}}}},
		{"a registry message with trailing bytes is rejected", Message{Registry: &RegistryMessage{UpdateRuntime: []byte{0xa0, 0xa0}}}},
		{"a registry message with a non-canonical descriptor is rejected", Message{Registry: &RegistryMessage{UpdateRuntime: nonCanonical}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.msg.ValidateBasic(); !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("ValidateBasic() = %v, want ErrMalformedMessage", err)
			}
		})
	}
}

func TestMessageDecodingRejectsUnknownMethods(t *testing.T) {
	enc := []byte{0xa1, 0x67, 's', 't', 'a', 'k', 'i', 'n', 'g', 0xa1, 0x64, 'b', 'u', 'r', 'n', 0xa0}
	var m Message
	if err := cbor.Unmarshal(enc, &m); err == nil {
		t.Fatal("a staking message with an unknown method decoded")
	}
}
