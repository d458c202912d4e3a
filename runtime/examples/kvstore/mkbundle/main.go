// Command mkbundle packs a kvstore executable into a runtime bundle (package runtime/bundle):
//
//	mkbundle -version 1 -executable bin/kvstore-v1 -out bin/kvstore-v1.atb [-id HEX]
//
// The bundle holds the executable under its base name, and the manifest names the runtime ID
// (by default the example runtime's test ID) and version major.0.0. It prints the bundle
// checksum, the value a runtime descriptor's deployment pins.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/runtime/bundle"
)

// defaultRuntimeID is the kvstore's ID in tests and fixtures (test flag set, last byte 0x0b).
const defaultRuntimeID = "800000000000000000000000000000000000000000000000000000000000000b"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkbundle:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkbundle", flag.ContinueOnError)
	major := fs.Uint("version", 0, "runtime major version (1 or 2)")
	exe := fs.String("executable", "", "path of the runtime executable")
	out := fs.String("out", "", "path of the bundle to write")
	idHex := fs.String("id", defaultRuntimeID, "runtime ID, hex")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *major == 0 || *major > 0xffff || *exe == "" || *out == "" {
		return fmt.Errorf("-version, -executable and -out are required")
	}
	id, err := namespace.FromHex(*idHex)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*exe)
	if err != nil {
		return err
	}
	name := filepath.Base(*exe)
	m := bundle.Manifest{ID: id, Version: version.Version{Major: uint16(*major)}, Executable: name}
	sum, err := bundle.Write(*out, m, map[string][]byte{name: data})
	if err != nil {
		return err
	}
	fmt.Printf("%s: runtime %s version %s checksum %s\n", *out, id, m.Version, sum)
	return nil
}
