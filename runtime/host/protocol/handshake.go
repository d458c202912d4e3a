package protocol

import (
	"context"
	"fmt"
	"sync"

	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// InitHost performs the host's side of the handshake: it sends req and checks that the runtime
// speaks a protocol version with the host's major (messages.ProtocolVersion). A runtime with
// another major is refused with ErrIncompatibleVersion; the caller then closes the connection
// and stops the runtime. The handshake must be the host's first request.
func InitHost(ctx context.Context, conn *Connection, req messages.RuntimeInfoRequest) (*messages.RuntimeInfoResponse, error) {
	resp, err := conn.Call(ctx, &messages.Body{RuntimeInfoRequest: &req})
	if err != nil {
		return nil, fmt.Errorf("protocol: handshake: %w", err)
	}
	info := resp.RuntimeInfoResponse
	if info == nil {
		return nil, fmt.Errorf("%w: handshake answered with %s", ErrUnexpectedBody, resp.Kind())
	}
	if !messages.Compatible(info.ProtocolVersion) {
		return nil, fmt.Errorf("%w: runtime %s speaks protocol %s, host speaks %s (major versions must match)",
			ErrIncompatibleVersion, req.RuntimeID, info.ProtocolVersion, messages.ProtocolVersion)
	}
	return info, nil
}

// RuntimeInfoFunc answers the handshake for a runtime: given what the host sent, it returns
// the runtime's version and features. ServeHandshake fills in the protocol version.
type RuntimeInfoFunc func(ctx context.Context, req *messages.RuntimeInfoRequest) (*messages.RuntimeInfoResponse, error)

// ServeHandshake returns the runtime's side of the handshake as a Handler around next. The
// first RuntimeInfoRequest is answered by info with ProtocolVersion set to
// messages.ProtocolVersion; if info fails the host may try again. Until the handshake has
// succeeded every other request is refused with ErrNotInitialized; afterwards another
// RuntimeInfoRequest is refused with ErrAlreadyInitialized and everything else goes to next.
func ServeHandshake(info RuntimeInfoFunc, next Handler) Handler {
	return &handshakeHandler{info: info, next: next}
}

type handshakeHandler struct {
	info RuntimeInfoFunc
	next Handler

	mu   sync.Mutex
	done bool
}

func (h *handshakeHandler) Handle(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	if body.RuntimeInfoRequest == nil {
		h.mu.Lock()
		done := h.done
		h.mu.Unlock()
		if !done {
			return nil, fmt.Errorf("%w: %s before runtime_info_request", ErrNotInitialized, body.Kind())
		}
		if h.next == nil {
			return nil, fmt.Errorf("%w: %s", ErrMethodNotSupported, body.Kind())
		}
		return h.next.Handle(ctx, body)
	}

	// Hold the lock across info so that concurrent handshakes cannot both succeed.
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return nil, ErrAlreadyInitialized
	}
	resp, err := h.info(ctx, body.RuntimeInfoRequest)
	if err != nil {
		return nil, err
	}
	out := *resp
	out.ProtocolVersion = messages.ProtocolVersion
	h.done = true
	return &messages.Body{RuntimeInfoResponse: &out}, nil
}
