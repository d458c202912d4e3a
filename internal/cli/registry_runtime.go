package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
)

// runtimeTxFlags are the options of `atoll registry runtime register|update`.
type runtimeTxFlags struct {
	node   nodeFlags
	signer signerFlags
	file   string
	dryRun bool
	asJSON bool
}

// runtimeTxOutput is what `atoll registry runtime register|update` prints.
type runtimeTxOutput struct {
	Runtime registry.Runtime `json:"runtime"`
	Epoch   beacon.EpochTime `json:"epoch"`
	// Checked is set by --dry-run: the descriptor passed the local checks and was not sent.
	Checked bool              `json:"checked_only,omitempty"`
	Tx      *registryTxOutput `json:"tx,omitempty"`
}

func newRegistryRuntimeTxCommand(s Streams, update bool) *cobra.Command {
	var f runtimeTxFlags
	use, short, long := "register", "Register a new runtime from a descriptor file",
		"Registers the runtime described in --file. A runtime registered by a transaction starts "+
			"suspended: its first deployment must be valid from the current epoch + min_deployment_notice "+
			"or later, and it gets committees once enough nodes register for that version."
	if update {
		use, short, long = "update", "Update a registered runtime from a descriptor file",
			"Replaces the descriptor of the runtime named in --file. The update rules of ADR 0013 hold: "+
				"id, kind, genesis, entity_id and tee_hardware are immutable, the active deployment stays "+
				"identical, a new or changed entry is valid from the current epoch + min_deployment_notice "+
				"or later, and at most one entry is pending. The change takes effect at the next epoch. "+
				"`atoll registry runtime show --id ID --descriptor` prints the current descriptor to edit."
	}
	cmd := &cobra.Command{
		Use:   use + " --file DESCRIPTOR.{yaml,json} (--datadir DIR | --socket PATH --key FILE)",
		Short: short,
		Long: long + "\n\nThe file is YAML or JSON with the descriptor's snake_case fields (see docs/cli.md); unknown " +
			"keys are errors. entity_id defaults to the signing entity. The descriptor is checked against " +
			"the registry's rules and the chain's parameters before anything is sent; the transaction is " +
			"signed by the entity key of --datadir (or --key FILE).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRuntimeTx(cmd.Context(), s, &f, update) },
	}
	f.node.register(cmd)
	f.signer.register(cmd)
	cmd.Flags().StringVar(&f.file, "file", "", "the runtime descriptor, YAML or JSON")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "check the descriptor against the registry's rules without sending it")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func runRuntimeTx(ctx context.Context, s Streams, f *runtimeTxFlags, update bool) error {
	rt, err := readRuntimeDescriptor(f.file)
	if err != nil {
		return err
	}
	signer, c, err := openTx(&f.node, &f.signer)
	if err != nil {
		return err
	}
	defer signer.Reset()
	defer c.Close()
	if rt.EntityID == (signature.PublicKey{}) {
		rt.EntityID = signer.Public()
	}
	p, err := registryParams(ctx, c)
	if err != nil {
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return fmt.Errorf("node status: %w", err)
	}
	if err := checkRuntimeTx(ctx, c, p, rt, st.Epoch, signer.Public(), update); err != nil {
		return err
	}
	out := runtimeTxOutput{Runtime: *rt, Epoch: st.Epoch, Checked: f.dryRun}
	if !f.dryRun {
		fee, err := registryFee(ctx, c, p, registry.GasOpRegisterRuntime, 0)
		if err != nil {
			return err
		}
		if out.Tx, err = submitRegistryTx(ctx, c, signer, registry.MethodRegisterRuntime, rt, fee); err != nil {
			return err
		}
	}
	if f.asJSON {
		return printJSON(s.Out, out)
	}
	verb := "Registered"
	switch {
	case f.dryRun:
		verb = "Checked (not sent)"
	case update:
		verb = "Updated"
	}
	fmt.Fprintf(s.Out, "%s runtime %s of entity %s in epoch %d\n", verb, rt.ID, rt.EntityID, out.Epoch)
	printDeployments(s.Out, rt, out.Epoch)
	switch {
	case f.dryRun:
		fmt.Fprintln(s.Out, "  the descriptor passes the registry's rules at the current epoch")
	case update:
		fmt.Fprintln(s.Out, "  the new descriptor takes effect at the next epoch transition")
	default:
		fmt.Fprintln(s.Out, "  the runtime starts suspended: it gets committees once nodes register for its active version")
	}
	if out.Tx != nil {
		printRegistryTx(s.Out, out.Tx)
	}
	return nil
}

