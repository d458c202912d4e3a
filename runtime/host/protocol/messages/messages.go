// Package messages defines the Runtime Host Protocol's wire types: the Message envelope, the
// Body union of every request and response, errors, and the protocol version.
//
// Wire form (DESIGN.md §6, §12): a Message is canonical CBOR. A Body is a map with exactly one
// key, the snake_case name of the request or response it carries ("runtime_ping_request",
// "empty", "error", ...). Every request and response type has explicit snake_case CBOR tags;
// optional fields are omitempty. Any change to these types changes the wire and must bump
// ProtocolVersion; golden vectors in this package's tests catch accidental changes.
//
// DecodeMessage is the one way to read a message from a peer: it decodes strictly (size cap,
// no unknown or duplicate fields) and validates the envelope and the union structure. It does
// not judge the meaning of a request: handlers validate what they serve. The message it
// returns may share the memory of the bytes it was given.
//
// The package is pure: no network, clock, randomness or processes.
package messages

import (
	"errors"
	"fmt"
	"slices"

	"github.com/atoll-project/atoll/common/cbor"
)

// ErrMalformedMessage is returned when a message decodes but breaks the protocol's structure
// (unknown message type, a body with zero or several fields, a request body in a response...),
// or does not decode at all.
var ErrMalformedMessage = errors.New("protocol/messages: malformed message")

// MessageType says whether a message is a request or a response.
type MessageType uint8

const (
	// MessageTypeInvalid is the zero value and never valid.
	MessageTypeInvalid MessageType = 0
	// MessageTypeRequest marks a request; its ID is chosen by the sender.
	MessageTypeRequest MessageType = 1
	// MessageTypeResponse marks a response; its ID is that of the request it answers.
	MessageTypeResponse MessageType = 2
)

// String returns "request" or "response".
func (t MessageType) String() string {
	switch t {
	case MessageTypeRequest:
		return "request"
	case MessageTypeResponse:
		return "response"
	default:
		return fmt.Sprintf("invalid(%d)", uint8(t))
	}
}

// Message is the envelope of everything sent over the protocol. IDs are per direction: each
// side numbers its own requests, and a response carries the ID of the request it answers.
type Message struct {
	ID          uint64      `cbor:"id"`
	MessageType MessageType `cbor:"message_type"`
	Body        Body        `cbor:"body"`
}

// ValidateBasic checks the envelope: a known message type and a body with exactly one field,
// a request body in a request and a response body (including Empty and Error) in a response.
func (m *Message) ValidateBasic() error {
	if err := m.Body.ValidateBasic(); err != nil {
		return err
	}
	switch m.MessageType {
	case MessageTypeRequest:
		if !m.Body.IsRequest() {
			return fmt.Errorf("%w: request %d carries %s, which is not a request", ErrMalformedMessage, m.ID, m.Body.Kind())
		}
	case MessageTypeResponse:
		if m.Body.IsRequest() {
			return fmt.Errorf("%w: response %d carries %s, which is a request", ErrMalformedMessage, m.ID, m.Body.Kind())
		}
	default:
		return fmt.Errorf("%w: message %d has message type %s", ErrMalformedMessage, m.ID, m.MessageType)
	}
	return nil
}

// EncodeMessage returns the canonical CBOR encoding of m.
func EncodeMessage(m *Message) []byte { return AppendMessage(nil, m) }

// AppendMessage appends the canonical CBOR encoding of m to buf and returns the extended
// slice. (ExecuteTxBatch requests and responses take a faster path with the same output; see
// hotcodec.go.)
func AppendMessage(buf []byte, m *Message) []byte {
	if out, ok := appendHotMessage(buf, m); ok {
		return out
	}
	return cbor.MarshalTo(buf, m)
}

// DecodeMessage strictly decodes an untrusted message of at most maxSize bytes and validates
// it with ValidateBasic. Every failure wraps ErrMalformedMessage (and cbor.ErrTooLarge for
// oversized input).
//
// The caller hands data over: the message may share its memory (the byte strings of an
// ExecuteTxBatch request or response do, each capped at its own length), so data must not be
// modified or reused while the message is in use.
func DecodeMessage(data []byte, maxSize int) (*Message, error) {
	if len(data) <= maxSize {
		if m, ok := decodeHotMessage(data, maxSize); ok {
			if err := m.ValidateBasic(); err != nil {
				return nil, err
			}
			return m, nil
		}
	}
	return decodeGeneric(data, maxSize)
}

// decodeGeneric is DecodeMessage through the generic strict decoder alone.
func decodeGeneric(data []byte, maxSize int) (*Message, error) {
	var m Message
	if err := cbor.UnmarshalLimit(data, &m, maxSize); err != nil {
		if unknown := unknownBodyKeys(data, maxSize); len(unknown) > 0 {
			return nil, fmt.Errorf("%w: unknown body %q: %w", ErrMalformedMessage, unknown, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformedMessage, err)
	}
	if err := m.ValidateBasic(); err != nil {
		return nil, err
	}
	return &m, nil
}

// unknownBodyKeys names the body keys of a message that are not Body fields, for an error
// message; it returns nil when the message does not even have that shape.
func unknownBodyKeys(data []byte, maxSize int) []string {
	var probe struct {
		ID          cbor.RawMessage            `cbor:"id"`
		MessageType cbor.RawMessage            `cbor:"message_type"`
		Body        map[string]cbor.RawMessage `cbor:"body"`
	}
	if cbor.UnmarshalLimit(data, &probe, maxSize) != nil {
		return nil
	}
	known := make(map[string]bool)
	for _, key := range bodyKeys() {
		known[key] = true
	}
	var unknown []string
	for key := range probe.Body {
		if !known[key] {
			unknown = append(unknown, key)
		}
	}
	slices.Sort(unknown)
	return unknown
}
