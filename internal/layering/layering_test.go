package layering

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Deps       []string
}

func listModule(t *testing.T) (string, []listedPackage) {
	t.Helper()
	modOut, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	module := strings.TrimSpace(string(modOut))
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return module, pkgs
}

func TestPackagesFollowTheLayeringRules(t *testing.T) {
	module, pkgs := listModule(t)
	checked := 0
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, rule := range Rules() {
			if !rule.Applies(rel) {
				continue
			}
			checked++
			for _, dep := range p.Deps {
				for _, bad := range rule.ForbiddenDeps {
					if Matches(dep, bad) {
						t.Errorf("%s depends on %s: %s", rel, dep, rule.Name)
					}
				}
			}
			checkFiles(t, rel, p, rule)
		}
	}
	if checked == 0 {
		t.Fatal("no package was covered by a rule: the rules or the package list are broken")
	}
}

func checkFiles(t *testing.T, rel string, p listedPackage, rule Rule) {
	t.Helper()
	fset := token.NewFileSet()
	for _, name := range p.GoFiles {
		if rule.ExemptFiles[name] || (rule.OnlyFiles != nil && !rule.OnlyFiles(name)) {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ImportsOnly|parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s/%s: %v", rel, name, err)
		}
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			for _, bad := range rule.ForbiddenDirect {
				if path == bad {
					t.Errorf("%s/%s imports %s: %s", rel, name, path, rule.Name)
				}
			}
		}
		if len(rule.ForbiddenCalls) == 0 {
			continue
		}
		full, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s/%s: %v", rel, name, err)
		}
		timeName := importName(full, "time")
		if timeName == "" {
			continue
		}
		ast.Inspect(full, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok || id.Name != timeName {
				return true
			}
			for _, bad := range rule.ForbiddenCalls {
				if "time."+sel.Sel.Name == bad {
					t.Errorf("%s: %s uses %s: %s", fset.Position(sel.Pos()), rel, bad, rule.Name)
				}
			}
			return true
		})
	}
}

func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return filepath.Base(path)
	}
	return ""
}

func TestForbiddenPrefixesMatchWholePathElements(t *testing.T) {
	cases := []struct {
		dep, bad string
		want     bool
	}{
		{"net", "net", true},
		{"net/http", "net", true},
		{"netip", "net", false},
		{"github.com/cockroachdb/pebble/v2/vfs", "github.com/cockroachdb/pebble", true},
		{"github.com/cockroachdb/pebblex", "github.com/cockroachdb/pebble", false},
		{"github.com/cometbft/cometbft/abci/types", "github.com/cometbft/", true},
		{"os/exec", "os/exec", true},
		{"os", "os/exec", false},
	}
	for _, c := range cases {
		if got := Matches(c.dep, c.bad); got != c.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", c.dep, c.bad, got, c.want)
		}
	}
}

func TestRulesCoverTheDesignedPackages(t *testing.T) {
	cases := []struct {
		rel       string
		api, pure bool
	}{
		{"common/cbor", false, true},
		{"mkvs", false, true},
		{"mkvs/db", false, false},
		{"consensus/staking/api", true, true},
		{"consensus/roothash/commitment", false, true},
		{"runtime/host/sandbox", false, false},
		{"consensus/transaction", false, true},
		{"consensus/genesis", false, true},
	}
	for _, c := range cases {
		if got := isAPI(c.rel); got != c.api {
			t.Errorf("isAPI(%q) = %v, want %v", c.rel, got, c.api)
		}
		if got := isPure(c.rel); got != c.pure {
			t.Errorf("isPure(%q) = %v, want %v", c.rel, got, c.pure)
		}
	}
}
