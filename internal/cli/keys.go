package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/node"
)

func newKeysCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Generate and show a node's keys (entity, node, TLS, consensus, P2P)",
	}
	cmd.AddCommand(newKeysGenerateCommand(s), newKeysShowCommand(s))
	return cmd
}

// keysOutput is what `atoll keys generate|show --json` prints.
type keysOutput struct {
	DataDir string `json:"datadir"`
	node.PublicIdentity
}

func newKeysGenerateCommand(s Streams) *cobra.Command {
	var dataDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "generate --datadir DIR",
		Short: "Write new keys into a node's data directory and print their public halves",
		Long: "Writes the entity, node and TLS keys (" + node.EntityKeyFile + ", " + node.NodeKeyFile + ", " +
			node.TLSKeyFile + ") and, under " + node.ConsensusDir + "/, the consensus key in CometBFT's " +
			"validator key format with its double-sign protection state and the P2P key. Every file has " +
			"mode 0600. Existing keys are never overwritten.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pub, err := node.GenerateIdentity(dataDir)
			if err != nil {
				return err
			}
			return printKeys(s.Out, "Generated keys in "+dataDir, keysOutput{DataDir: dataDir, PublicIdentity: pub}, asJSON)
		},
	}
	cmd.Flags().StringVar(&dataDir, "datadir", "", "the node's data directory (created if missing)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("datadir")
	return cmd
}

func newKeysShowCommand(s Streams) *cobra.Command {
	var dataDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --datadir DIR",
		Short: "Print the public keys of a node's data directory",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			id, err := node.LoadIdentity(dataDir)
			if err != nil {
				return err
			}
			pub := id.Public
			id.Reset()
			return printKeys(s.Out, "Keys in "+dataDir, keysOutput{DataDir: dataDir, PublicIdentity: pub}, asJSON)
		},
	}
	cmd.Flags().StringVar(&dataDir, "datadir", "", "the node's data directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("datadir")
	return cmd
}

func printKeys(w io.Writer, title string, k keysOutput, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(k)
	}
	_, err := fmt.Fprintf(w, "%s:\n  entity     %s\n  node       %s\n  tls        %s\n  consensus  %s\n  p2p id     %s\n",
		title, k.Entity, k.Node, k.TLS, k.Consensus, k.P2PID)
	return err
}
