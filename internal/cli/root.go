// Package cli builds the atoll command tree. Each command group lives in its own file and is
// added by a constructor function; nothing registers itself from init.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Streams are the standard streams a command reads and writes.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// ExitError carries a process exit code out of a command (for example the exit code of a
// program run under `atoll debug sandbox exec`) without printing anything more.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// NewRootCommand returns the atoll command tree.
func NewRootCommand(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "atoll",
		Short:         "Atoll: a runtime layer of replicated deterministic applications over one consensus layer",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.AddCommand(
		newDevnetCommand(s),
		newNodeCommand(s),
		newKeysCommand(s),
		newGenesisCommand(s),
		newEntityCommand(s),
		newRegistryCommand(s),
		newSchedulerCommand(s),
		newRuntimeCommand(s),
		newStakeCommand(s),
		newStatusCommand(s),
		newBenchCommand(s),
		newDebugCommand(s),
	)
	return root
}

// Main runs the command tree on args and returns the process exit code.
func Main(ctx context.Context, args []string, s Streams) int {
	root := NewRootCommand(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	fmt.Fprintf(s.Err, "Error: %v\n", err)
	return 1
}
