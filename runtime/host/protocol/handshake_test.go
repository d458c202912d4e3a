package protocol

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

func infoRequest() messages.RuntimeInfoRequest {
	var id namespace.Namespace
	id[31] = 7
	return messages.RuntimeInfoRequest{RuntimeID: id, ConsensusChainContext: hash.Digest([]byte("genesis"))}
}

// runtimeAnswering is a runtime that answers the handshake with the given protocol version.
func runtimeAnswering(v version.Version) Handler {
	return HandlerFunc(func(context.Context, *messages.Body) (*messages.Body, error) {
		return &messages.Body{RuntimeInfoResponse: &messages.RuntimeInfoResponse{ProtocolVersion: v, RuntimeVersion: version.Version{Major: 3}}}, nil
	})
}

func TestInitHostCompletesTheHandshakeWithAServeHandshakeRuntime(t *testing.T) {
	ctx := testContext(t)
	var got messages.RuntimeInfoRequest
	info := func(_ context.Context, req *messages.RuntimeInfoRequest) (*messages.RuntimeInfoResponse, error) {
		got = *req
		return &messages.RuntimeInfoResponse{RuntimeVersion: version.Version{Major: 2, Minor: 1}, Features: messages.Features{CapabilityTEE: true}}, nil
	}
	host, _ := pair(t, nil, ServeHandshake(info, nil), Config{})
	req := infoRequest()
	resp, err := InitHost(ctx, host, req)
	if err != nil {
		t.Fatalf("InitHost() = %v", err)
	}
	if resp.ProtocolVersion != messages.ProtocolVersion || resp.RuntimeVersion != (version.Version{Major: 2, Minor: 1}) || !resp.Features.CapabilityTEE {
		t.Errorf("InitHost() = %+v", resp)
	}
	if got.RuntimeID != req.RuntimeID || got.ConsensusChainContext != req.ConsensusChainContext {
		t.Errorf("the runtime saw %+v, want %+v", got, req)
	}
}

func TestInitHostRejectsARuntimeWithAnotherMajorVersion(t *testing.T) {
	ctx := testContext(t)
	v := messages.ProtocolVersion
	v.Major++
	host, _ := pair(t, nil, runtimeAnswering(v), Config{})
	_, err := InitHost(ctx, host, infoRequest())
	if !errors.Is(err, ErrIncompatibleVersion) {
		t.Fatalf("InitHost() = %v, want ErrIncompatibleVersion", err)
	}
	if !strings.Contains(err.Error(), v.String()) || !strings.Contains(err.Error(), messages.ProtocolVersion.String()) {
		t.Errorf("InitHost() = %q, want both versions named", err)
	}
}

func TestInitHostAcceptsARuntimeWithAnotherMinorVersion(t *testing.T) {
	ctx := testContext(t)
	v := messages.ProtocolVersion
	v.Minor += 2
	v.Patch++
	host, _ := pair(t, nil, runtimeAnswering(v), Config{})
	if _, err := InitHost(ctx, host, infoRequest()); err != nil {
		t.Fatalf("InitHost() = %v, want success", err)
	}
}

func TestInitHostRejectsAnAnswerOfTheWrongKind(t *testing.T) {
	ctx := testContext(t)
	host, _ := pair(t, nil, HandlerFunc(func(context.Context, *messages.Body) (*messages.Body, error) { return nil, nil }), Config{})
	if _, err := InitHost(ctx, host, infoRequest()); !errors.Is(err, ErrUnexpectedBody) {
		t.Fatalf("InitHost() = %v, want ErrUnexpectedBody", err)
	}
}

func TestServeHandshakeRefusesRequestsBeforeTheHandshakeAndASecondHandshake(t *testing.T) {
	ctx := testContext(t)
	info := func(context.Context, *messages.RuntimeInfoRequest) (*messages.RuntimeInfoResponse, error) {
		return &messages.RuntimeInfoResponse{}, nil
	}
	next := HandlerFunc(func(context.Context, *messages.Body) (*messages.Body, error) { return nil, nil })
	host, _ := pair(t, nil, ServeHandshake(info, next), Config{})

	if _, err := host.Call(ctx, ping()); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("ping before the handshake = %v, want ErrNotInitialized", err)
	}
	if _, err := InitHost(ctx, host, infoRequest()); err != nil {
		t.Fatalf("InitHost() = %v", err)
	}
	if _, err := host.Call(ctx, ping()); err != nil {
		t.Fatalf("ping after the handshake = %v", err)
	}
	if _, err := InitHost(ctx, host, infoRequest()); !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second InitHost() = %v, want ErrAlreadyInitialized", err)
	}
}

func TestAFailedHandshakeMayBeRetried(t *testing.T) {
	ctx := testContext(t)
	calls := 0
	info := func(context.Context, *messages.RuntimeInfoRequest) (*messages.RuntimeInfoResponse, error) {
		calls++
		if calls == 1 {
			return nil, errTestFailure
		}
		return &messages.RuntimeInfoResponse{}, nil
	}
	host, _ := pair(t, nil, ServeHandshake(info, nil), Config{})
	if _, err := InitHost(ctx, host, infoRequest()); !errors.Is(err, errTestFailure) {
		t.Fatalf("first InitHost() = %v, want the runtime's error", err)
	}
	if _, err := InitHost(ctx, host, infoRequest()); err != nil {
		t.Fatalf("second InitHost() = %v", err)
	}
	if _, err := host.Call(ctx, ping()); !errors.Is(err, ErrMethodNotSupported) {
		t.Fatalf("ping with no next handler = %v, want ErrMethodNotSupported", err)
	}
}
