package cli

import (
	"context"
	"fmt"
	"io"
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
	return newHeightQueryCommand(s, heightQuery[*grpcapi.Epoch]{
		use:        "epoch [--height H]",
		short:      "Show the epoch, its first height and its entropy",
		heightHelp: "the height (default: the latest)",
		fetch: func(ctx context.Context, c *grpcapi.Client, height int64) (*grpcapi.Epoch, error) {
			e, err := c.Epoch(ctx, height)
			if err != nil {
				return nil, fmt.Errorf("querying the epoch: %w", err)
			}
			return e, nil
		},
		text: func(w io.Writer, e *grpcapi.Epoch) error {
			_, err := fmt.Fprintf(w, "Epoch %d at height %d\n  started at height %d, %d blocks per epoch\n  entropy %s (insecure dev beacon: predictable)\n",
				e.Epoch, e.Height, e.StartHeight, e.Interval, e.Entropy)
			return err
		},
	})
}

func newStatusBlockCommand(s Streams) *cobra.Command {
	return newHeightQueryCommand(s, heightQuery[*grpcapi.Block]{
		use:        "block [--height H]",
		short:      "Show a committed block: hash, time, state roots, transactions",
		heightHelp: "the height (default: the last committed block)",
		fetch: func(ctx context.Context, c *grpcapi.Client, height int64) (*grpcapi.Block, error) {
			b, err := c.Block(ctx, height)
			if err != nil {
				return nil, fmt.Errorf("fetching the block: %w", err)
			}
			return b, nil
		},
		text: func(w io.Writer, b *grpcapi.Block) error {
			fmt.Fprintf(w, "Block %d %s\n  time        %s\n  proposer    %s\n  app hash    %s (state before the block)\n  state root  %s (state after the block)\n  txs         %d\n",
				b.Height, b.Hash, b.Time.Format(time.RFC3339Nano), b.Proposer, b.AppHash, b.StateRoot, len(b.TxHashes))
			for _, h := range b.TxHashes {
				fmt.Fprintf(w, "    %s\n", h)
			}
			return nil
		},
	})
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
	return newHeightQueryCommand(s, heightQuery[blockEventsOutput]{
		use:        "events [--height H]",
		short:      "Show a committed block's events: the block's own and each transaction's",
		heightHelp: "the height (default: the last committed block)",
		fetch: func(ctx context.Context, c *grpcapi.Client, height int64) (blockEventsOutput, error) {
			evs, err := c.Events(ctx, height)
			if err != nil {
				return blockEventsOutput{}, fmt.Errorf("fetching events: %w", err)
			}
			out := blockEventsOutput{Height: evs.Height, Block: decodeEvents(evs.Block)}
			for _, t := range evs.Txs {
				out.Txs = append(out.Txs, txEventOutput{TxEvents: t, Events: decodeEvents(t.Events)})
			}
			return out, nil
		},
		text: func(w io.Writer, out blockEventsOutput) error {
			fmt.Fprintf(w, "Events of block %d\n", out.Height)
			for _, e := range out.Block {
				fmt.Fprintf(w, "  block  %s %s\n", e.Kind, eventSummary(e.Value))
			}
			for _, t := range out.Txs {
				status := "ok"
				if t.Error != nil {
					status = fmt.Sprintf("failed (%s %d: %s)", t.Error.Module, t.Error.Code, t.Error.Message)
				}
				fmt.Fprintf(w, "  tx %d %s %s\n", t.Index, t.Hash, status)
				for _, e := range t.Events {
					fmt.Fprintf(w, "    %s %s\n", e.Kind, eventSummary(e.Value))
				}
			}
			return nil
		},
	})
}

// heightQuery describes a command that fetches one value at a height from a running node and
// prints it as text, or as JSON with --json.
type heightQuery[T any] struct {
	use, short, heightHelp string
	fetch                  func(ctx context.Context, c *grpcapi.Client, height int64) (T, error)
	text                   func(w io.Writer, v T) error
}

// newHeightQueryCommand builds the command q describes, with the node flags, --height and --json.
func newHeightQueryCommand[T any](s Streams, q heightQuery[T]) *cobra.Command {
	var nf nodeFlags
	var height int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   q.use,
		Short: q.short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			v, err := q.fetch(cmd.Context(), c, height)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(s.Out, v)
			}
			return q.text(s.Out, v)
		},
	}
	nf.register(cmd)
	cmd.Flags().Int64Var(&height, "height", 0, q.heightHelp)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
