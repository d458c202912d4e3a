package staking

import (
	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus/staking/api"
)

// Accounts are read and written by every transaction (the authenticator charges the signer,
// a transfer moves funds between two), and the reflective CBOR codec was a fifth of a node's
// CPU under load. This file encodes and decodes the common shape of an account, one without
// stake claims, by hand, and decodes the canonical body of a transfer; anything else goes
// through package cbor.
//
// Both directions are exact:
//   - encodeAccount returns the bytes of cbor.Marshal (canonical CBOR: map keys sorted by their
//     encoding, omitempty fields left out), checked against it by tests;
//   - decodeAccount takes the fast path only for input laid out exactly as encodeAccount lays
//     it out (the integers may use any definite length), and decodes it into what
//     cbor.UnmarshalTrusted would, calling the same Quantity.UnmarshalBinary on the same bytes;
//     every other input goes to cbor.UnmarshalTrusted, so errors are unchanged.

// The fixed parts of an account's encoding: map heads and text-string keys.
var (
	accountHeadEscrow  = []byte("\xa2\x66escrow\xa2\x66active")
	accountDebonding   = []byte("\x69debonding")
	accountGeneral     = []byte("\x67general")
	accountNonce       = []byte("\x65nonce")
	accountBalance     = []byte("\x67balance")
	accountTotalShares = []byte("\x6ctotal_shares")
)

// accountFastSize is the buffer encodeAccount starts with: room for an account with a
// general balance and a nonce (a larger one grows it).
const accountFastSize = 96

// encodeAccount returns the canonical CBOR encoding of a.
func encodeAccount(a *api.Account) []byte {
	if len(a.Escrow.Claims) != 0 {
		return cbor.Marshal(a)
	}
	b := make([]byte, 0, accountFastSize)
	b = append(b, accountHeadEscrow...)
	b = appendSharePool(b, &a.Escrow.Active)
	b = append(b, accountDebonding...)
	b = appendSharePool(b, &a.Escrow.Debonding)
	b = append(b, accountGeneral...)
	if a.General.Nonce != 0 {
		b = append(b, 0xa2)
		b = append(b, accountNonce...)
		b = cbor.AppendHead(b, cbor.MajorUint, a.General.Nonce)
	} else {
		b = append(b, 0xa1)
	}
	b = append(b, accountBalance...)
	return appendQuantity(b, &a.General.Balance)
}

func appendSharePool(b []byte, p *api.SharePool) []byte {
	b = append(b, 0xa2)
	b = append(b, accountBalance...)
	b = appendQuantity(b, &p.Balance)
	b = append(b, accountTotalShares...)
	return appendQuantity(b, &p.TotalShares)
}

// appendQuantity appends q as a byte string of its minimal big-endian bytes (as
// Quantity.MarshalBinary gives them, which is what cbor.Marshal encodes).
func appendQuantity(b []byte, q *quantity.Quantity) []byte {
	if q.IsZero() {
		return append(b, 0x40)
	}
	raw, _ := q.MarshalBinary()
	b = cbor.AppendHead(b, cbor.MajorBytes, uint64(len(raw)))
	return append(b, raw...)
}

// decodeAccount decodes an account record into a (a zero Account).
func decodeAccount(raw []byte, a *api.Account) error {
	if decodeAccountFast(raw, a) {
		return nil
	}
	*a = api.Account{}
	return cbor.UnmarshalTrusted(raw, a)
}

// decodeAccountFast decodes raw if it has the layout encodeAccount produces; it reports
// whether it did. On false, a may be partly written.
func decodeAccountFast(raw []byte, a *api.Account) bool {
	r := accountReader{b: raw}
	ok := r.literal(accountHeadEscrow) && r.sharePool(&a.Escrow.Active) &&
		r.literal(accountDebonding) && r.sharePool(&a.Escrow.Debonding) &&
		r.literal(accountGeneral)
	if !ok || len(r.b) == 0 {
		return false
	}
	switch r.b[0] {
	case 0xa1:
		r.b = r.b[1:]
	case 0xa2:
		r.b = r.b[1:]
		if !r.literal(accountNonce) {
			return false
		}
		n, ok := r.head(cbor.MajorUint)
		if !ok {
			return false
		}
		a.General.Nonce = n
	default:
		return false
	}
	return r.literal(accountBalance) && r.quantity(&a.General.Balance) && len(r.b) == 0
}

// accountReader consumes an encoded account from the front of b.
type accountReader struct {
	b []byte
}

func (r *accountReader) literal(want []byte) bool {
	if len(r.b) < len(want) || string(r.b[:len(want)]) != string(want) {
		return false
	}
	r.b = r.b[len(want):]
	return true
}

func (r *accountReader) sharePool(p *api.SharePool) bool {
	if len(r.b) == 0 || r.b[0] != 0xa2 {
		return false
	}
	r.b = r.b[1:]
	return r.literal(accountBalance) && r.quantity(&p.Balance) &&
		r.literal(accountTotalShares) && r.quantity(&p.TotalShares)
}

// head consumes a head of the major type in its shortest form and returns its argument.
func (r *accountReader) head(major byte) (uint64, bool) {
	m, n, next, ok := cbor.ReadHead(r.b, 0)
	if !ok || m != major {
		return 0, false
	}
	r.b = r.b[next:]
	return n, true
}

// quantity consumes a byte string holding a valid Quantity encoding and sets q from it.
func (r *accountReader) quantity(q *quantity.Quantity) bool {
	n, ok := r.head(cbor.MajorBytes)
	if !ok || n > quantity.MaxSize || uint64(len(r.b)) < n {
		return false
	}
	if q.UnmarshalBinary(r.b[:n]) != nil {
		return false
	}
	r.b = r.b[n:]
	return true
}

// The fixed parts of a transfer body's canonical encoding.
var (
	transferHeadTo = []byte("\xa2\x62to\x55") // then the 21 bytes of the address
	transferAmount = []byte("\x66amount")
)

// decodeTransferFast decodes raw into t (a zero Transfer) if raw is the canonical encoding of a
// transfer (the one cbor.Marshal gives: both fields, heads in their shortest form, an address of
// a known kind, a quantity without a leading zero byte), which is exactly the input on which
// cbor.UnmarshalCanonical succeeds; it reports whether it did. On false, t may be partly
// written.
func decodeTransferFast(raw []byte, t *api.Transfer) bool {
	r := accountReader{b: raw}
	if !r.literal(transferHeadTo) || len(r.b) < api.AddressSize {
		return false
	}
	if t.To.UnmarshalBinary(r.b[:api.AddressSize]) != nil {
		return false
	}
	r.b = r.b[api.AddressSize:]
	if !r.literal(transferAmount) || len(r.b) == 0 {
		return false
	}
	// The amount's head must be the shortest: a length below 24 in the head byte, else one
	// length byte (the content is at most 32 bytes).
	if ai := r.b[0] & 0x1f; r.b[0]>>5 != 2 || ai > 24 || (ai == 24 && (len(r.b) < 2 || r.b[1] < 24)) {
		return false
	}
	return r.quantity(&t.Amount) && len(r.b) == 0
}
