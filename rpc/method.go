package rpc

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
)

// Method is one served method: what a Unary or ServerStream declaration gives for a handler.
type Method struct {
	service string
	name    string
	unary   grpc.MethodHandler
	stream  grpc.StreamHandler
}

// Unary declares a method that takes one Req and returns one Resp. Declare it once, beside
// the service's types, and use it on both sides: Handler on the server, Call on the client.
type Unary[Req, Resp any] struct {
	service, name string
}

// NewUnary declares the unary method name of service ("atoll.consensus.Staking").
func NewUnary[Req, Resp any](service, name string) Unary[Req, Resp] {
	mustName(service, name)
	return Unary[Req, Resp]{service: service, name: name}
}

// FullName returns "/service/name".
func (m Unary[Req, Resp]) FullName() string { return "/" + m.service + "/" + m.name }

// Handler binds the method to h. h's error reaches the client as a coded error.
func (m Unary[Req, Resp]) Handler(h func(context.Context, Req) (Resp, error)) Method {
	full := m.FullName()
	handler := func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		var req Req
		if err := decodeRequest(full, dec, &req); err != nil {
			return nil, serverError(ctx, err)
		}
		call := func(ctx context.Context, r any) (any, error) {
			resp, err := h(ctx, *r.(*Req))
			if err != nil {
				return nil, serverError(ctx, err)
			}
			return resp, nil
		}
		if icpt == nil {
			return call(ctx, &req)
		}
		return icpt(ctx, &req, &grpc.UnaryServerInfo{FullMethod: full}, call)
	}
	return Method{service: m.service, name: m.name, unary: handler}
}

// Call invokes the method on c. Without a deadline on ctx, c's CallTimeout applies.
func (m Unary[Req, Resp]) Call(ctx context.Context, c *Client, req Req) (Resp, error) {
	var resp Resp
	err := c.invoke(ctx, m.FullName(), &req, &resp)
	return resp, err
}

// ServerStream declares a method that takes one Req and streams back Resp values.
type ServerStream[Req, Resp any] struct {
	service, name string
}

// NewServerStream declares the server-streaming method name of service.
func NewServerStream[Req, Resp any](service, name string) ServerStream[Req, Resp] {
	mustName(service, name)
	return ServerStream[Req, Resp]{service: service, name: name}
}

// FullName returns "/service/name".
func (m ServerStream[Req, Resp]) FullName() string { return "/" + m.service + "/" + m.name }

// Handler binds the method to h, which sends values with send until it returns. send fails
// once the client has gone; h should then return that error.
func (m ServerStream[Req, Resp]) Handler(h func(ctx context.Context, req Req, send func(Resp) error) error) Method {
	full := m.FullName()
	handler := func(_ any, ss grpc.ServerStream) error {
		var req Req
		if err := decodeRequest(full, ss.RecvMsg, &req); err != nil {
			return streamError(ss, err)
		}
		send := func(r Resp) error { return ss.SendMsg(&r) }
		if err := h(ss.Context(), req, send); err != nil {
			return streamError(ss, err)
		}
		return nil
	}
	return Method{service: m.service, name: m.name, stream: handler}
}

// Call invokes the method on c and hands each received value to recv until the server ends
// the stream (nil), recv fails (its error), or the call fails. Without a deadline on ctx, c's
// CallTimeout applies to the whole stream: pass a deadline for long-lived streams.
func (m ServerStream[Req, Resp]) Call(ctx context.Context, c *Client, req Req, recv func(Resp) error) error {
	return c.stream(ctx, m.FullName(), m.name, &req, func(dec func(any) error) error {
		var r Resp
		if err := dec(&r); err != nil {
			return err
		}
		return recv(r)
	})
}

func mustName(service, name string) {
	if service == "" || name == "" || strings.ContainsAny(service+name, "/ ") {
		panic(fmt.Sprintf("rpc: bad method name %q/%q", service, name))
	}
}

// serverError sets the error trailer of a unary call and returns the status error.
func serverError(ctx context.Context, err error) error {
	st, md := toStatus(err)
	if md != nil {
		_ = grpc.SetTrailer(ctx, md)
	}
	return st
}

func streamError(ss grpc.ServerStream, err error) error {
	st, md := toStatus(err)
	if md != nil {
		ss.SetTrailer(md)
	}
	return st
}
