package messages

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// hotSamples returns ExecuteTxBatch messages covering every shape the fast path encodes by
// hand: nil, empty and filled lists, nil and empty byte strings, and byte strings whose length
// heads take one, two, three and five bytes.
func hotSamples() map[string]*Message {
	bodies := sampleBodies()
	req := *bodies[keyExecuteTxBatchRequest].RuntimeExecuteTxBatchRequest
	resp := *bodies[keyExecuteTxBatchResponse].RuntimeExecuteTxBatchResponse
	sizes := [][]byte{nil, {}, {1}, make([]byte, 23), make([]byte, 24), make([]byte, 255), make([]byte, 256), make([]byte, 70_000)}
	var wl writelog.WriteLog
	for i, k := range sizes {
		wl = append(wl, writelog.LogEntry{Key: k, Value: sizes[len(sizes)-1-i]})
	}
	many := make([]hash.Hash, 300)
	for i := range many {
		many[i] = hash.Digest(fmt.Appendf(nil, "%d", i))
	}

	out := make(map[string]*Message)
	add := func(name string, body Body) {
		mt := MessageTypeResponse
		if body.IsRequest() {
			mt = MessageTypeRequest
		}
		out[name] = &Message{ID: uint64(len(out)) * 1_000_003, MessageType: mt, Body: body}
	}
	add("request sample", Body{RuntimeExecuteTxBatchRequest: &req})
	for name, inputs := range map[string][][]byte{"nil": nil, "empty": {}, "sizes": sizes} {
		r := req
		r.Inputs = inputs
		add("request with inputs "+name, Body{RuntimeExecuteTxBatchRequest: &r})
	}
	add("response sample", Body{RuntimeExecuteTxBatchResponse: &resp})
	for name, logs := range map[string]writelog.WriteLog{"nil": nil, "empty": {}, "sizes": wl} {
		r := resp
		r.Batch.IOWriteLog, r.Batch.StateWriteLog = logs, wl
		add("response with io write log "+name, Body{RuntimeExecuteTxBatchResponse: &r})
		r2 := resp
		r2.Batch.StateWriteLog = logs
		add("response with state write log "+name, Body{RuntimeExecuteTxBatchResponse: &r2})
	}
	for name, hs := range map[string][]hash.Hash{"nil": nil, "empty": {}, "many": many} {
		r := resp
		r.TxHashes, r.TxRejectHashes, r.Unexecuted = hs, hs, hs
		r.Batch.Messages, r.Batch.RakSig = nil, nil
		add("response with hash lists "+name, Body{RuntimeExecuteTxBatchResponse: &r})
	}
	return out
}

func TestTheFastPathEncodesExactlyAsTheGenericEncoder(t *testing.T) {
	for name, m := range hotSamples() {
		fast, ok := appendHotMessage(nil, m)
		if !ok {
			t.Fatalf("%s: the fast path did not take the message", name)
		}
		if generic := cbor.Marshal(m); !bytes.Equal(fast, generic) {
			t.Errorf("%s: the fast path encodes\n%x\nthe generic encoder\n%x", name, fast, generic)
		}
		if prefixed := AppendMessage([]byte("prefix"), m); !bytes.Equal(prefixed, append([]byte("prefix"), fast...)) {
			t.Errorf("%s: AppendMessage does not append", name)
		}
	}
}

func TestTheFastPathDecodesExactlyAsTheGenericDecoder(t *testing.T) {
	for name, m := range hotSamples() {
		enc := cbor.Marshal(m)
		if _, ok := decodeHotMessage(enc, len(enc)); !ok {
			t.Fatalf("%s: the fast path did not take the canonical encoding", name)
		}
		checkDecodersAgree(t, name, enc)
	}
}

// TestInputsTheFastPathRefusesGetTheGenericDecodersAnswer mutates every byte of small
// ExecuteTxBatch messages in ways that make heads non-canonical, indefinite, of another type,
// null or undefined, and checks that DecodeMessage still answers exactly as the generic
// decoder does.
func TestInputsTheFastPathRefusesGetTheGenericDecodersAnswer(t *testing.T) {
	bodies := sampleBodies()
	for _, key := range []string{keyExecuteTxBatchRequest, keyExecuteTxBatchResponse} {
		body := bodies[key]
		mt := MessageTypeResponse
		if body.IsRequest() {
			mt = MessageTypeRequest
		}
		enc := cbor.Marshal(&Message{ID: 30, MessageType: mt, Body: *body})
		for i := range enc {
			for _, v := range []byte{0x00, 0x01, 0x17, 0x18, 0x19, 0x20, 0x40, 0x41, 0x58, 0x5f, 0x60, 0x80, 0x81,
				0x82, 0x83, 0x98, 0x9f, 0xa0, 0xf6, 0xf7, 0xff, enc[i] + 1, enc[i] - 1} {
				mutated := bytes.Clone(enc)
				mutated[i] = v
				checkDecodersAgree(t, fmt.Sprintf("%s, byte %d set to %#x", key, i, v), mutated)
			}
		}
	}
}

