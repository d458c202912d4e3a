// Package layering holds the house rules on imports (DESIGN.md §2, STYLE.md habit 1) and the
// test that enforces them: API packages import no consensus engine, database, RPC or process
// control, and pure packages additionally use no network, clock or global randomness.
package layering

import "strings"

// Rule is one constraint on a set of packages.
type Rule struct {
	// Name says what the rule protects.
	Name string
	// Applies reports whether the rule covers the package with the given import path relative
	// to the module root ("common/cbor", "consensus/staking/api").
	Applies func(rel string) bool
	// ForbiddenDeps are import-path prefixes that must not appear among the package's
	// dependencies, direct or transitive.
	ForbiddenDeps []string
	// ForbiddenDirect are import paths the package's own files must not import.
	ForbiddenDirect []string
	// ForbiddenCalls are package-qualified identifiers ("time.Now") the package's own files
	// must not use.
	ForbiddenCalls []string
	// ExemptFiles are file base names within covered packages that the direct-import and call
	// checks skip (for example the key files of common/signature, which touch the disk).
	ExemptFiles map[string]bool
	// OnlyFiles, when set, limits the direct-import and call checks to the files it accepts
	// (for the pure rules files inside otherwise impure service packages).
	OnlyFiles func(name string) bool
}

var engines = []string{
	"github.com/cometbft/",
	"github.com/cockroachdb/pebble",
	"google.golang.org/grpc",
	"os/exec",
}

// clockCalls are the time functions that read or wait on the wall clock.
var clockCalls = []string{
	"time.Now", "time.Since", "time.Until", "time.Sleep", "time.After", "time.AfterFunc",
	"time.Tick", "time.NewTicker", "time.NewTimer",
}

// Rules returns the house rules.
func Rules() []Rule {
	return []Rule{
		{
			Name:          "api packages import no consensus engine, database, RPC or process control",
			Applies:       isAPI,
			ForbiddenDeps: engines,
		},
		{
			Name:            "pure packages use no network, processes, clocks or global randomness",
			Applies:         isPure,
			ForbiddenDeps:   append(append([]string{}, engines...), "net"),
			ForbiddenDirect: []string{"net", "os/exec", "math/rand", "math/rand/v2", "crypto/rand"},
			ForbiddenCalls:  clockCalls,
			ExemptFiles:     map[string]bool{"keyfile.go": true},
		},
		{
			Name:            "the rules files of consensus services are pure",
			Applies:         isService,
			ForbiddenDirect: []string{"net", "os", "os/exec", "math/rand", "math/rand/v2", "crypto/rand"},
			ForbiddenCalls:  clockCalls,
			OnlyFiles:       isRulesFile,
		},
	}
}

// isService reports whether rel is a consensus service package (not its api).
func isService(rel string) bool {
	return strings.HasPrefix(rel, "consensus/") && !isAPI(rel) && strings.Count(rel, "/") == 1
}

// isRulesFile reports whether a file holds a service's pure rules (rules.go, rules_*.go).
func isRulesFile(name string) bool {
	return name == "rules.go" || strings.HasPrefix(name, "rules_")
}

func isAPI(rel string) bool {
	return strings.HasSuffix(rel, "/api") || strings.Contains(rel, "/api/")
}

// pureExact lists the pure packages of DESIGN.md §2 outside the patterns below.
var pureExact = map[string]bool{
	"mkvs":                           true,
	"mkvs/node":                      true,
	"mkvs/writelog":                  true,
	"mkvs/syncer":                    true,
	"consensus/roothash/commitment":  true,
	"consensus/scheduler/election":   true,
	"runtime/host/protocol/messages": true,
	"consensus/transaction":          true,
	"consensus/genesis":              true,
	"runtime/sdk/iotree":             true,
}

func isPure(rel string) bool {
	switch {
	case pureExact[rel]:
		return true
	case strings.HasPrefix(rel, "common/"):
		return true
	case strings.HasPrefix(rel, "consensus/") && isAPI(rel):
		return true
	}
	return false
}

// Matches reports whether the import path dep is the forbidden path bad or lies under it. A bad
// path ending in "/" names a whole tree of modules ("github.com/cometbft/").
func Matches(dep, bad string) bool {
	if strings.HasSuffix(bad, "/") {
		return strings.HasPrefix(dep, bad)
	}
	return dep == bad || strings.HasPrefix(dep, bad+"/")
}