// checkRuntimeTx runs the registry's rules on a registration or update locally, so that a
// descriptor breaking one is refused, with the rule named, before anything is sent. The
// update check knows the versions of the current descriptor only; the node also checks the
// versions the runtime announced before.
func checkRuntimeTx(ctx context.Context, c *grpcapi.Client, p *registry.ConsensusParameters, rt *registry.Runtime, epoch beacon.EpochTime, signer signature.PublicKey, update bool) error {
	if err := registry.ValidateRuntime(p, rt); err != nil {
		return fmt.Errorf("the descriptor breaks a rule: %w", err)
	}
	var old registry.RuntimeInfo
	_, err := c.Query(ctx, registry.QueryRuntime, registry.RuntimeQuery{ID: rt.ID}, &old, 0)
	exists := err == nil
	if err != nil && !errors.Is(err, registry.ErrNoSuchRuntime) {
		return fmt.Errorf("querying runtime %s: %w", rt.ID, err)
	}
	switch {
	case update && !exists:
		return fmt.Errorf("runtime %s is not registered; register it with `atoll registry runtime register`", rt.ID)
	case !update && exists:
		return fmt.Errorf("runtime %s is already registered; change it with `atoll registry runtime update`", rt.ID)
	case update:
		if err := registry.AuthorizeRuntimeTx(&old.Runtime, rt, signer); err != nil {
			return err
		}
		if err := registry.VerifyRuntimeUpdate(p, &old.Runtime, rt, epoch, nil); err != nil {
			return fmt.Errorf("the update breaks a rule: %w", err)
		}
		return nil
	}
	if err := registry.AuthorizeRuntimeTx(nil, rt, signer); err != nil {
		return fmt.Errorf("%w (sign with that entity's key, or set entity_id to the signer)", err)
	}
	var owner registry.Entity
	switch _, err := c.Query(ctx, registry.QueryEntity, registry.IDQuery{ID: rt.EntityID}, &owner, 0); {
	case errors.Is(err, registry.ErrNoSuchEntity):
		return fmt.Errorf("entity %s is not registered: register it first (`atoll registry entity register --datadir DIR`)", rt.EntityID)
	case err != nil:
		return fmt.Errorf("querying the runtime's entity: %w", err)
	}
	if err := registry.VerifyRuntimeRegistration(p, rt, epoch, false); err != nil {
		return fmt.Errorf("the registration breaks a rule: %w", err)
	}
	return nil
}

// runtimeSummary is a runtime as `runtime list` and `runtime show` print it.
type runtimeSummary struct {
	Runtime   registry.Runtime `json:"runtime"`
	Suspended bool             `json:"suspended"`
	// ActiveDeployment and NextDeployment are the deployments active in the current epoch
	// and the pending one, if any.
	ActiveDeployment *registry.VersionInfo `json:"active_deployment,omitempty"`
	NextDeployment   *registry.VersionInfo `json:"next_deployment,omitempty"`
}

func summarize(info registry.RuntimeInfo, epoch beacon.EpochTime) runtimeSummary {
	return runtimeSummary{
		Runtime:          info.Runtime,
		Suspended:        info.Suspended,
		ActiveDeployment: info.Runtime.ActiveDeployment(epoch),
		NextDeployment:   info.Runtime.NextDeployment(epoch),
	}
}

// runtimeStatus says in a few words whether the runtime runs.
func (r runtimeSummary) runtimeStatus() string {
	switch {
	case r.ActiveDeployment == nil && r.NextDeployment != nil:
		return fmt.Sprintf("not deployed yet (version %s from epoch %d)", r.NextDeployment.Version, r.NextDeployment.ValidFrom)
	case r.Suspended:
		return "suspended"
	}
	return "active"
}