// checkDecodersAgree fails unless DecodeMessage and the generic decoder both refuse data or
// both give the same message.
func checkDecodersAgree(t *testing.T, name string, data []byte) {
	t.Helper()
	fast, fastErr := DecodeMessage(data, len(data))
	generic, genericErr := decodeGeneric(data, len(data))
	switch {
	case (fastErr == nil) != (genericErr == nil):
		t.Fatalf("%s: DecodeMessage() = %v, the generic decoder %v", name, fastErr, genericErr)
	case fastErr != nil:
		if !errors.Is(fastErr, ErrMalformedMessage) {
			t.Fatalf("%s: DecodeMessage() = %v, which does not wrap ErrMalformedMessage", name, fastErr)
		}
	case !reflect.DeepEqual(fast, generic):
		t.Fatalf("%s: DecodeMessage() = %+v, the generic decoder %+v", name, fast, generic)
	}
}

// TestTheFastPathKnowsTheKeysOfItsTypes holds the key tables of hotcodec.go to the types they
// stand for: every CBOR key of the type, in canonical order (bytewise on the encoded keys),
// optional exactly when the field is omitempty.
func TestTheFastPathKnowsTheKeysOfItsTypes(t *testing.T) {
	for _, c := range []struct {
		keys []hotKey
		typ  reflect.Type
	}{
		{messageKeys, reflect.TypeFor[Message]()},
		{executeRequestKeys, reflect.TypeFor[RuntimeExecuteTxBatchRequest]()},
		{executeResponseKeys, reflect.TypeFor[RuntimeExecuteTxBatchResponse]()},
		{computedBatchKeys, reflect.TypeFor[ComputedBatch]()},
	} {
		var want []hotKey
		for i := range c.typ.NumField() {
			name, opts, _ := strings.Cut(c.typ.Field(i).Tag.Get("cbor"), ",")
			want = append(want, hotKey{name: name, optional: opts == "omitempty"})
		}
		slices.SortFunc(want, func(a, b hotKey) int { return bytes.Compare(appendKey(nil, a.name), appendKey(nil, b.name)) })
		if !slices.Equal(c.keys, want) {
			t.Errorf("the fast path reads %v with keys %v, want %v", c.typ, c.keys, want)
		}
	}
	for _, key := range []string{keyExecuteTxBatchRequest, keyExecuteTxBatchResponse} {
		if !slices.Contains(bodyKeys(), key) {
			t.Errorf("%q is not a body key", key)
		}
	}
}

// TestDecodedByteStringsCannotOverwriteEachOther checks that the byte strings the fast path
// decodes, which share the encoding's memory, are capped at their length: appending to one
// copies it rather than writing over the next.
func TestDecodedByteStringsCannotOverwriteEachOther(t *testing.T) {
	wl := writelog.WriteLog{{Key: []byte("k1"), Value: []byte("v1")}, {Key: []byte("k2"), Value: []byte("v2")}}
	for name, m := range map[string]*Message{
		"request": {ID: 1, MessageType: MessageTypeRequest, Body: Body{RuntimeExecuteTxBatchRequest: &RuntimeExecuteTxBatchRequest{
			Inputs: [][]byte{[]byte("first"), []byte("second")},
		}}},
		"response": {ID: 1, MessageType: MessageTypeResponse, Body: Body{RuntimeExecuteTxBatchResponse: &RuntimeExecuteTxBatchResponse{
			Batch: ComputedBatch{IOWriteLog: wl, StateWriteLog: wl},
		}}},
	} {
		enc := EncodeMessage(m)
		got, ok := decodeHotMessage(enc, len(enc))
		if !ok {
			t.Fatalf("%s: the fast path did not take it", name)
		}
		var strs [][]byte
		if r := got.Body.RuntimeExecuteTxBatchRequest; r != nil {
			strs = r.Inputs
		} else {
			for _, e := range got.Body.RuntimeExecuteTxBatchResponse.Batch.IOWriteLog {
				strs = append(strs, e.Key, e.Value)
			}
		}
		for i := range strs {
			if cap(strs[i]) != len(strs[i]) {
				t.Errorf("%s: byte string %d has capacity %d beyond its length %d", name, i, cap(strs[i]), len(strs[i]))
			}
			_ = append(strs[i], "overwrite"...)
		}
		if again, _ := decodeHotMessage(enc, len(enc)); !reflect.DeepEqual(again, got) || !reflect.DeepEqual(got, m) {
			t.Errorf("%s: appending to decoded byte strings changed the message", name)
		}
	}
}

// FuzzHotCodecAgreesWithTheGenericCodec checks, for any input, that DecodeMessage answers as
// the generic decoder does, and that what decodes re-encodes through AppendMessage to what
// the generic encoder gives.
func FuzzHotCodecAgreesWithTheGenericCodec(f *testing.F) {
	for _, m := range hotSamples() {
		if enc := cbor.Marshal(m); len(enc) < 4096 {
			f.Add(enc)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodersAgree(t, "fuzz input", data)
		m, err := DecodeMessage(data, len(data))
		if err != nil {
			return
		}
		if fast, generic := EncodeMessage(m), cbor.Marshal(m); !bytes.Equal(fast, generic) {
			t.Fatalf("EncodeMessage() = %x, the generic encoder %x", fast, generic)
		}
	})
}
