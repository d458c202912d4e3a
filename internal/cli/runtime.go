package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

func newRuntimeCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runtime",
		Short: "Follow a runtime's chain of blocks and show its state, from a running node",
		Long: "Reads what roothash keeps of a runtime on a running node: its blocks (every round, in " +
			"order) and its state (epoch, committees, suspension, latest round).",
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newRuntimeBlocksCommand(s), newRuntimeShowCommand(s))
	return cmd
}

// runtimeIDFlag is the --runtime ID flag every runtime command takes.
type runtimeIDFlag struct{ id string }

func (f *runtimeIDFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.id, "runtime", "", "the runtime's ID (64 hex characters)")
}

func (f *runtimeIDFlag) parse() (namespace.Namespace, error) {
	if f.id == "" {
		return namespace.Namespace{}, errors.New("which runtime? pass --runtime ID (the 64 hex characters of its descriptor's id)")
	}
	id, err := namespace.FromHex(strings.TrimPrefix(f.id, "0x"))
	if err != nil {
		return namespace.Namespace{}, fmt.Errorf("--runtime %q is no runtime ID: want 64 hex characters (%v)", f.id, err)
	}
	return id, nil
}

// errRuntimeCaughtUp ends a stream that has reached the round it was asked to stop at.
var errRuntimeCaughtUp = errors.New("caught up")

func newRuntimeBlocksCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var rf runtimeIDFlag
	var from uint64
	var follow, asJSON bool
	cmd := &cobra.Command{
		Use:   "blocks --runtime ID [--from ROUND] [--follow] [--json]",
		Short: "Print a runtime's blocks, one line each, from a round (default: the latest) on",
		Long: "Prints the runtime's blocks from --from (default: the latest block) to the latest one: " +
			"round, type, hash, IO and state roots (shortened) and time. With --follow it goes on with " +
			"every new block until interrupted (Ctrl-C). The node keeps only the latest " +
			"max_past_roots_stored blocks of each runtime; older rounds cannot be printed. With --json " +
			"it prints one JSON object per line.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := rf.parse()
			if err != nil {
				return err
			}
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			latest, err := c.LatestRuntimeBlock(ctx, id)
			if err != nil {
				return fmt.Errorf("reading the latest block: %w", err)
			}
			req := grpcapi.WatchRuntimeBlocksRequest{RuntimeID: id}
			if cmd.Flags().Changed("from") {
				if from > latest.Round && !follow {
					return fmt.Errorf("round %d of runtime %s is not made yet (the latest is %d): pass --follow to wait for it", from, id, latest.Round)
				}
				req.FromRound = &from
			} else {
				req.FromRound = &latest.Round
			}
			printBlock := printRuntimeBlock
			if asJSON {
				printBlock = printRuntimeBlockJSON
			}
			err = c.WatchRuntimeBlocks(ctx, req, func(b grpcapi.RuntimeBlock) error {
				if err := printBlock(s.Out, &b); err != nil {
					return err
				}
				if !follow && b.Round >= latest.Round {
					return errRuntimeCaughtUp
				}
				return nil
			})
			if err == nil || errors.Is(err, errRuntimeCaughtUp) {
				return nil
			}
			return fmt.Errorf("reading blocks: %w", err)
		},
	}
	nf.register(cmd)
	rf.register(cmd)
	cmd.Flags().Uint64Var(&from, "from", 0, "the first round to print (default: the latest block)")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing new blocks until interrupted")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per block and line")
	return cmd
}

// shortHash returns the first 8 hex characters of h.
func shortHash(h hash.Hash) string { return h.String()[:8] }

func runtimeBlockTime(h *roothash.Header) string {
	return time.Unix(int64(h.Timestamp), 0).UTC().Format(time.RFC3339)
}

func printRuntimeBlock(w io.Writer, b *grpcapi.RuntimeBlock) error {
	_, err := fmt.Fprintf(w, "round %-6d %-16s hash %s  io %s  state %s  %s\n",
		b.Round, b.Type, b.Hash, shortHash(b.Header.IORoot), shortHash(b.Header.StateRoot), runtimeBlockTime(&b.Header))
	return err
}

// runtimeBlockOutput is one line of `atoll runtime blocks --json`.
type runtimeBlockOutput struct {
	Round  uint64          `json:"round"`
	Type   string          `json:"type"`
	Hash   hash.Hash       `json:"hash"`
	Time   string          `json:"time"`
	Header roothash.Header `json:"header"`
}

func printRuntimeBlockJSON(w io.Writer, b *grpcapi.RuntimeBlock) error {
	return json.NewEncoder(w).Encode(jsonView(runtimeBlockOutput{
		Round: b.Round, Type: b.Type.String(), Hash: b.Hash, Time: runtimeBlockTime(&b.Header), Header: b.Header,
	}))
}

func newRuntimeShowCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var rf runtimeIDFlag
	var height int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --runtime ID [--height H] [--json]",
		Short: "Show a runtime's state: epoch, committees, suspension, latest round",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := rf.parse()
			if err != nil {
				return err
			}
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			st, err := c.RuntimeState(cmd.Context(), id, height)
			if err != nil {
				return fmt.Errorf("reading the runtime's state: %w", err)
			}
			if asJSON {
				return printJSON(s.Out, st)
			}
			rs := &st.State
			suspended := "no"
			if rs.Suspended {
				suspended = "yes (until an epoch transition elects committees again)"
			}
			timer := "not armed"
			if rs.NextTimeout > 0 {
				timer = fmt.Sprintf("fires at height %d", rs.NextTimeout)
			}
			_, err = fmt.Fprintf(s.Out, "Runtime %s at height %d\n  epoch         %d\n  suspended     %s\n  latest round  %d (%s) %s at %s, made at height %d\n  last normal   round %d at height %d\n  round timer   %s\n  executor      %s\n  storage       %s\n",
				id, st.Height, rs.Epoch, suspended, rs.Latest.Round, rs.Latest.HeaderType, rs.Latest.Hash(),
				runtimeBlockTime(&rs.Latest), rs.LatestHeight, rs.LastNormalRound, rs.LastNormalHeight, timer,
				runtimeCommitteeLine(rs.Executor), runtimeCommitteeLine(rs.Storage))
			return err
		},
	}
	nf.register(cmd)
	rf.register(cmd)
	cmd.Flags().Int64Var(&height, "height", 0, "the consensus height (default: the last committed block)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// runtimeCommitteeLine lists a committee's members by role, in election order.
func runtimeCommitteeLine(c *scheduler.Committee) string {
	if c == nil {
		return "none"
	}
	var parts []string
	if ws := c.Workers(); len(ws) > 0 {
		parts = append(parts, fmt.Sprintf("workers %s", listKeys(ws)))
	}
	if bs := c.Backups(); len(bs) > 0 {
		parts = append(parts, fmt.Sprintf("backups %s", listKeys(bs)))
	}
	return fmt.Sprintf("%s (epoch %d)", strings.Join(parts, "; "), c.ValidFor)
}

func listKeys[T fmt.Stringer](keys []T) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return strings.Join(out, ", ")
}
