package protocol

import (
	"errors"

	coded "github.com/atoll-project/atoll/common/errors"
)

// ModuleName is the module of this package's coded errors.
const ModuleName = "protocol"

// Coded errors: they travel to the peer as Error bodies and errors.Is matches them there.
var (
	// ErrMethodNotSupported answers a request the handler does not serve.
	ErrMethodNotSupported = coded.New(ModuleName, 1, "method not supported")
	// ErrBusy answers a request that arrives while the connection's queue of incoming
	// requests is full; the caller may retry.
	ErrBusy = coded.New(ModuleName, 2, "too many requests in flight")
	// ErrResponseTooLarge answers a request whose response would exceed the frame cap.
	ErrResponseTooLarge = coded.New(ModuleName, 3, "response exceeds the frame size cap")
	// ErrInvalidResponse answers a request whose handler returned a body that is not a single
	// response.
	ErrInvalidResponse = coded.New(ModuleName, 4, "handler returned an invalid response")
	// ErrNotInitialized answers a request that arrives before the handshake.
	ErrNotInitialized = coded.New(ModuleName, 5, "handshake not done")
	// ErrAlreadyInitialized answers a second handshake request.
	ErrAlreadyInitialized = coded.New(ModuleName, 6, "handshake already done")
)

// Local errors: they describe this side's connection and never cross the wire.
var (
	// ErrClosed is returned by calls on a closed connection and fails calls pending when it
	// closes; the cause of the closure is wrapped alongside.
	ErrClosed = errors.New("protocol: connection closed")
	// ErrFrameTooLarge is returned for a frame over the size cap: received, it closes the
	// connection; about to be sent, it fails that call alone.
	ErrFrameTooLarge = errors.New("protocol: frame exceeds the size cap")
	// ErrEmptyFrame is returned for a zero-length frame, which closes the connection.
	ErrEmptyFrame = errors.New("protocol: empty frame")
	// ErrUnexpectedResponse closes the connection when the peer answers a request ID this
	// side never sent.
	ErrUnexpectedResponse = errors.New("protocol: response to an unknown request")
	// ErrUnexpectedBody is returned by the typed helpers when the peer answers with a
	// response of the wrong kind.
	ErrUnexpectedBody = errors.New("protocol: unexpected response body")
	// ErrIncompatibleVersion is returned by InitHost for a runtime whose protocol major
	// version differs from the host's.
	ErrIncompatibleVersion = errors.New("protocol: incompatible protocol version")
)
