package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

func newSchedulerCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Show the committees the scheduler elected, through a running node",
	}
	cmd.AddCommand(newSchedulerCommitteesCommand(s))
	return cmd
}

// committeeOutput is one committee as `atoll scheduler committees` prints it.
type committeeOutput struct {
	ValidFor beacon.EpochTime `json:"valid_for"`
	// Workers are in election order; the transaction scheduler of round r is
	// workers[r mod len(workers)].
	Workers []signature.PublicKey `json:"workers"`
	Backups []signature.PublicKey `json:"backups"`
}

// committeesOutput is what `atoll scheduler committees` prints.
type committeesOutput struct {
	Height    int64               `json:"height"`
	Epoch     beacon.EpochTime    `json:"epoch"`
	RuntimeID namespace.Namespace `json:"runtime_id"`
	Suspended bool                `json:"suspended"`
	// Election is the runtime's latest election, absent before its first.
	Election *scheduler.ElectionResult `json:"election,omitempty"`
	Executor *committeeOutput          `json:"executor,omitempty"`
	Storage  *committeeOutput          `json:"storage,omitempty"`
	// NextRound and TxnScheduler are the round the executor committee executes next and the
	// worker that schedules it.
	NextRound    *uint64              `json:"next_round,omitempty"`
	TxnScheduler *signature.PublicKey `json:"txn_scheduler,omitempty"`
	// NoCommittees says why the runtime has no committees, when it has none.
	NoCommittees string `json:"no_committees,omitempty"`
	status       string
}

func newSchedulerCommitteesCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var id string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "committees --runtime ID",
		Short: "Show a runtime's executor committee (workers, backups, next scheduler) and storage committee",
		Long: "Shows the committees elected for the runtime in the current epoch: the executor committee's " +
			"workers in election order, with the transaction scheduler of the next round marked, and its " +
			"backups; and the storage committee. A runtime without committees says why (suspended, not " +
			"deployed yet, or too few eligible nodes at its last election).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rid, err := parseRuntimeID(id)
			if err != nil {
				return fmt.Errorf("--runtime: %w", err)
			}
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			out, err := queryCommittees(cmd.Context(), c, rid)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(s.Out, out)
			}
			printCommittees(s.Out, out)
			return nil
		},
	}
	nf.register(cmd)
	cmd.Flags().StringVar(&id, "runtime", "", "the runtime ID (hex)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("runtime")
	return cmd
}

func queryCommittees(ctx context.Context, c *grpcapi.Client, id namespace.Namespace) (*committeesOutput, error) {
	info, height, err := queryRuntime(ctx, c, id)
	if err != nil {
		return nil, err
	}
	epoch, err := epochAt(ctx, c, height)
	if err != nil {
		return nil, err
	}
	out := &committeesOutput{Height: height, Epoch: epoch, RuntimeID: id, Suspended: info.Suspended, status: summarize(*info, epoch).runtimeStatus()}
	q := scheduler.RuntimeQuery{RuntimeID: id}
	var election scheduler.ElectionResult
	switch _, err := c.Query(ctx, scheduler.QueryElection, q, &election, height); {
	case err == nil:
		out.Election = &election
	case !errors.Is(err, scheduler.ErrNoElection):
		return nil, fmt.Errorf("querying the runtime's election: %w", err)
	}
	var committees []scheduler.Committee
	if _, err := c.Query(ctx, scheduler.QueryCommittees, q, &committees, height); err != nil {
		return nil, fmt.Errorf("querying the runtime's committees: %w", err)
	}
	for i := range committees {
		cm := &committees[i]
		co := &committeeOutput{ValidFor: cm.ValidFor, Workers: cm.Workers(), Backups: cm.Backups()}
		if co.Backups == nil {
			co.Backups = []signature.PublicKey{}
		}
		switch cm.Kind {
		case scheduler.KindExecutor:
			out.Executor = co
			var latest roothash.Header
			if _, err := c.Query(ctx, roothash.QueryLatestBlock, roothash.RuntimeQuery{ID: id}, &latest, height); err == nil {
				round := latest.Round + 1
				if sched, ok := cm.TransactionScheduler(round); ok {
					out.NextRound, out.TxnScheduler = &round, &sched
				}
			}
		case scheduler.KindStorage:
			out.Storage = co
		}
	}
	if out.Executor == nil || out.Storage == nil {
		out.NoCommittees = whyNoCommittees(info, out)
	}
	return out, nil
}