// runtimeListOutput is what `atoll registry runtime list` prints.
type runtimeListOutput struct {
	Height   int64            `json:"height"`
	Epoch    beacon.EpochTime `json:"epoch"`
	Runtimes []runtimeSummary `json:"runtimes"`
}

func newRegistryRuntimeListCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List registered runtimes, active and suspended, with their active deployment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			var infos []registry.RuntimeInfo
			height, err := c.Query(ctx, registry.QueryRuntimes, nil, &infos, 0)
			if err != nil {
				return fmt.Errorf("querying runtimes: %w", err)
			}
			epoch, err := epochAt(ctx, c, height)
			if err != nil {
				return err
			}
			out := runtimeListOutput{Height: height, Epoch: epoch, Runtimes: []runtimeSummary{}}
			for _, info := range infos {
				out.Runtimes = append(out.Runtimes, summarize(info, epoch))
			}
			if asJSON {
				return printJSON(s.Out, out)
			}
			return printRuntimeList(s.Out, &out)
		},
	}
	nf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printRuntimeList(w io.Writer, o *runtimeListOutput) error {
	if len(o.Runtimes) == 0 {
		_, err := fmt.Fprintf(w, "No registered runtimes at height %d (epoch %d). Register one with `atoll registry runtime register --file FILE`.\n", o.Height, o.Epoch)
		return err
	}
	fmt.Fprintf(w, "%s at height %d (epoch %d)\n", plural(len(o.Runtimes), "runtime"), o.Height, o.Epoch)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUNTIME\tSTATUS\tACTIVE\tNEXT\tENTITY")
	for i := range o.Runtimes {
		r := &o.Runtimes[i]
		active, next := "-", "-"
		if d := r.ActiveDeployment; d != nil {
			active = fmt.Sprintf("%s (since epoch %d)", d.Version, d.ValidFrom)
		}
		if d := r.NextDeployment; d != nil {
			next = fmt.Sprintf("%s (from epoch %d)", d.Version, d.ValidFrom)
		}
		status := "active"
		if r.Suspended {
			status = "suspended"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Runtime.ID, status, active, next, shortHex(r.Runtime.EntityID.String()))
	}
	return tw.Flush()
}

// runtimeShowOutput is what `atoll registry runtime show` prints.
type runtimeShowOutput struct {
	Height  int64            `json:"height"`
	Epoch   beacon.EpochTime `json:"epoch"`
	Summary runtimeSummary   `json:"-"`
}

func newRegistryRuntimeShowCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var id string
	var asJSON, descriptor bool
	cmd := &cobra.Command{
		Use:   "show --id RUNTIME [--descriptor]",
		Short: "Show a runtime: status, deployments and parameters",
		Long: "Shows a registered runtime. --descriptor prints only its descriptor as JSON, in the form " +
			"`atoll registry runtime update --file` reads, to edit and send back.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			rid, err := parseRuntimeID(id)
			if err != nil {
				return err
			}
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			info, height, err := queryRuntime(ctx, c, rid)
			if err != nil {
				return err
			}
			if descriptor {
				return printJSON(s.Out, info.Runtime)
			}
			epoch, err := epochAt(ctx, c, height)
			if err != nil {
				return err
			}
			out := runtimeShowOutput{Height: height, Epoch: epoch, Summary: summarize(*info, epoch)}
			if asJSON {
				// The summary's fields at the top level, beside the height and epoch.
				view := jsonView(out.Summary).(map[string]any)
				view["height"], view["epoch"] = out.Height, out.Epoch
				return printJSON(s.Out, view)
			}
			printRuntimeShow(s.Out, &out)
			return nil
		},
	}
	nf.register(cmd)
	cmd.Flags().StringVar(&id, "id", "", "the runtime ID (hex)")
	cmd.Flags().BoolVar(&descriptor, "descriptor", false, "print only the descriptor, as JSON that `runtime update --file` reads")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

func parseRuntimeID(s string) (namespace.Namespace, error) {
	var id namespace.Namespace
	if err := id.UnmarshalText([]byte(strings.TrimPrefix(s, "0x"))); err != nil {
		return id, fmt.Errorf("runtime ID %q: %w", s, err)
	}
	return id, nil
}

