package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/signature"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/node"
)

// entityRegistryNote points from the entity's keys to its registry descriptor.
const entityRegistryNote = "The entity descriptor (the entity's signed list of the nodes it vouches for) " +
	"lives in the registry: `atoll registry entity register --datadir DIR` registers it and " +
	"`atoll registry entity show` shows it."

func newEntityCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "entity",
		Short: "Show a node's entity: its key and staking account",
		Long:  "An entity is the operator of nodes: it owns their stake and receives the fees they earn.\n\n" + entityRegistryNote,
	}
	cmd.AddCommand(newEntityShowCommand(s))
	return cmd
}

// entityOutput is what `atoll entity show` prints.
type entityOutput struct {
	DataDir  string              `json:"datadir"`
	EntityID signature.PublicKey `json:"entity_id"`
	Address  staking.Address     `json:"address"`
	// Account is the entity's account, when a node answered.
	Account *staking.Account `json:"account,omitempty"`
	Height  int64            `json:"height,omitempty"`
	Note    string           `json:"note"`
}

func newEntityShowCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var asJSON, query bool
	cmd := &cobra.Command{
		Use:   "show --datadir DIR [--query]",
		Short: "Print the entity key and staking address of a data directory (and, with --query, its account)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nf.dataDir == "" {
				return fmt.Errorf("pass --datadir DIR: the entity key is %s in a node's data directory", node.EntityKeyFile)
			}
			id, err := node.LoadIdentity(nf.dataDir)
			if err != nil {
				return err
			}
			pub := id.Public
			id.Reset()
			out := entityOutput{DataDir: nf.dataDir, EntityID: pub.Entity, Address: staking.NewAddress(pub.Entity), Note: entityRegistryNote}
			if query {
				c, err := nf.dial()
				if err != nil {
					return err
				}
				defer c.Close()
				ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
				defer cancel()
				acct, err := c.Account(ctx, out.Address, 0)
				if err != nil {
					return fmt.Errorf("querying the entity's account: %w", err)
				}
				out.Account, out.Height = &acct.Account, acct.Height
			}
			if asJSON {
				return printJSON(s.Out, out)
			}
			fmt.Fprintf(s.Out, "Entity of %s:\n  entity id  %s\n  address    %s\n", out.DataDir, out.EntityID, out.Address)
			if out.Account != nil {
				fmt.Fprintf(s.Out, "  balance    %s (nonce %d), escrow %s, at height %d\n",
					out.Account.General.Balance, out.Account.General.Nonce, out.Account.Escrow.Active.Balance, out.Height)
			}
			_, err = fmt.Fprintf(s.Out, "\n%s\n", entityRegistryNote)
			return err
		},
	}
	nf.register(cmd)
	cmd.Flags().BoolVar(&query, "query", false, "also query the entity's account from the running node (its socket in --datadir, or --socket)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
