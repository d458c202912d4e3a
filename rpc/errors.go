package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/atoll-project/atoll/common/cbor"
	aerrors "github.com/atoll-project/atoll/common/errors"
)

// ErrorTrailer is the binary trailer that carries a handler's coded error as CBOR
// {module, code, message}.
const ErrorTrailer = "atoll-error-bin"

// ModuleName is the module of the coded errors of this package.
const ModuleName = "rpc"

var (
	// ErrBadRequest is returned for a request that does not decode.
	ErrBadRequest = aerrors.New(ModuleName, 1, "malformed request")
	// ErrMessageTooLarge is returned when a request or response exceeds MaxMessageSize.
	ErrMessageTooLarge = errors.New("rpc: message larger than the 16 MiB limit")
	// ErrUnavailable is returned when the server cannot be reached.
	ErrUnavailable = errors.New("rpc: server unavailable")
)

// toStatus turns a handler's error into the gRPC status and the trailer that carries it. A
// context error is a status of its own and needs no trailer.
func toStatus(err error) (error, metadata.MD) {
	code := codes.Unknown
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error()), nil
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error()), nil
	case errors.Is(err, ErrBadRequest):
		code = codes.InvalidArgument
	}
	wire := cbor.Marshal(aerrors.ToWire(err))
	return status.Error(code, err.Error()), metadata.Pairs(ErrorTrailer, string(wire))
}

// fromStatus rebuilds the error of a failed call from its status and trailer.
func fromStatus(method string, err error, trailer metadata.MD) error {
	st, ok := status.FromError(err)
	if ok && (st.Code() == codes.DeadlineExceeded || st.Code() == codes.Canceled) {
		trailer = nil
	}
	if vals := trailer.Get(ErrorTrailer); len(vals) > 0 {
		var w aerrors.Wire
		if derr := cbor.Unmarshal([]byte(vals[0]), &w); derr == nil && w.Code != 0 {
			return aerrors.FromWire(w)
		}
	}
	if !ok {
		return fmt.Errorf("rpc: %s: %w", method, err)
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return fmt.Errorf("rpc: %s: %s: %w", method, st.Message(), context.DeadlineExceeded)
	case codes.Canceled:
		return fmt.Errorf("rpc: %s: %s: %w", method, st.Message(), context.Canceled)
	case codes.Unavailable:
		return fmt.Errorf("%w: %s: %s", ErrUnavailable, method, st.Message())
	case codes.ResourceExhausted:
		if strings.Contains(st.Message(), "larger than max") {
			return fmt.Errorf("%w: %s: %s", ErrMessageTooLarge, method, st.Message())
		}
	}
	return fmt.Errorf("rpc: %s: %s: %s", method, st.Code(), st.Message())
}