// queryRuntime returns a registered runtime, or an error saying how to find one.
func queryRuntime(ctx context.Context, c *grpcapi.Client, id namespace.Namespace) (*registry.RuntimeInfo, int64, error) {
	var info registry.RuntimeInfo
	height, err := c.Query(ctx, registry.QueryRuntime, registry.RuntimeQuery{ID: id}, &info, 0)
	if errors.Is(err, registry.ErrNoSuchRuntime) {
		return nil, 0, fmt.Errorf("runtime %s is not registered (`atoll registry runtime list` shows the registered runtimes)", id)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("querying runtime %s: %w", id, err)
	}
	return &info, height, nil
}

func printRuntimeShow(w io.Writer, o *runtimeShowOutput) {
	rt := &o.Summary.Runtime
	fmt.Fprintf(w, "Runtime %s at height %d (epoch %d): %s\n", rt.ID, o.Height, o.Epoch, o.Summary.runtimeStatus())
	if o.Summary.Suspended {
		fmt.Fprintln(w, "  suspended: no committees; it resumes once nodes register for its active version and its owner has stake")
	}
	fmt.Fprintf(w, "  entity         %s (%s-governed)\n  kind           %s, tee %s\n  genesis        round %d, state root %s\n",
		rt.EntityID, rt.GovernanceModel, rt.Kind, rt.TEEHardware, rt.Genesis.Round, rt.Genesis.StateRoot)
	printDeployments(w, rt, o.Epoch)
	ex, ts, st := &rt.Executor, &rt.TxnScheduler, &rt.Storage
	fmt.Fprintf(w, "  executor       %s + %s, %d stragglers allowed, round timeout %d blocks, ≤ %d messages\n",
		plural(int(ex.GroupSize), "worker"), plural(int(ex.GroupBackupSize), "backup"), ex.AllowedStragglers, ex.RoundTimeout, ex.MaxMessages)
	fmt.Fprintf(w, "  txn scheduler  batches of ≤ %d txs and ≤ %d bytes, flushed after %d ms, proposer timeout %d blocks\n",
		ts.MaxBatchSize, ts.MaxBatchSizeBytes, ts.BatchFlushTimeout, ts.ProposeBatchTimeout)
	fmt.Fprintf(w, "  storage        %s, %d receipts needed, ≤ %d write-log entries and ≤ %d ops per apply\n",
		plural(int(st.GroupSize), "node"), st.MinWriteReplication, st.MaxApplyWriteLogEntries, st.MaxApplyOps)
	fmt.Fprintf(w, "  constraints    executor %s; storage %s\n",
		describeConstraints(rt.Constraints.Executor, ex.GroupSize), describeConstraints(rt.Constraints.Storage, st.GroupSize))
	switch a := rt.AdmissionPolicy; {
	case a.EntityWhitelist != nil:
		fmt.Fprintf(w, "  admission      entity whitelist of %d entities\n", len(a.EntityWhitelist.Entities))
	default:
		fmt.Fprintln(w, "  admission      any node")
	}
}

func printDeployments(w io.Writer, rt *registry.Runtime, epoch beacon.EpochTime) {
	active := rt.ActiveDeployment(epoch)
	for i := range rt.Deployments {
		d := &rt.Deployments[i]
		state := "old"
		switch {
		case d == active:
			state = "active"
		case d.ValidFrom > epoch:
			state = "pending"
		}
		fmt.Fprintf(w, "  deployment     %s from epoch %d, bundle %s (%s)\n", d.Version, d.ValidFrom, d.BundleChecksum, state)
	}
}

func describeConstraints(c registry.RoleConstraints, groupSize uint16) string {
	perEntity := "no per-entity limit"
	if c.MaxNodesPerEntity > 0 {
		perEntity = fmt.Sprintf("≤ %d nodes per entity", c.MaxNodesPerEntity)
	}
	return fmt.Sprintf("%s, elected from ≥ %d candidates", perEntity, c.MinPool(groupSize))
}
