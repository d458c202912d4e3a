package signature

import (
	"errors"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
)

// Test contexts. Registered names must be prefix-free across the whole test binary.
var (
	testChainContext   = NewContext("atoll/signature-test: chain-bound")
	testRuntimeContext = NewContext("atoll/signature-test: runtime-bound", WithRuntimeSeparation())
	testUnboundContext = NewContext("atoll/signature-test: unbound", WithoutChainSeparation())
	testOtherContext   = NewContext("atoll/signature-test: other chain-bound")
)

var (
	testChain   = hash.Digest([]byte("atoll/signature-test: chain"))
	testRuntime = namespace.Namespace(hash.Digest([]byte("atoll/signature-test: runtime")))
)

func TestBoundContextsAppendTheChainAndRuntimeInHex(t *testing.T) {
	chainHex := testChain.String()
	rtHex := testRuntime.String()
	cases := []struct {
		name string
		got  BoundContext
		want string
	}{
		{"chain-bound", testChainContext.ForChain(testChain), "atoll/signature-test: chain-bound for chain " + chainHex},
		{"runtime-bound", testRuntimeContext.ForChain(testChain).ForRuntime(testRuntime),
			"atoll/signature-test: runtime-bound for chain " + chainHex + " for runtime " + rtHex},
		{"unbound", testUnboundContext.Unbound(), "atoll/signature-test: unbound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got.String() != c.want {
				t.Fatalf("bound context %q, want %q", c.got, c.want)
			}
			if err := c.got.check(); err != nil {
				t.Fatalf("complete context reported incomplete: %v", err)
			}
		})
	}
}

func TestMisusingAContextPanics(t *testing.T) {
	cases := []struct {
		name string
		use  func()
	}{
		{"binding an unbound context to a chain", func() { testUnboundContext.ForChain(testChain) }},
		{"using a chain-bound context unbound", func() { testChainContext.Unbound() }},
		{"using a runtime-bound context unbound", func() { testRuntimeContext.Unbound() }},
		{"binding a chain-only context to a runtime", func() { testChainContext.ForChain(testChain).ForRuntime(testRuntime) }},
		{"binding an unbound context to a runtime", func() { testUnboundContext.Unbound().ForRuntime(testRuntime) }},
		{"binding a runtime twice", func() {
			testRuntimeContext.ForChain(testChain).ForRuntime(testRuntime).ForRuntime(testRuntime)
		}},
		{"binding the zero BoundContext to a runtime", func() { BoundContext{}.ForRuntime(testRuntime) }},
		{"binding to the zero chain context", func() { testChainContext.ForChain(hash.Hash{}) }},
		{"binding the zero Context", func() { Context{}.ForChain(testChain) }},
		{"unbinding the zero Context", func() { Context{}.Unbound() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			c.use()
		})
	}
}

func TestNewContextPanicsOnBadOrClashingNames(t *testing.T) {
	cases := []struct {
		name string
		ctx  string
		opts []ContextOption
		want string
	}{
		{"a duplicate", testChainContext.Name(), nil, "registered twice"},
		{"a prefix of a registered name", "atoll/signature-test: chain", nil, "prefix"},
		{"an extension of a registered name", "atoll/signature-test: unbound descriptor", nil, "prefix"},
		{"an empty name", "", nil, "empty"},
		{"a name with a chain suffix", "atoll/x: y for chain z", nil, "binding suffix"},
		{"a name with a runtime suffix", "atoll/x: y for runtime z", nil, "binding suffix"},
		{"a non-ASCII name", "atoll/x: \u00e9", nil, "printable"},
		{"a too long name", "atoll/x: " + strings.Repeat("y", MaxContextNameLength), nil, "longer"},
		{"runtime separation without chain separation", "atoll/signature-test: bad options",
			[]ContextOption{WithoutChainSeparation(), WithRuntimeSeparation()}, "requires chain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if msg, _ := r.(string); !strings.Contains(msg, c.want) {
					t.Fatalf("panic %q does not mention %q", r, c.want)
				}
			}()
			NewContext(c.ctx, c.opts...)
		})
	}
}

func TestIncompleteContextsCannotSignOrVerify(t *testing.T) {
	signer := testSigner(t)
	cases := []struct {
		name string
		bctx BoundContext
	}{
		{"the zero BoundContext", BoundContext{}},
		{"a runtime-bound context without its runtime", testRuntimeContext.ForChain(testChain)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Sign(signer, c.bctx, []byte("m")); !errors.Is(err, ErrIncompleteContext) {
				t.Fatalf("Sign: %v, want ErrIncompleteContext", err)
			}
			if err := Verify(signer.Public(), c.bctx, []byte("m"), RawSignature{}); !errors.Is(err, ErrIncompleteContext) {
				t.Fatalf("Verify: %v, want ErrIncompleteContext", err)
			}
			if _, err := PrepareMessage(c.bctx, nil); !errors.Is(err, ErrIncompleteContext) {
				t.Fatalf("PrepareMessage: %v, want ErrIncompleteContext", err)
			}
		})
	}
}
