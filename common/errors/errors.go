// Package errors provides coded errors: an error identified by a (module, code) pair that
// survives the wire (ABCI results, gRPC trailers, the runtime host protocol).
//
// Each package declares its sentinel errors once with New; the pair is registered so that an
// error decoded from the wire with FromWire is the very sentinel again (errors.Is works on both
// sides). Code 0 is reserved for "no error"; registering a pair twice panics, since that is a
// programming error found at start-up.
package errors

import (
	"errors"
	"fmt"
	"sync"
)

// UnknownModule is the module of errors that carry no registered code.
const UnknownModule = "unknown"

// UnknownCode is the code of errors that carry no registered code.
const UnknownCode = 1

// Error is a coded error.
type Error struct {
	module  string
	code    uint32
	message string
}

// Error returns "module: message".
func (e *Error) Error() string { return e.module + ": " + e.message }

// Module returns the module the error belongs to.
func (e *Error) Module() string { return e.module }

// Code returns the error's code within its module.
func (e *Error) Code() uint32 { return e.code }

// Message returns the error's message without the module prefix.
func (e *Error) Message() string { return e.message }

type registry struct {
	mu    sync.RWMutex
	codes map[string]map[uint32]*Error
}

// registered holds every coded error; it is append-only and written only while package-level
// sentinel errors are initialised.
var registered = &registry{codes: make(map[string]map[uint32]*Error)}

// New declares and registers the coded error (module, code). It panics when code is 0 or the
// pair is already registered.
func New(module string, code uint32, message string) *Error {
	if code == 0 {
		panic(fmt.Sprintf("errors: module %q: code 0 is reserved", module))
	}
	if module == "" {
		panic("errors: empty module")
	}
	e := &Error{module: module, code: code, message: message}
	registered.mu.Lock()
	defer registered.mu.Unlock()
	m := registered.codes[module]
	if m == nil {
		m = make(map[uint32]*Error)
		registered.codes[module] = m
	}
	if prev, ok := m[code]; ok {
		panic(fmt.Sprintf("errors: (%q, %d) registered twice: %q and %q", module, code, prev.message, message))
	}
	m[code] = e
	return e
}

// Lookup returns the registered error for (module, code), if any.
func Lookup(module string, code uint32) (*Error, bool) {
	registered.mu.RLock()
	defer registered.mu.RUnlock()
	e, ok := registered.codes[module][code]
	return e, ok
}

// Wire is the form of an error on the wire.
type Wire struct {
	Module  string `cbor:"module,omitempty"`
	Code    uint32 `cbor:"code,omitempty"`
	Message string `cbor:"message,omitempty"`
}

// ToWire converts err to its wire form. A coded error anywhere in err's chain gives the module
// and code; the message is err's full text, so wrapped detail is kept. Other errors get
// (UnknownModule, UnknownCode). A nil err gives the zero Wire.
func ToWire(err error) Wire {
	if err == nil {
		return Wire{}
	}
	var ce *Error
	if errors.As(err, &ce) {
		msg := err.Error()
		prefix := ce.module + ": "
		if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
			msg = msg[len(prefix):]
		}
		return Wire{Module: ce.module, Code: ce.code, Message: msg}
	}
	return Wire{Module: UnknownModule, Code: UnknownCode, Message: err.Error()}
}

// remote is an error received from the wire whose pair is registered here: it unwraps to the
// sentinel and keeps the sender's full message.
type remote struct {
	sentinel *Error
	message  string
}

func (r *remote) Error() string { return r.sentinel.module + ": " + r.message }
func (r *remote) Unwrap() error { return r.sentinel }

// FromWire converts a wire error back into an error. It returns nil for the zero Wire (code 0).
// A registered pair yields an error for which errors.Is(err, sentinel) holds.
func FromWire(w Wire) error {
	if w.Code == 0 {
		return nil
	}
	if e, ok := Lookup(w.Module, w.Code); ok {
		if w.Message == "" || w.Message == e.message {
			return e
		}
		return &remote{sentinel: e, message: w.Message}
	}
	module := w.Module
	if module == "" {
		module = UnknownModule
	}
	return &Error{module: module, code: w.Code, message: w.Message}
}

// Code returns the module and code of the first coded error in err's chain, or
// (UnknownModule, UnknownCode) when there is none, or ("", 0) for a nil err.
func Code(err error) (string, uint32) {
	w := ToWire(err)
	return w.Module, w.Code
}

// Is, As, Unwrap and Join are the standard library's, re-exported so that packages need import
// only this one.
var (
	Is     = errors.Is
	As     = errors.As
	Unwrap = errors.Unwrap
	Join   = errors.Join
)
