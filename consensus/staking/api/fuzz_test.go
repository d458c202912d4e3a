package api

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

// FuzzMethodBodies decodes untrusted bytes as every method body, the way the application
// does (canonically, then ValidateBasic): nothing may panic, and whatever decodes must
// re-encode to its input.
func FuzzMethodBodies(f *testing.F) {
	var to Address
	f.Add(cbor.Marshal(&Transfer{To: to, Amount: *qty(5)}))
	f.Add(cbor.Marshal(&Escrow{Account: to, Amount: *qty(5)}))
	f.Add(cbor.Marshal(&ReclaimEscrow{Account: to, Shares: *qty(5)}))
	f.Add(cbor.Marshal(&Allow{Beneficiary: to, Negative: true, AmountChange: *qty(5)}))
	f.Add(cbor.Marshal(&Withdraw{From: to, Amount: *qty(5)}))
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		bodies := []interface{ ValidateBasic() error }{&Transfer{}, &Escrow{}, &ReclaimEscrow{}, &Allow{}, &Withdraw{}}
		for _, b := range bodies {
			if err := cbor.UnmarshalCanonical(data, b); err != nil {
				continue
			}
			_ = b.ValidateBasic()
			if string(cbor.Marshal(b)) != string(data) {
				t.Fatalf("%T accepted non-canonical input", b)
			}
		}
	})
}
