package messages

import (
	"encoding/binary"
	"math"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// This file is a faster path through the codec for the two messages that dominate the
// protocol's cost: ExecuteTxBatch's request (its inputs) and response (its write logs and
// transaction hashes). On a 1000-insert batch the generic, reflection-driven codec spends
// about 3 ms encoding and decoding them, most of it on those arrays
// (BenchmarkMessageCodec1000Inserts in runtime/examples/kvstore).
//
// The path changes no byte on the wire and no decoding outcome:
//
//   - Encoding goes through wire twins of the message types in which each bulky array is a
//     cbor.RawMessage that this file fills by hand with exactly the bytes the generic
//     encoder gives the array (nil and empty kept apart); the generic encoder does the rest,
//     so map key order, omitempty and every other field are its own.
//   - Decoding takes the path only for a canonically encoded envelope carrying one of the two
//     bodies, decodes the twin with the generic strict decoder, and parses each array by hand
//     accepting nothing but its canonical form (shortest heads, byte strings or null, 32-byte
//     strings for hashes). Any other input, and any failure on the way, goes to the generic
//     decoder, whose result (value or error) is then the answer. So whatever the fast path
//     accepts, the generic decoder accepts too, giving the same value.
//
// Tests compare both directions with the generic codec, on samples and under fuzzing.

// Keys of the bodies that take the fast path.
const (
	keyExecuteTxBatchRequest  = "runtime_execute_tx_batch_request"
	keyExecuteTxBatchResponse = "runtime_execute_tx_batch_response"
)

// messageWire is Message with a body of one field.
type messageWire[B any] struct {
	ID          uint64      `cbor:"id"`
	MessageType MessageType `cbor:"message_type"`
	Body        B           `cbor:"body"`
}

type executeRequestBodyWire struct {
	Request *executeTxBatchRequestWire `cbor:"runtime_execute_tx_batch_request"`
}

type executeResponseBodyWire struct {
	Response *executeTxBatchResponseWire `cbor:"runtime_execute_tx_batch_response"`
}

// executeTxBatchRequestWire is RuntimeExecuteTxBatchRequest with Inputs pre-encoded.
type executeTxBatchRequestWire struct {
	IORoot       hash.Hash             `cbor:"io_root"`
	Inputs       cbor.RawMessage       `cbor:"inputs"`
	RoundResults roothash.RoundResults `cbor:"round_results"`
	Block        roothash.Header       `cbor:"block"`
	Epoch        uint64                `cbor:"epoch"`
	MaxMessages  uint32                `cbor:"max_messages"`
	Limits       BatchLimits           `cbor:"limits"`
}

// computedBatchWire is ComputedBatch with the write logs pre-encoded.
type computedBatchWire struct {
	Header        roothash.ComputeResultsHeader `cbor:"header"`
	IOWriteLog    cbor.RawMessage               `cbor:"io_write_log"`
	StateWriteLog cbor.RawMessage               `cbor:"state_write_log"`
	RakSig        []byte                        `cbor:"rak_sig,omitempty"`
	Messages      []roothash.Message            `cbor:"messages,omitempty"`
}

// executeTxBatchResponseWire is RuntimeExecuteTxBatchResponse with the hash lists
// pre-encoded (an empty list of an omitempty field as nil, which omits it).
type executeTxBatchResponseWire struct {
	Batch          computedBatchWire `cbor:"batch"`
	TxHashes       cbor.RawMessage   `cbor:"tx_hashes"`
	TxRejectHashes cbor.RawMessage   `cbor:"tx_reject_hashes,omitempty"`
	Unexecuted     cbor.RawMessage   `cbor:"unexecuted,omitempty"`
}

// appendHotMessage appends the encoding of m when its body is one of the fast path's, and
// reports whether it did.
func appendHotMessage(buf []byte, m *Message) ([]byte, bool) {
	first, n := m.Body.single()
	if n != 1 {
		return buf, false
	}
	switch first.key {
	case keyExecuteTxBatchRequest:
		r := m.Body.RuntimeExecuteTxBatchRequest
		w := messageWire[executeRequestBodyWire]{ID: m.ID, MessageType: m.MessageType, Body: executeRequestBodyWire{
			Request: &executeTxBatchRequestWire{
				IORoot:       r.IORoot,
				Inputs:       appendByteStrings(nil, r.Inputs),
				RoundResults: r.RoundResults,
				Block:        r.Block,
				Epoch:        r.Epoch,
				MaxMessages:  r.MaxMessages,
				Limits:       r.Limits,
			},
		}}
		return cbor.MarshalTo(buf, &w), true
	case keyExecuteTxBatchResponse:
		r := m.Body.RuntimeExecuteTxBatchResponse
		w := messageWire[executeResponseBodyWire]{ID: m.ID, MessageType: m.MessageType, Body: executeResponseBodyWire{
			Response: &executeTxBatchResponseWire{
				Batch: computedBatchWire{
					Header:        r.Batch.Header,
					IOWriteLog:    appendWriteLog(nil, r.Batch.IOWriteLog),
					StateWriteLog: appendWriteLog(nil, r.Batch.StateWriteLog),
					RakSig:        r.Batch.RakSig,
					Messages:      r.Batch.Messages,
				},
				TxHashes:       appendHashes(nil, r.TxHashes),
				TxRejectHashes: appendHashesOmitEmpty(r.TxRejectHashes),
				Unexecuted:     appendHashesOmitEmpty(r.Unexecuted),
			},
		}}
		return cbor.MarshalTo(buf, &w), true
	}
	return buf, false
}

// decodeHotMessage decodes data when it is a canonical envelope of one of the fast path's
// bodies in canonical form; ok is false otherwise, and then nothing is decided about data.
func decodeHotMessage(data []byte, maxSize int) (m *Message, ok bool) {
	switch hotBodyKey(data) {
	case keyExecuteTxBatchRequest:
		var w messageWire[executeRequestBodyWire]
		if cbor.UnmarshalLimit(data, &w, maxSize) != nil || w.Body.Request == nil {
			return nil, false
		}
		r := w.Body.Request
		inputs, ok := parseByteStrings(r.Inputs)
		if !ok {
			return nil, false
		}
		return &Message{ID: w.ID, MessageType: w.MessageType, Body: Body{RuntimeExecuteTxBatchRequest: &RuntimeExecuteTxBatchRequest{
			IORoot:       r.IORoot,
			Inputs:       inputs,
			RoundResults: r.RoundResults,
			Block:        r.Block,
			Epoch:        r.Epoch,
			MaxMessages:  r.MaxMessages,
			Limits:       r.Limits,
		}}}, true
	case keyExecuteTxBatchResponse:
		var w messageWire[executeResponseBodyWire]
		if cbor.UnmarshalLimit(data, &w, maxSize) != nil || w.Body.Response == nil {
			return nil, false
		}
		r := w.Body.Response
		ioLog, ok1 := parseWriteLog(r.Batch.IOWriteLog)
		stateLog, ok2 := parseWriteLog(r.Batch.StateWriteLog)
		txHashes, ok3 := parseHashes(r.TxHashes)
		rejects, ok4 := parseHashes(r.TxRejectHashes)
		unexecuted, ok5 := parseHashes(r.Unexecuted)
		if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
			return nil, false
		}
		return &Message{ID: w.ID, MessageType: w.MessageType, Body: Body{RuntimeExecuteTxBatchResponse: &RuntimeExecuteTxBatchResponse{
			Batch: ComputedBatch{
				Header:        r.Batch.Header,
				IOWriteLog:    ioLog,
				StateWriteLog: stateLog,
				RakSig:        r.Batch.RakSig,
				Messages:      r.Batch.Messages,
			},
			TxHashes:       txHashes,
			TxRejectHashes: rejects,
			Unexecuted:     unexecuted,
		}}}, true
	}
	return nil, false
}

