package messages

import (
	"math"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// This file is a faster path through the codec for the two messages that dominate the
// protocol's cost: ExecuteTxBatch's request (its inputs) and response (its write logs and
// transaction hashes). On a 1000-insert batch the generic, reflection-driven codec spends
// milliseconds encoding and decoding them, most of it on those arrays, and even a path that
// hands only the arrays to hand-written code but leaves the envelope to the generic codec
// makes it scan them again (BenchmarkMessageCodec1000Inserts in runtime/examples/kvstore).
//
// The path changes no byte on the wire and no decoding outcome:
//
//   - Encoding writes the whole message in one pass, into a buffer grown once: the envelope
//     and the body's maps with their keys in canonical order and omitempty fields left out as
//     the generic encoder leaves them out, the bulky arrays element by element (nil and empty
//     kept apart), and the small structured fields (block header, round results, limits,
//     results header, consensus messages) with the generic encoder, each on its own.
//   - Decoding takes the path only for a message in the canonical form of the envelope and of
//     the body's maps and arrays (shortest heads, keys in canonical order, byte strings or
//     null, 32-byte strings for hashes, write log entries as two-element arrays). It reads the
//     message in one pass and gives each small structured field, delimited by a scan that
//     accepts only definite lengths, no tags and shallow nesting, to the generic strict
//     decoder. Any other input, and any failure on the way, goes to the generic decoder,
//     whose result (value or error) is then the answer. So whatever the fast path accepts,
//     the generic decoder accepts too, giving the same value.
//   - Decoded byte strings (inputs, write log keys and values, the RAK signature) are not
//     copied: they share data's memory, each capped at its own length so that appending to
//     one cannot write over its neighbour. DecodeMessage's caller hands data over.
//
// Tests compare both directions with the generic codec, on samples and under fuzzing.

// Keys of the bodies that take the fast path.
const (
	keyExecuteTxBatchRequest  = "runtime_execute_tx_batch_request"
	keyExecuteTxBatchResponse = "runtime_execute_tx_batch_response"
)

// hotKey is a map key the fast path reads: the CBOR key of a struct field, and whether the
// field is omitempty (and so may be absent).
type hotKey struct {
	name     string
	optional bool
}

// The maps the fast path reads, each as its keys in canonical order (a test holds them to the
// struct tags of the types).
var (
	// messageKeys are Message's.
	messageKeys = []hotKey{{"id", false}, {"body", false}, {"message_type", false}}
	// executeRequestKeys are RuntimeExecuteTxBatchRequest's.
	executeRequestKeys = []hotKey{
		{"block", false}, {"epoch", false}, {"inputs", false}, {"limits", false}, {"io_root", false},
		{"max_messages", false}, {"round_results", false},
	}
	// executeResponseKeys are RuntimeExecuteTxBatchResponse's.
	executeResponseKeys = []hotKey{{"batch", false}, {"tx_hashes", false}, {"unexecuted", true}, {"tx_reject_hashes", true}}
	// computedBatchKeys are ComputedBatch's.
	computedBatchKeys = []hotKey{
		{"header", false}, {"rak_sig", true}, {"messages", true}, {"io_write_log", false}, {"state_write_log", false},
	}
)

// appendHotMessage appends the encoding of m when its body is one of the fast path's, and
// reports whether it did.
func appendHotMessage(buf []byte, m *Message) ([]byte, bool) {
	first, n := m.Body.single()
	if n != 1 {
		return buf, false
	}
	switch first.key {
	case keyExecuteTxBatchRequest:
		return appendExecuteRequest(buf, m.ID, m.MessageType, m.Body.RuntimeExecuteTxBatchRequest), true
	case keyExecuteTxBatchResponse:
		return appendExecuteResponse(buf, m.ID, m.MessageType, m.Body.RuntimeExecuteTxBatchResponse), true
	}
	return buf, false
}

// envelopeSize bounds what appendEnvelope and closeEnvelope add around a body.
const envelopeSize = 64 + len(keyExecuteTxBatchResponse)

// appendEnvelope appends the start of a message whose body has one field, key, up to that
// field's value.
func appendEnvelope(buf []byte, id uint64, key string) []byte {
	buf = append(buf, cbor.MajorMap<<5|3)
	buf = appendKey(buf, "id")
	buf = cbor.AppendHead(buf, cbor.MajorUint, id)
	buf = appendKey(buf, "body")
	buf = append(buf, cbor.MajorMap<<5|1)
	return appendKey(buf, key)
}

// closeEnvelope appends the end of a message, after its body.
func closeEnvelope(buf []byte, mt MessageType) []byte {
	return cbor.AppendHead(appendKey(buf, "message_type"), cbor.MajorUint, uint64(mt))
}

func appendExecuteRequest(buf []byte, id uint64, mt MessageType, r *RuntimeExecuteTxBatchRequest) []byte {
	block, results, limits := cbor.Marshal(&r.Block), cbor.Marshal(&r.RoundResults), cbor.Marshal(&r.Limits)
	size := envelopeSize + 128 + len(block) + len(results) + len(limits) + byteStringsSize(r.Inputs)
	buf = appendEnvelope(growBytes(buf, size), id, keyExecuteTxBatchRequest)
	buf = append(buf, cbor.MajorMap<<5|7)
	buf = append(appendKey(buf, "block"), block...)
	buf = cbor.AppendHead(appendKey(buf, "epoch"), cbor.MajorUint, r.Epoch)
	buf = appendByteStrings(appendKey(buf, "inputs"), r.Inputs)
	buf = append(appendKey(buf, "limits"), limits...)
	buf = appendHash(appendKey(buf, "io_root"), &r.IORoot)
	buf = cbor.AppendHead(appendKey(buf, "max_messages"), cbor.MajorUint, uint64(r.MaxMessages))
	buf = append(appendKey(buf, "round_results"), results...)
	return closeEnvelope(buf, mt)
}

func appendExecuteResponse(buf []byte, id uint64, mt MessageType, r *RuntimeExecuteTxBatchResponse) []byte {
	b := &r.Batch
	header := cbor.Marshal(&b.Header)
	var msgs []byte
	if len(b.Messages) > 0 {
		msgs = cbor.Marshal(b.Messages)
	}
	size := envelopeSize + 256 + len(header) + len(msgs) + len(b.RakSig) +
		writeLogSize(b.IOWriteLog) + writeLogSize(b.StateWriteLog) +
		hashesSize(r.TxHashes) + hashesSize(r.TxRejectHashes) + hashesSize(r.Unexecuted)
	buf = appendEnvelope(growBytes(buf, size), id, keyExecuteTxBatchResponse)

	buf = append(buf, cbor.MajorMap<<5|byte(2+countSet(len(r.Unexecuted) > 0, len(r.TxRejectHashes) > 0)))
	buf = appendKey(buf, "batch")
	buf = append(buf, cbor.MajorMap<<5|byte(3+countSet(len(b.RakSig) > 0, len(b.Messages) > 0)))
	buf = append(appendKey(buf, "header"), header...)
	if len(b.RakSig) > 0 {
		buf = appendByteString(appendKey(buf, "rak_sig"), b.RakSig)
	}
	if len(b.Messages) > 0 {
		buf = append(appendKey(buf, "messages"), msgs...)
	}
	buf = appendWriteLog(appendKey(buf, "io_write_log"), b.IOWriteLog)
	buf = appendWriteLog(appendKey(buf, "state_write_log"), b.StateWriteLog)

	buf = appendHashes(appendKey(buf, "tx_hashes"), r.TxHashes)
	if len(r.Unexecuted) > 0 {
		buf = appendHashes(appendKey(buf, "unexecuted"), r.Unexecuted)
	}
	if len(r.TxRejectHashes) > 0 {
		buf = appendHashes(appendKey(buf, "tx_reject_hashes"), r.TxRejectHashes)
	}
	return closeEnvelope(buf, mt)
}

func countSet(flags ...bool) int {
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	return n
}

// decodeHotMessage decodes data when it is a canonical envelope of one of the fast path's
// bodies in canonical form; ok is false otherwise, and then nothing is decided about data.
// The message's byte strings share data's memory.
func decodeHotMessage(data []byte, maxSize int) (m *Message, ok bool) {
	r := hotReader{data: data, maxSize: maxSize}
	m = new(Message)
	r.fields(messageKeys, func(i int) {
		switch i {
		case 0:
			m.ID = r.uint(math.MaxUint64)
		case 1:
			r.body(&m.Body)
		case 2:
			m.MessageType = MessageType(r.uint(math.MaxUint8))
		}
	})
	if r.bad || r.off != len(data) {
		return nil, false
	}
	return m, true
}

// body reads a body holding one of the fast path's messages.
func (r *hotReader) body(b *Body) {
	if !r.expectByte(cbor.MajorMap<<5 | 1) {
		return
	}
	switch {
	case r.hasKey(keyExecuteTxBatchRequest):
		r.skipKey(keyExecuteTxBatchRequest)
		b.RuntimeExecuteTxBatchRequest = r.executeRequest()
	case r.hasKey(keyExecuteTxBatchResponse):
		r.skipKey(keyExecuteTxBatchResponse)
		b.RuntimeExecuteTxBatchResponse = r.executeResponse()
	default:
		r.bad = true
	}
}

func (r *hotReader) executeRequest() *RuntimeExecuteTxBatchRequest {
	req := new(RuntimeExecuteTxBatchRequest)
	r.fields(executeRequestKeys, func(i int) {
		switch i {
		case 0:
			r.generic(&req.Block)
		case 1:
			req.Epoch = r.uint(math.MaxUint64)
		case 2:
			req.Inputs = r.byteStrings()
		case 3:
			r.generic(&req.Limits)
		case 4:
			req.IORoot = r.hash()
		case 5:
			req.MaxMessages = uint32(r.uint(math.MaxUint32))
		case 6:
			r.generic(&req.RoundResults)
		}
	})
	return req
}

func (r *hotReader) executeResponse() *RuntimeExecuteTxBatchResponse {
	resp := new(RuntimeExecuteTxBatchResponse)
	r.fields(executeResponseKeys, func(i int) {
		switch i {
		case 0:
			r.computedBatch(&resp.Batch)
		case 1:
			resp.TxHashes = r.hashes()
		case 2:
			resp.Unexecuted = r.hashes()
		case 3:
			resp.TxRejectHashes = r.hashes()
		}
	})
	return resp
}

func (r *hotReader) computedBatch(b *ComputedBatch) {
	r.fields(computedBatchKeys, func(i int) {
		switch i {
		case 0:
			r.generic(&b.Header)
		case 1:
			b.RakSig = r.byteString()
		case 2:
			r.generic(&b.Messages)
		case 3:
			b.IOWriteLog = r.writeLog()
		case 4:
			b.StateWriteLog = r.writeLog()
		}
	})
}

// CBOR values used here.
const (
	cborNull = 0xf6

	// hashHead is the head of a byte string of hash.Size bytes.
	hashHead = "\x58\x20"
	// entryHead is the head of a write log entry, a two-element array.
	entryHead = 0x82
	// maxArrayElements is the strict decoder's cap on array lengths.
	maxArrayElements = 1 << 24
	// maxItemDepth is how deeply a field given to the generic decoder may nest. Far below the
	// strict decoder's cap (64) less the depth of any such field in a message, so that the
	// field decoded alone is refused exactly when the whole message would be.
	maxItemDepth = 16
)

// appendKey appends a text string map key.
func appendKey(buf []byte, key string) []byte {
	return append(cbor.AppendHead(buf, cbor.MajorText, uint64(len(key))), key...)
}

// appendByteString appends b as the generic encoder does: null for nil, else a byte string.
func appendByteString(buf, b []byte) []byte {
	if b == nil {
		return append(buf, cborNull)
	}
	return append(cbor.AppendHead(buf, cbor.MajorBytes, uint64(len(b))), b...)
}

// appendByteStrings appends bs as the generic encoder does: null for nil, else an array.
func appendByteStrings(buf []byte, bs [][]byte) []byte {
	if bs == nil {
		return append(buf, cborNull)
	}
	buf = cbor.AppendHead(buf, cbor.MajorArray, uint64(len(bs)))
	for _, b := range bs {
		buf = appendByteString(buf, b)
	}
	return buf
}

// byteStringsSize bounds what appendByteStrings appends.
func byteStringsSize(bs [][]byte) int {
	size := 9
	for _, b := range bs {
		size += 9 + len(b)
	}
	return size
}

// appendWriteLog appends wl as the generic encoder does: null for nil, else an array of
// [key, value] arrays.
func appendWriteLog(buf []byte, wl writelog.WriteLog) []byte {
	if wl == nil {
		return append(buf, cborNull)
	}
	buf = cbor.AppendHead(buf, cbor.MajorArray, uint64(len(wl)))
	for _, e := range wl {
		buf = append(buf, entryHead)
		buf = appendByteString(buf, e.Key)
		buf = appendByteString(buf, e.Value)
	}
	return buf
}

// writeLogSize bounds what appendWriteLog appends.
func writeLogSize(wl writelog.WriteLog) int {
	size := 9
	for _, e := range wl {
		size += 19 + len(e.Key) + len(e.Value)
	}
	return size
}

// appendHash appends h as a byte string.
func appendHash(buf []byte, h *hash.Hash) []byte {
	return append(append(buf, hashHead...), h[:]...)
}

// appendHashes appends hs as the generic encoder does: null for nil, else an array of
// 32-byte strings.
func appendHashes(buf []byte, hs []hash.Hash) []byte {
	if hs == nil {
		return append(buf, cborNull)
	}
	buf = cbor.AppendHead(buf, cbor.MajorArray, uint64(len(hs)))
	for i := range hs {
		buf = appendHash(buf, &hs[i])
	}
	return buf
}

// hashesSize bounds what appendHashes appends.
func hashesSize(hs []hash.Hash) int { return 9 + len(hs)*(len(hashHead)+hash.Size) }

func growBytes(buf []byte, n int) []byte {
	if cap(buf)-len(buf) >= n {
		return buf
	}
	return append(make([]byte, 0, len(buf)+n), buf...)
}

// hotReader reads a message for the fast path. The first thing it cannot take sets bad;
// what it reads after that is meaningless, and callers check bad at the end.
type hotReader struct {
	data    []byte
	off     int
	maxSize int
	bad     bool
}

// head reads a head (see cbor.ReadHead).
func (r *hotReader) head() (major byte, n uint64) {
	if r.bad {
		return 0, 0
	}
	major, n, next, ok := cbor.ReadHead(r.data, r.off)
	if !ok {
		r.bad = true
		return 0, 0
	}
	r.off = next
	return major, n
}

// expectByte consumes b, or sets bad.
func (r *hotReader) expectByte(b byte) bool {
	if r.bad || r.off >= len(r.data) || r.data[r.off] != b {
		r.bad = true
		return false
	}
	r.off++
	return true
}

// null consumes a null if one comes next.
func (r *hotReader) null() bool {
	if !r.bad && r.off < len(r.data) && r.data[r.off] == cborNull {
		r.off++
		return true
	}
	return false
}

// hasKey reports whether the text string key comes next.
func (r *hotReader) hasKey(key string) bool {
	if r.bad {
		return false
	}
	var head [9]byte
	h := cbor.AppendHead(head[:0], cbor.MajorText, uint64(len(key)))
	rest := r.data[r.off:]
	return len(rest) >= len(h)+len(key) && string(rest[:len(h)]) == string(h) && string(rest[len(h):len(h)+len(key)]) == key
}

// skipKey consumes key, which hasKey has found.
func (r *hotReader) skipKey(key string) {
	var head [9]byte
	r.off += len(cbor.AppendHead(head[:0], cbor.MajorText, uint64(len(key)))) + len(key)
}

// fields reads a map whose keys are among keys, in their order, with every key that is not
// optional present, and calls field with the index of each key found, positioned at its
// value. Anything else sets bad.
func (r *hotReader) fields(keys []hotKey, field func(i int)) {
	major, n := r.head()
	if r.bad || major != cbor.MajorMap || n > uint64(len(keys)) {
		r.bad = true
		return
	}
	next := 0
	for range n {
		for next < len(keys) && !r.hasKey(keys[next].name) {
			if !keys[next].optional {
				r.bad = true
			}
			next++
		}
		if r.bad || next == len(keys) {
			r.bad = true
			return
		}
		r.skipKey(keys[next].name)
		field(next)
		next++
	}
	for ; next < len(keys); next++ {
		if !keys[next].optional {
			r.bad = true
		}
	}
}

// uint reads an unsigned integer of at most maxValue.
func (r *hotReader) uint(maxValue uint64) uint64 {
	major, n := r.head()
	if major != cbor.MajorUint || n > maxValue {
		r.bad = true
		return 0
	}
	return n
}

// byteString reads a byte string (sharing data's memory, capped at its length; non-nil even
// when empty) or null (nil).
func (r *hotReader) byteString() []byte {
	if r.bad {
		return nil
	}
	b, next, ok := byteStringAt(r.data, r.off)
	if !ok {
		r.bad = true
		return nil
	}
	r.off = next
	return b
}

// byteStringAt reads a byte string or null at data[off:] as byteString does and returns the
// offset after it.
func byteStringAt(data []byte, off int) (b []byte, next int, ok bool) {
	if off >= len(data) {
		return nil, 0, false
	}
	var n uint64
	switch c := data[off]; {
	case c == cborNull:
		return nil, off + 1, true
	case c>>5 == cbor.MajorBytes && c&0x1f < 24: // the common short strings, inline
		n, off = uint64(c&0x1f), off+1
	case c == cbor.MajorBytes<<5|24 && off+1 < len(data) && data[off+1] >= 24:
		n, off = uint64(data[off+1]), off+2
	default:
		var major byte
		if major, n, off, ok = cbor.ReadHead(data, off); !ok || major != cbor.MajorBytes {
			return nil, 0, false
		}
	}
	if n > uint64(len(data)-off) {
		return nil, 0, false
	}
	end := off + int(n)
	return data[off:end:end], end, true
}

// hash reads a 32-byte string.
func (r *hotReader) hash() (h hash.Hash) {
	if r.bad || len(r.data)-r.off < len(hashHead)+hash.Size || string(r.data[r.off:r.off+len(hashHead)]) != hashHead {
		r.bad = true
		return h
	}
	copy(h[:], r.data[r.off+len(hashHead):])
	r.off += len(hashHead) + hash.Size
	return h
}

// arrayHead reads the head of an array whose elements take at least minSize bytes each, or
// null (isNull).
func (r *hotReader) arrayHead(minSize int) (n int, isNull bool) {
	if r.null() {
		return 0, true
	}
	major, count := r.head()
	if r.bad || major != cbor.MajorArray || count > maxArrayElements || count*uint64(minSize) > uint64(len(r.data)-r.off) {
		r.bad = true
		return 0, false
	}
	return int(count), false
}

// byteStrings reads what appendByteStrings writes.
func (r *hotReader) byteStrings() [][]byte {
	n, isNull := r.arrayHead(1)
	if r.bad || isNull {
		return nil
	}
	out := make([][]byte, n)
	for i := range out {
		if out[i] = r.byteString(); r.bad {
			return nil
		}
	}
	return out
}

// writeLog reads what appendWriteLog writes.
func (r *hotReader) writeLog() writelog.WriteLog {
	n, isNull := r.arrayHead(3)
	if r.bad || isNull {
		return nil
	}
	out := make(writelog.WriteLog, n)
	data, off := r.data, r.off
	for i := range out {
		if off >= len(data) || data[off] != entryHead {
			r.bad = true
			return nil
		}
		e := &out[i]
		var ok1, ok2 bool
		e.Key, off, ok1 = byteStringAt(data, off+1)
		e.Value, off, ok2 = byteStringAt(data, off)
		if !ok1 || !ok2 {
			r.bad = true
			return nil
		}
	}
	r.off = off
	return out
}

// hashes reads what appendHashes writes.
func (r *hotReader) hashes() []hash.Hash {
	n, isNull := r.arrayHead(len(hashHead) + hash.Size)
	if r.bad || isNull {
		return nil
	}
	out := make([]hash.Hash, n)
	for i := range out {
		if out[i] = r.hash(); r.bad {
			return nil
		}
	}
	return out
}

// generic decodes the next data item into v with the generic strict decoder, after finding
// its end (see skip).
func (r *hotReader) generic(v any) {
	start := r.off
	r.skip(1)
	if r.bad {
		return
	}
	if cbor.UnmarshalLimit(r.data[start:r.off], v, r.maxSize) != nil {
		r.bad = true
	}
}

// skip consumes one data item at nesting depth depth: definite lengths and shortest heads
// only, no tags, nested at most maxItemDepth deep. It only finds where the item ends: the
// strict decoder judges what it finds.
func (r *hotReader) skip(depth int) {
	if depth > maxItemDepth {
		r.bad = true
		return
	}
	major, n := r.head()
	if r.bad {
		return
	}
	rest := uint64(len(r.data) - r.off)
	switch major {
	case cbor.MajorBytes, cbor.MajorText:
		if n > rest {
			r.bad = true
			return
		}
		r.off += int(n)
	case cbor.MajorArray, cbor.MajorMap:
		items := n
		if major == cbor.MajorMap {
			items = 2 * n
		}
		if n > rest || items > rest {
			r.bad = true
			return
		}
		for range items {
			if r.skip(depth + 1); r.bad {
				return
			}
		}
	case cbor.MajorTag:
		r.bad = true
	}
}
