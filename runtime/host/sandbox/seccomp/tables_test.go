package seccomp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// xsysNumbers parses golang.org/x/sys/unix's generated zsysnum file for goarch.
func xsysNumbers(t *testing.T, goarch string) map[string]uint32 {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys").Output()
	if err != nil {
		t.Skipf("cannot locate golang.org/x/sys: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "unix", "zsysnum_linux_"+goarch+".go")
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Skipf("cannot parse %s: %v", path, err)
	}
	nums := make(map[string]uint32)
	ast.Inspect(file, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		name, found := strings.CutPrefix(vs.Names[0].Name, "SYS_")
		if !ok || !found {
			return true
		}
		v, err := strconv.ParseUint(lit.Value, 0, 32)
		if err != nil {
			t.Fatalf("%s: %s = %s: %v", path, vs.Names[0].Name, lit.Value, err)
		}
		nums[strings.ToLower(name)] = uint32(v)
		return true
	})
	return nums
}

func TestSyscallTablesMatchXSys(t *testing.T) {
	for _, c := range []struct {
		arch   Arch
		goarch string
	}{{X86_64, "amd64"}, {AArch64, "arm64"}} {
		want := xsysNumbers(t, c.goarch)
		table, err := c.arch.syscalls()
		if err != nil {
			t.Fatal(err)
		}
		for name, n := range table {
			if w, ok := want[name]; !ok || w != n {
				t.Errorf("%v %s: table says %d, x/sys says %d (present %v)", c.arch, name, n, w, ok)
			}
		}
		// Every name the policy uses that the architecture has must be in the table.
		names := append(append(allowedSyscalls(), deniedSyscalls()...), sysClone, sysClone3, sysSocket, sysSocketpair)
		for _, name := range names {
			if _, ok := want[name]; ok {
				if _, in := table[name]; !in {
					t.Errorf("%v: %s exists but is missing from the table", c.arch, name)
				}
			}
		}
	}
}
