package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/config"
	"github.com/atoll-project/atoll/node"
)

// errNoConsensusApplication is what `atoll node` says until the ABCI mux exists.
var errNoConsensusApplication = errors.New("the consensus application (the ABCI mux of package " +
	"consensus, issue 12) is not built yet, so `atoll node` cannot run a chain; the node's " +
	"embedding of CometBFT, gRPC API and config are tested in ./node and ./consensus/cometbft")

// consensusApplication is the node's consensus application. The ABCI mux plugs in here.
func consensusApplication(node.AppParams) (*node.App, error) {
	return nil, errNoConsensusApplication
}

func newNodeCommand(s Streams) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "node --config FILE",
		Short: "Run a validator or full node until interrupted (SIGINT or SIGTERM)",
		Long: "Runs CometBFT with the consensus application, the gRPC API (a Unix socket in the data " +
			"directory, optionally a TLS TCP listener) and the metrics endpoint, as the YAML configuration " +
			"file says (see docs/config.md). The data directory needs keys (`atoll keys generate`) " +
			"and a genesis document.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return errors.New("no configuration: pass --config FILE (docs/config.md lists every key and its default)")
			}
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			logger, err := node.NewLogger(cfg.Log, s.Err)
			if err != nil {
				return err
			}
			n, err := node.New(cfg, logger, consensusApplication)
			if err != nil {
				return err
			}
			return n.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the node's YAML configuration file")
	return cmd
}
