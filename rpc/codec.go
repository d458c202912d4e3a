// Package rpc is the gRPC plumbing every Atoll service shares: a CBOR codec, services declared
// as lists of typed methods (no protoc), coded errors that survive the wire, client deadlines
// and the listeners a node serves on.
//
// Contract:
//   - Messages are CBOR (content-subtype "cbor", common/cbor). The server decodes requests
//     strictly (size cap, no unknown fields, no duplicate keys); a request that does not decode
//     fails with ErrBadRequest. Messages are capped at MaxMessageSize both ways.
//   - A method is declared once as a Unary or ServerStream value shared by server and client.
//     A handler's error travels as {module, code, message} in the ErrorTrailer, and the client
//     rebuilds it with common/errors.FromWire, so errors.Is(err, sentinel) holds on both sides.
//     Transport failures come back wrapped in ErrUnavailable, ErrMessageTooLarge,
//     context.DeadlineExceeded or context.Canceled.
//   - Every client call has a deadline: the caller's, or the Client's CallTimeout.
//   - Server and Client are safe for concurrent use. Server.Serve is the server's one
//     lifecycle; a Client is closed by its owner.
package rpc

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	"github.com/atoll-project/atoll/common/cbor"
)

// CodecName is the gRPC content-subtype of Atoll messages.
const CodecName = "cbor"

// MaxMessageSize is the largest message sent or received, the 16 MiB frame cap (gRPC's default
// receive limit is 4 MiB).
const MaxMessageSize = cbor.MaxSize

// init registers the codec with gRPC, which keeps its codecs in a registry that may only be
// written at initialisation. The codec itself holds no state.
func init() {
	encoding.RegisterCodecV2(codec{})
}

// codec encodes messages with the canonical encoder and decodes them strictly.
type codec struct{}

func (codec) Name() string { return CodecName }

func (codec) Marshal(v any) (out mem.BufferSlice, err error) {
	defer func() {
		// cbor.Marshal panics only on types that cannot be encoded: report it to the caller
		// instead of taking the server down.
		if r := recover(); r != nil {
			err = fmt.Errorf("rpc: encoding %T: %v", v, r)
		}
	}()
	return mem.BufferSlice{mem.SliceBuffer(cbor.Marshal(v))}, nil
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*rawFrame); ok {
		r.data = data.Materialize()
		return nil
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return cbor.Unmarshal(buf.ReadOnlyData(), v)
}

// rawFrame receives a message undecoded. Servers receive requests into one and decode them
// themselves, so that a malformed request fails with the coded ErrBadRequest rather than the
// uncoded status gRPC sends when its codec fails.
type rawFrame struct {
	data []byte
}

// decodeRequest receives a request through dec and decodes it strictly into v.
func decodeRequest(method string, dec func(any) error, v any) error {
	var raw rawFrame
	if err := dec(&raw); err != nil {
		return err
	}
	if err := cbor.Unmarshal(raw.data, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadRequest, method, err)
	}
	return nil
}
