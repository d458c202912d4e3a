package messages

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzDecodeMessage(f *testing.F) {
	_, msgs := goldenMessages()
	for _, m := range msgs {
		f.Add(EncodeMessage(m))
	}
	f.Add([]byte{})
	f.Add([]byte{0xa0})
	f.Add([]byte{0xa3, 0x62, 'i', 'd', 0x01})
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMessage(data, limit)
		if err != nil {
			if !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("DecodeMessage() = %v, which does not wrap ErrMalformedMessage", err)
			}
			return
		}
		if err := m.ValidateBasic(); err != nil {
			t.Fatalf("a decoded message fails ValidateBasic: %v", err)
		}
		// Whatever decodes re-encodes to a message that decodes to the same encoding.
		enc := EncodeMessage(m)
		m2, err := DecodeMessage(enc, len(enc))
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if enc2 := EncodeMessage(m2); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%x\n%x", enc, enc2)
		}
	})
}
