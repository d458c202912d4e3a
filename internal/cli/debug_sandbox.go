package cli

import "github.com/spf13/cobra"

func newDebugSandboxCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run programs in the sandbox runtimes get",
	}
	return cmd
}
