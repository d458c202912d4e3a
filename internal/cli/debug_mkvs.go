package cli

import "github.com/spf13/cobra"

func newDebugMKVSCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mkvs",
		Short: "Inspect the Merklized key-value store",
	}
	return cmd
}
