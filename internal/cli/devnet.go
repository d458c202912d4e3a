package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// errDevnetUnavailable is what `atoll devnet` says until the node roles it starts exist.
var errDevnetUnavailable = errors.New("the local network is not available yet: `atoll devnet` " +
	"needs the storage, compute and client node roles, which are still being built (see README.md, " +
	"\"Status\"); a consensus-only network can be run by hand (docs/cli.md, \"A session\"), and " +
	"`make test` exercises everything that exists")

func newDevnetCommand(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "devnet",
		Short: "Run a full local network (validator, compute, storage and client nodes) on loopback",
		RunE: func(*cobra.Command, []string) error {
			return errDevnetUnavailable
		},
	}
}
