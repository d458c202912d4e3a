package signature

import (
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
)

// MaxContextNameLength bounds a context name; names are short constant strings.
const MaxContextNameLength = 128

const (
	chainSuffix   = " for chain "
	runtimeSuffix = " for runtime "
)

// Context is a registered signing context: the domain a signature belongs to. Declare each one
// once, as a package-level value, with NewContext. A Context cannot sign anything by itself:
// it must be bound first (ForChain, then ForRuntime for runtime-bound contexts, or Unbound for
// contexts declared WithoutChainSeparation).
//
// The zero Context is not registered; every method on it panics.
type Context struct {
	name    string
	chain   bool
	runtime bool
}

type contextConfig struct {
	chain   bool
	runtime bool
}

// ContextOption configures a Context in NewContext.
type ContextOption func(*contextConfig)

// WithoutChainSeparation declares a context that is not bound to a chain: only for descriptors
// inside the genesis document (entities, nodes, runtimes), which cannot sign the hash of the
// document that contains them. Such a context is bound with Unbound.
func WithoutChainSeparation() ContextOption {
	return func(c *contextConfig) { c.chain = false }
}

// WithRuntimeSeparation declares a context that is bound to a runtime as well as to the chain,
// so that a signature for one runtime is never valid for another. It requires chain
// separation.
func WithRuntimeSeparation() ContextOption {
	return func(c *contextConfig) { c.runtime = true }
}

// contextRegistry holds every registered context name. It is append-only and written while
// package-level contexts are initialised.
type contextRegistry struct {
	mu    sync.Mutex
	names map[string]struct{}
}

var registeredContexts = &contextRegistry{names: make(map[string]struct{})}

// NewContext declares and registers the signing context name. By default the context is bound
// to the chain.
//
// It panics (a programming error, found at start-up) when the name is empty, longer than
// MaxContextNameLength, not printable ASCII, contains " for chain " or " for runtime ", is
// already registered, or when it is a prefix of a registered name or has one as a prefix.
// Names are prefix-free so that no bound context followed by a message can be read as another
// bound context followed by another message: the signed digest is H(context || message).
func NewContext(name string, opts ...ContextOption) Context {
	cfg := contextConfig{chain: true}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.runtime && !cfg.chain {
		panic(fmt.Sprintf("signature: context %q: runtime separation requires chain separation", name))
	}
	if err := validContextName(name); err != nil {
		panic(err.Error())
	}

	registeredContexts.mu.Lock()
	defer registeredContexts.mu.Unlock()
	if _, ok := registeredContexts.names[name]; ok {
		panic(fmt.Sprintf("signature: context %q registered twice", name))
	}
	for other := range registeredContexts.names {
		if strings.HasPrefix(other, name) || strings.HasPrefix(name, other) {
			panic(fmt.Sprintf("signature: context %q and registered context %q: one is a prefix of the other", name, other))
		}
	}
	registeredContexts.names[name] = struct{}{}
	return Context{name: name, chain: cfg.chain, runtime: cfg.runtime}
}

func validContextName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("signature: empty context name")
	case len(name) > MaxContextNameLength:
		return fmt.Errorf("signature: context name %q longer than %d bytes", name, MaxContextNameLength)
	case strings.Contains(name, chainSuffix), strings.Contains(name, runtimeSuffix):
		return fmt.Errorf("signature: context name %q contains a binding suffix", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("signature: context name %q is not printable ASCII", name)
		}
	}
	return nil
}

// Name returns the context's registered name.
func (c Context) Name() string { return c.name }

// IsChainBound reports whether the context must be bound to a chain.
func (c Context) IsChainBound() bool { return c.chain }

// IsRuntimeBound reports whether the context must also be bound to a runtime.
func (c Context) IsRuntimeBound() bool { return c.runtime }

// String returns the context's name.
func (c Context) String() string { return c.name }

func (c Context) mustBeRegistered() {
	if c.name == "" {
		panic("signature: use of the zero Context")
	}
}

// ForChain binds a chain-bound context to the chain whose chain context (the hash of the
// genesis document) is chain: name + " for chain " + hex(chain). A runtime-bound context must
// then also be bound with ForRuntime before it can sign or verify.
//
// It panics when c was declared WithoutChainSeparation, or when chain is the zero hash (an
// unset chain context, never the hash of a genesis document).
func (c Context) ForChain(chain hash.Hash) BoundContext {
	c.mustBeRegistered()
	if !c.chain {
		panic(fmt.Sprintf("signature: context %q is not chain-bound; use Unbound", c.name))
	}
	if chain.IsZero() {
		panic(fmt.Sprintf("signature: context %q bound to the zero chain context", c.name))
	}
	return BoundContext{
		value:    c.name + chainSuffix + hex.EncodeToString(chain[:]),
		ctx:      c,
		complete: !c.runtime,
	}
}

// Unbound returns the bound form of a context declared WithoutChainSeparation: its name alone.
// It panics for chain-bound contexts, which must be given the chain explicitly.
func (c Context) Unbound() BoundContext {
	c.mustBeRegistered()
	if c.chain {
		panic(fmt.Sprintf("signature: context %q is chain-bound; use ForChain", c.name))
	}
	return BoundContext{value: c.name, ctx: c, complete: true}
}

// BoundContext is the final string a signature's digest covers. It is made only by
// Context.ForChain (and BoundContext.ForRuntime) or Context.Unbound. The zero BoundContext,
// and a runtime-bound context not yet bound to a runtime, are incomplete: signing and
// verifying with them fail with ErrIncompleteContext.
//
// A BoundContext is an immutable value, safe to share between goroutines.
type BoundContext struct {
	value    string
	ctx      Context
	complete bool
}

// ForRuntime binds a runtime-bound context, already bound to the chain, to the runtime id:
// + " for runtime " + hex(id). It panics when the context is not runtime-bound, was not bound
// to a chain, or is already bound to a runtime.
func (b BoundContext) ForRuntime(id namespace.Namespace) BoundContext {
	if b.value == "" {
		panic("signature: ForRuntime on the zero BoundContext")
	}
	if !b.ctx.runtime {
		panic(fmt.Sprintf("signature: context %q is not runtime-bound", b.ctx.name))
	}
	if b.complete {
		panic(fmt.Sprintf("signature: context %q is already bound to a runtime", b.ctx.name))
	}
	return BoundContext{
		value:    b.value + runtimeSuffix + hex.EncodeToString(id[:]),
		ctx:      b.ctx,
		complete: true,
	}
}

// Context returns the context b was bound from.
func (b BoundContext) Context() Context { return b.ctx }

// String returns the bound context string (possibly incomplete).
func (b BoundContext) String() string { return b.value }

// check returns an error unless b can sign and verify.
func (b BoundContext) check() error {
	switch {
	case b.value == "":
		return fmt.Errorf("%w: zero BoundContext", ErrIncompleteContext)
	case !b.complete:
		return fmt.Errorf("%w: context %q is runtime-bound but has no runtime", ErrIncompleteContext, b.ctx.name)
	}
	return nil
}