// hotBodyKey returns the body key of a message whose envelope starts as the canonical
// encoding does, {"id": uint, "body": {key: ...}, ...}, or "" for anything else.
func hotBodyKey(data []byte) string {
	const prefix = "\xa3\x62id"
	if len(data) < len(prefix) || string(data[:len(prefix)]) != prefix {
		return ""
	}
	major, _, off, ok := readHead(data, len(prefix))
	if !ok || major != majorUint {
		return ""
	}
	const body = "\x64body\xa1"
	if len(data)-off < len(body) || string(data[off:off+len(body)]) != body {
		return ""
	}
	major, n, off, ok := readHead(data, off+len(body))
	if !ok || major != majorText || n > uint64(len(data)-off) {
		return ""
	}
	return string(data[off : off+int(n)])
}

// CBOR major types and simple values used here.
const (
	majorUint  = 0
	majorBytes = 2
	majorText  = 3
	majorArray = 4
	cborNull   = 0xf6

	// hashHead is the head of a byte string of hash.Size bytes.
	hashHead = "\x58\x20"
	// entryHead is the head of a write log entry, a two-element array.
	entryHead = 0x82
	// maxArrayElements is the strict decoder's cap on array lengths.
	maxArrayElements = 1 << 24
)

// appendHead appends a head of the given major type and argument in its shortest form.
func appendHead(buf []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(buf, m|byte(n))
	case n <= math.MaxUint8:
		return append(buf, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(buf, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(buf, m|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(buf, m|27), n)
	}
}

// readHead reads the head at data[off:] and returns its major type and argument and the offset
// after it; ok is false for a truncated head, an indefinite or reserved length, or an argument
// not in its shortest form.
func readHead(data []byte, off int) (major byte, n uint64, next int, ok bool) {
	if off >= len(data) {
		return 0, 0, 0, false
	}
	b := data[off]
	major, ai := b>>5, b&0x1f
	off++
	if ai < 24 {
		return major, uint64(ai), off, true
	}
	if ai > 27 {
		return 0, 0, 0, false
	}
	width := 1 << (ai - 24)
	if len(data)-off < width {
		return 0, 0, 0, false
	}
	for _, c := range data[off : off+width] {
		n = n<<8 | uint64(c)
	}
	// The shortest form: the argument needs this width.
	if least := [...]uint64{24, math.MaxUint8 + 1, math.MaxUint16 + 1, math.MaxUint32 + 1}[ai-24]; n < least {
		return 0, 0, 0, false
	}
	return major, n, off + width, true
}

// appendByteString appends b as the generic encoder does: null for nil, else a byte string.
func appendByteString(buf, b []byte) []byte {
	if b == nil {
		return append(buf, cborNull)
	}
	return append(appendHead(buf, majorBytes, uint64(len(b))), b...)
}

// appendByteStrings appends bs as the generic encoder does: null for nil, else an array.
func appendByteStrings(buf []byte, bs [][]byte) []byte {
	if bs == nil {
		return append(buf, cborNull)
	}
	size := 9
	for _, b := range bs {
		size += 9 + len(b)
	}
	buf = appendHead(growBytes(buf, size), majorArray, uint64(len(bs)))
	for _, b := range bs {
		buf = appendByteString(buf, b)
	}
	return buf
}

// appendWriteLog appends wl as the generic encoder does: null for nil, else an array of
// [key, value] arrays.
func appendWriteLog(buf []byte, wl writelog.WriteLog) []byte {
	if wl == nil {
		return append(buf, cborNull)
	}
	size := 9
	for _, e := range wl {
		size += 19 + len(e.Key) + len(e.Value)
	}
	buf = appendHead(growBytes(buf, size), majorArray, uint64(len(wl)))
	for _, e := range wl {
		buf = append(buf, entryHead)
		buf = appendByteString(buf, e.Key)
		buf = appendByteString(buf, e.Value)
	}
	return buf
}

// appendHashes appends hs as the generic encoder does: null for nil, else an array of
// 32-byte strings.
func appendHashes(buf []byte, hs []hash.Hash) []byte {
	if hs == nil {
		return append(buf, cborNull)
	}
	buf = appendHead(growBytes(buf, 9+len(hs)*(len(hashHead)+hash.Size)), majorArray, uint64(len(hs)))
	for i := range hs {
		buf = append(append(buf, hashHead...), hs[i][:]...)
	}
	return buf
}

// appendHashesOmitEmpty encodes an omitempty hash list: nil (the field is left out) when
// empty.
func appendHashesOmitEmpty(hs []hash.Hash) cbor.RawMessage {
	if len(hs) == 0 {
		return nil
	}
	return appendHashes(nil, hs)
}

func growBytes(buf []byte, n int) []byte {
	if cap(buf)-len(buf) >= n {
		return buf
	}
	return append(make([]byte, 0, len(buf)+n), buf...)
}

// parseByteString parses a canonical byte string (a fresh copy, non-nil even when empty) or
// null (nil) at data[off:].
func parseByteString(data []byte, off int) ([]byte, int, bool) {
	if off < len(data) && data[off] == cborNull {
		return nil, off + 1, true
	}
	major, n, off, ok := readHead(data, off)
	if !ok || major != majorBytes || n > uint64(len(data)-off) {
		return nil, 0, false
	}
	end := off + int(n)
	return append(make([]byte, 0, n), data[off:end]...), end, true
}

// parseArrayHead parses the head of data, a canonical array whose elements take at least
// minSize bytes each, and returns its length and the offset of its first element; null
// gives isNull.
func parseArrayHead(data []byte, minSize int) (n, off int, isNull, ok bool) {
	if len(data) == 1 && data[0] == cborNull {
		return 0, 1, true, true
	}
	major, count, off, ok := readHead(data, 0)
	if !ok || major != majorArray || count > maxArrayElements || count*uint64(minSize) > uint64(len(data)-off) {
		return 0, 0, false, false
	}
	return int(count), off, false, true
}

// parseByteStrings parses what appendByteStrings writes; an absent field (empty raw) is nil.
func parseByteStrings(raw []byte) ([][]byte, bool) {
	if len(raw) == 0 {
		return nil, true
	}
	n, off, isNull, ok := parseArrayHead(raw, 1)
	if !ok || isNull {
		return nil, ok
	}
	out := make([][]byte, n)
	for i := range out {
		if out[i], off, ok = parseByteString(raw, off); !ok {
			return nil, false
		}
	}
	return out, off == len(raw)
}

// parseWriteLog parses what appendWriteLog writes; an absent field (empty raw) is nil.
func parseWriteLog(raw []byte) (writelog.WriteLog, bool) {
	if len(raw) == 0 {
		return nil, true
	}
	n, off, isNull, ok := parseArrayHead(raw, 3)
	if !ok || isNull {
		return nil, ok
	}
	out := make(writelog.WriteLog, n)
	for i := range out {
		if off >= len(raw) || raw[off] != entryHead {
			return nil, false
		}
		if out[i].Key, off, ok = parseByteString(raw, off+1); !ok {
			return nil, false
		}
		if out[i].Value, off, ok = parseByteString(raw, off); !ok {
			return nil, false
		}
	}
	return out, off == len(raw)
}

// parseHashes parses what appendHashes writes; an absent field (empty raw) is nil.
func parseHashes(raw []byte) ([]hash.Hash, bool) {
	if len(raw) == 0 {
		return nil, true
	}
	const size = len(hashHead) + hash.Size
	n, off, isNull, ok := parseArrayHead(raw, size)
	if !ok || isNull {
		return nil, ok
	}
	if len(raw)-off != n*size {
		return nil, false
	}
	out := make([]hash.Hash, n)
	for i := range out {
		if string(raw[off:off+len(hashHead)]) != hashHead {
			return nil, false
		}
		copy(out[i][:], raw[off+len(hashHead):off+size])
		off += size
	}
	return out, true
}
