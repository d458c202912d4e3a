package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/config"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/apps"
	"github.com/atoll-project/atoll/consensus/cometbft"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/mkvs/db"
	"github.com/atoll-project/atoll/node"
	"github.com/atoll-project/atoll/rpc"
)

// consensusStateDir is the consensus state's node DB inside the application directory.
const consensusStateDir = "consensus-state"

// consensusKeepHeights is how many committed heights of consensus state the node keeps for
// queries at past heights; older ones are pruned (blocks and events stay in CometBFT's store).
const consensusKeepHeights = 10_000

// consensusApplication is the node's consensus application: the ABCI mux over the beacon and
// staking applications, its state in a Pebble node DB under the application directory, and the
// consensus gRPC service (package consensus/grpcapi).
func consensusApplication(p node.AppParams) (*node.App, error) {
	doc, err := genesis.Load(p.Genesis)
	if err != nil {
		return nil, fmt.Errorf("genesis document: %w", err)
	}
	logger := p.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	nodeDB, err := db.Open(db.Options{
		Path:      filepath.Join(p.DataDir, consensusStateDir),
		Namespace: consensus.StateNamespace(doc),
		Logger:    logger.With("module", "consensus/state"),
	})
	if err != nil {
		return nil, fmt.Errorf("opening the consensus state: %w", err)
	}
	mux, err := consensus.NewMux(consensus.MuxConfig{
		Genesis:     doc,
		Apps:        apps.All(),
		NodeDB:      nodeDB,
		KeepHeights: consensusKeepHeights,
		Logger:      logger,
	})
	if err != nil {
		_ = nodeDB.Close()
		return nil, err
	}
	gen := cometbft.Genesis{
		ChainID:       doc.CometBFTChainID(),
		Time:          doc.GenesisTime,
		InitialHeight: doc.InitialHeight,
		MaxBlockBytes: doc.Consensus.MaxBlockBytes,
		MaxBlockGas:   int64(doc.Consensus.MaxBlockGas),
	}
	for i, v := range doc.Validators {
		gen.Validators = append(gen.Validators, cometbft.Validator{
			PubKey: v.ConsensusKey, Power: v.Power, Name: fmt.Sprintf("validator-%d", i),
		})
	}
	return &node.App{
		ABCI:    mux,
		Genesis: gen,
		Methods: func(cmt *cometbft.Node) []rpc.Method {
			return grpcapi.NewService(grpcapi.ServiceConfig{Genesis: doc, Mux: mux, Node: cmt, Logger: logger}).Methods()
		},
		Close: nodeDB.Close,
	}, nil
}

func newNodeCommand(s Streams) *cobra.Command {
	var configPath, cpuProfile string
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
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			return n.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the node's YAML configuration file")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the whole run to this file")
	return cmd
}

// startCPUProfile starts a CPU profile into path (nothing for an empty path) and returns the
// function that stops it.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