// whyNoCommittees explains a runtime without committees, and what would give it some.
func whyNoCommittees(info *registry.RuntimeInfo, o *committeesOutput) string {
	rt := &info.Runtime
	cmd := fmt.Sprintf("`atoll registry node register --roles compute,storage --runtime %s@VERSION`", rt.ID)
	register := "register compute and storage nodes for it (" + cmd + ")"
	if rt.ActiveDeployment(o.Epoch) == nil {
		if next := rt.NextDeployment(o.Epoch); next != nil {
			why := fmt.Sprintf("it is not deployed yet: version %s becomes active in epoch %d, whose transition elects its committees from the nodes registered for that version by then", next.Version, next.ValidFrom)
			if info.Suspended {
				why += "; it is suspended until a node registers for it (" + cmd + ")"
			}
			return why
		}
	}
	if el := o.Election; el != nil && !el.Elected() {
		why := fmt.Sprintf("its election for epoch %d found %s", el.Epoch, el.Outcome)
		switch el.Outcome {
		case scheduler.OutcomeTooFewExecutors:
			why += fmt.Sprintf(" (%d eligible, %d needed)", el.EligibleExecutors, rt.Constraints.Executor.MinPool(rt.Executor.GroupSize))
		case scheduler.OutcomeTooFewStorage:
			why += fmt.Sprintf(" (%d eligible, %d needed)", el.EligibleStorage, rt.Constraints.Storage.MinPool(rt.Storage.GroupSize))
		}
		return why + "; " + register
	}
	if info.Suspended {
		if o.Election == nil {
			return "it is suspended and has never been elected (a runtime registered by a transaction starts suspended); " +
				register + ": a registration resumes it, and it is elected at the next epoch transition"
		}
		return "it is suspended; " + register + " and keep its owner's stake above the thresholds"
	}
	return "it has not been elected yet: elections run at each epoch transition"
}

func printCommittees(w io.Writer, o *committeesOutput) {
	fmt.Fprintf(w, "Runtime %s at height %d (epoch %d): %s\n", o.RuntimeID, o.Height, o.Epoch, o.status)
	if el := o.Election; el != nil {
		fmt.Fprintf(w, "  last election   epoch %d: %s (eligible: %s, %s)\n",
			el.Epoch, el.Outcome, plural(int(el.EligibleExecutors), "executor"), plural(int(el.EligibleStorage), "storage node"))
	}
	if o.NoCommittees != "" {
		fmt.Fprintf(w, "  NO COMMITTEES: %s\n", o.NoCommittees)
	}
	if ex := o.Executor; ex != nil {
		fmt.Fprintf(w, "Executor committee for epoch %d: %s, %s\n", ex.ValidFor, plural(len(ex.Workers), "worker"), plural(len(ex.Backups), "backup"))
		for i, k := range ex.Workers {
			mark := ""
			if o.TxnScheduler != nil && *o.TxnScheduler == k {
				mark = fmt.Sprintf("  ← transaction scheduler of round %d (next)", *o.NextRound)
			}
			fmt.Fprintf(w, "  worker %-3d %s%s\n", i, k, mark)
		}
		for i, k := range ex.Backups {
			fmt.Fprintf(w, "  backup %-3d %s\n", i, k)
		}
	}
	if st := o.Storage; st != nil {
		fmt.Fprintf(w, "Storage committee for epoch %d: %s\n", st.ValidFor, plural(len(st.Workers), "node"))
		for i, k := range st.Workers {
			fmt.Fprintf(w, "  worker %-3d %s\n", i, k)
		}
	}
}

// plural returns "1 node", "2 nodes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
