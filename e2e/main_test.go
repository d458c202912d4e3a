package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// atollBinary is the path of the atoll binary TestMain builds.
var atollBinary string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "atoll-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	atollBinary = filepath.Join(dir, "atoll")
	build := exec.Command("go", "build", "-o", atollBinary, "github.com/atoll-project/atoll/cmd/atoll")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building atoll:", err)
		return 1
	}
	code := m.Run()
	// Every network closes its clients and waits for its nodes: nothing may outlive the tests.
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, "e2e: goroutines left behind:", err)
		return 1
	}
	return code
}
