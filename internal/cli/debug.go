package cli

import "github.com/spf13/cobra"

func newDebugCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "debug",
		Short: "Debugging aids for operators and developers",
	}
	cmd.AddCommand(
		newDebugMKVSCommand(s),
		newDebugSandboxCommand(s),
	)
	return cmd
}
