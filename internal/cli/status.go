package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/consensus/grpcapi"
	"github.com/atoll-project/atoll/node"
)

func newStatusCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status (--socket PATH | --datadir DIR)",
		Short: "Show a running node's status: chain, height, epoch, validator",
		Long: "Shows what a running node knows of its chain. The subcommands show the epoch, a block " +
			"and a block's events.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			st, err := c.Status(cmd.Context())
			if err != nil {
				return fmt.Errorf("node status: %w", err)
			}
			// The node service adds the node's keys.
			ns, err := node.MethodStatus.Call(cmd.Context(), c.RPC(), node.StatusRequest{})
			if err != nil {
				return fmt.Errorf("node status: %w", err)
			}
			out := statusOutput{Status: *st, Identity: ns.Identity}
			if asJSON {
				return printJSON(s.Out, out)
			}
			role := "full node"
			if st.Validator {
				role = fmt.Sprintf("validator (voting power %d)", st.VotingPower)
			}
			sync := "in sync"
			if st.CatchingUp {
				sync = "catching up"
			}
			_, err = fmt.Fprintf(s.Out, "Chain %s (chain context %s)\n  height     %d at %s (%s)\n  committed  %d, state root %s\n  epoch      %d\n  node       %s %q, p2p id %s\n  entity     %s\n",
				st.ChainID, st.ChainContext, st.LatestHeight, st.LatestTime.Format(time.RFC3339Nano), sync,
				st.CommittedHeight, st.StateRoot, st.Epoch, role, st.Moniker, st.P2PID, ns.Identity.Entity)
			return err
		},
	}
	nf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newStatusEpochCommand(s), newStatusBlockCommand(s), newStatusEventsCommand(s))
	return cmd
}

// statusOutput is what `atoll status --json` prints.
type statusOutput struct {
	grpcapi.Status
	Identity node.PublicIdentity `json:"identity"`
}

func newStatusEpochCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var height int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "epoch [--height H]",
		Short: "Show the epoch, its first height and its entropy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			e, err := c.Epoch(cmd.Context(), height)
			if err != nil {
				return fmt.Errorf("querying the epoch: %w", err)
			}
			if asJSON {
				return printJSON(s.Out, e)
			}
			_, err = fmt.Fprintf(s.Out, "Epoch %d at height %d\n  started at height %d, %d blocks per epoch\n  entropy %s (insecure dev beacon: predictable)\n",
				e.Epoch, e.Height, e.StartHeight, e.Interval, e.Entropy)
			return err
		},
	}
	nf.register(cmd)
	cmd.Flags().Int64Var(&height, "height", 0, "the height (default: the latest)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newStatusBlockCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var height int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "block [--height H]",
		Short: "Show a committed block: hash, time, state roots, transactions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			b, err := c.Block(cmd.Context(), height)
			if err != nil {
				return fmt.Errorf("fetching the block: %w", err)
			}
			if asJSON {
				return printJSON(s.Out, b)
			}
			fmt.Fprintf(s.Out, "Block %d %s\n  time        %s\n  proposer    %s\n  app hash    %s (state before the block)\n  state root  %s (state after the block)\n  txs         %d\n",
				b.Height, b.Hash, b.Time.Format(time.RFC3339Nano), b.Proposer, b.AppHash, b.StateRoot, len(b.TxHashes))
			for _, h := range b.TxHashes {
				fmt.Fprintf(s.Out, "    %s\n", h)
			}
			return nil
		},
	}
	nf.register(cmd)
	cmd.Flags().Int64Var(&height, "height", 0, "the height (default: the last committed block)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// blockEventsOutput is what `atoll status events --json` prints.
type blockEventsOutput struct {
	Height int64           `json:"height"`
	Block  []eventOutput   `json:"block"`
	Txs    []txEventOutput `json:"txs"`
}

type txEventOutput struct {
	grpcapi.TxEvents
	Events []eventOutput `json:"events"`
}

func newStatusEventsCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var height int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "events [--height H]",
		Short: "Show a committed block's events: the block's own and each transaction's",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			evs, err := c.Events(cmd.Context(), height)
			if err != nil {
				return fmt.Errorf("fetching events: %w", err)
			}
			out := blockEventsOutput{Height: evs.Height, Block: decodeEvents(evs.Block)}
			for _, t := range evs.Txs {
				out.Txs = append(out.Txs, txEventOutput{TxEvents: t, Events: decodeEvents(t.Events)})
			}
			if asJSON {
				return printJSON(s.Out, out)
			}
			fmt.Fprintf(s.Out, "Events of block %d\n", out.Height)
			for _, e := range out.Block {
				fmt.Fprintf(s.Out, "  block  %s %s\n", e.Kind, eventSummary(e.Value))
			}
			for _, t := range out.Txs {
				status := "ok"
				if t.Error != nil {
					status = fmt.Sprintf("failed (%s %d: %s)", t.Error.Module, t.Error.Code, t.Error.Message)
				}
				fmt.Fprintf(s.Out, "  tx %d %s %s\n", t.Index, t.Hash, status)
				for _, e := range t.Events {
					fmt.Fprintf(s.Out, "    %s %s\n", e.Kind, eventSummary(e.Value))
				}
			}
			return nil
		},
	}
	nf.register(cmd)
	cmd.Flags().Int64Var(&height, "height", 0, "the height (default: the last committed block)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
