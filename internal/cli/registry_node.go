package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/transaction"
	atollnode "github.com/atoll-project/atoll/node"
)

// nodeRegisterFlags are the options of `atoll registry node register`.
type nodeRegisterFlags struct {
	node             nodeFlags
	signer           signerFlags
	runtimes         []string
	roles            string
	expirationEpochs uint64
	tlsAddresses     []string
	consensusAddrs   []string
	softwareVersion  string
	asJSON           bool
}

// nodeRegisterOutput is what `atoll registry node register` prints.
type nodeRegisterOutput struct {
	Node           node.Node         `json:"node"`
	Epoch          beacon.EpochTime  `json:"epoch"`
	MaintenanceGas transaction.Gas   `json:"maintenance_gas"`
	Tx             *registryTxOutput `json:"tx"`
}

func newRegistryNodeRegisterCommand(s Streams) *cobra.Command {
	var f nodeRegisterFlags
	cmd := &cobra.Command{
		Use:   "register --datadir DIR --roles ROLES [--runtime ID@VERSION[:CHECKSUM] ...] [--expiration-epochs N]",
		Short: "Register or renew the node of a data directory",
		Long: "Builds the node descriptor from the keys of --datadir (node, TLS, consensus) and the flags, " +
			"signs it with the node key for the node's chain and submits it, signed and paid for by the " +
			"entity key (or --key FILE), then waits for its block. The fee includes the prepaid runtime " +
			"maintenance: epoch_maintenance_gas per runtime and per epoch paid ahead. A runtime entry " +
			"without :CHECKSUM takes the bundle checksum of that version's deployment in the runtime's " +
			"descriptor. The entity must list the node first (`atoll registry entity register`).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runNodeRegister(cmd.Context(), s, &f) },
	}
	f.node.register(cmd)
	f.signer.register(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.runtimes, "runtime", nil, "a runtime version the node runs, ID@VERSION[:CHECKSUM] (repeatable)")
	fl.StringVar(&f.roles, "roles", "", "the node's roles, comma-separated: validator, compute, storage, client")
	fl.Uint64Var(&f.expirationEpochs, "expiration-epochs", 2, "how many epochs after the current one the registration holds")
	fl.StringArrayVar(&f.tlsAddresses, "tls-address", nil, "host:port where other nodes reach the node's gRPC over TLS (repeatable; needed for compute and storage)")
	fl.StringArrayVar(&f.consensusAddrs, "consensus-address", nil, "host:port of the node's CometBFT P2P listener (repeatable); its P2P ID is taken from --datadir")
	fl.StringVar(&f.softwareVersion, "software-version", "atoll", "free text naming the node software")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("roles")
	return cmd
}

func runNodeRegister(ctx context.Context, s Streams, f *nodeRegisterFlags) error {
	if f.node.dataDir == "" {
		return errors.New("pass --datadir DIR: the node's keys (node.pem, tls.pem, consensus) are read from it")
	}
	roles, err := node.ParseRoles(f.roles)
	if err != nil {
		return fmt.Errorf("--roles: %w", err)
	}
	id, err := atollnode.LoadIdentity(f.node.dataDir)
	if err != nil {
		return err
	}
	defer id.Reset()
	signer, c, err := openTx(&f.node, &f.signer)
	if err != nil {
		return err
	}
	defer signer.Reset()
	defer c.Close()

	st, err := c.Status(ctx)
	if err != nil {
		return fmt.Errorf("node status: %w", err)
	}
	p, err := registryParams(ctx, c)
	if err != nil {
		return err
	}
	if f.expirationEpochs < 1 || f.expirationEpochs > uint64(p.MaxNodeExpiration) {
		return fmt.Errorf("--expiration-epochs %d out of range 1..%d (the chain's max_node_expiration)", f.expirationEpochs, p.MaxNodeExpiration)
	}
	n := node.Node{
		ID: id.Public.Node, EntityID: id.Public.Entity, Expiration: uint64(st.Epoch) + f.expirationEpochs,
		TLS:             node.TLSInfo{PubKey: id.Public.TLS, Addresses: f.tlsAddresses},
		Consensus:       node.ConsensusInfo{ID: id.Public.Consensus},
		Roles:           roles,
		SoftwareVersion: f.softwareVersion,
	}
	for _, a := range f.consensusAddrs {
		n.Consensus.Addresses = append(n.Consensus.Addresses, id.Public.P2PID+"@"+a)
	}
	for _, spec := range f.runtimes {
		rt, err := parseNodeRuntime(ctx, c, spec)
		if err != nil {
			return err
		}
		n.Runtimes = append(n.Runtimes, *rt)
	}
	if err := n.ValidateBasic(); err != nil {
		return fmt.Errorf("the node descriptor: %w", err)
	}
	if err := checkEntityListsNode(ctx, c, n.EntityID, n.ID); err != nil {
		return err
	}
	var previous *node.Node
	var prev node.Node
	switch _, err := c.Query(ctx, registry.QueryNode, registry.IDQuery{ID: n.ID}, &prev, 0); {
	case err == nil:
		previous = &prev
	case !errors.Is(err, registry.ErrNoSuchNode):
		return fmt.Errorf("querying the node's current registration: %w", err)
	}
	out := nodeRegisterOutput{Node: n, Epoch: st.Epoch}
	if out.MaintenanceGas, err = registry.MaintenanceFee(p, &n, st.Epoch, previous); err != nil {
		return err
	}
	signed, err := node.Sign(id.Node, node.RegisterSignatureContext.ForChain(st.ChainContext), &n)
	if err != nil {
		return err
	}
	fee, err := registryFee(ctx, c, p, registry.GasOpRegisterNode, out.MaintenanceGas)
	if err != nil {
		return err
	}
	if out.Tx, err = submitRegistryTx(ctx, c, signer, registry.MethodRegisterNode, signed, fee); err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(s.Out, out)
	}
	fmt.Fprintf(s.Out, "Registered node %s of entity %s\n  roles       %s\n  expiration  epoch %d (registered in epoch %d; %d gas of prepaid maintenance)\n",
		n.ID, n.EntityID, n.Roles, n.Expiration, out.Epoch, out.MaintenanceGas)
	for _, rt := range n.Runtimes {
		fmt.Fprintf(s.Out, "  runtime     %s %s (bundle %s)\n", rt.ID, rt.Version, rt.BundleChecksum)
	}
	printRegistryTx(s.Out, out.Tx)
	return nil
}

// parseNodeRuntime parses ID@VERSION[:CHECKSUM]; without a checksum it takes the one the
// runtime's descriptor names for that version.
func parseNodeRuntime(ctx context.Context, c *grpcapi.Client, spec string) (*node.Runtime, error) {
	idText, rest, ok := strings.Cut(spec, "@")
	if !ok {
		return nil, fmt.Errorf("--runtime %q: want ID@VERSION[:CHECKSUM]", spec)
	}
	verText, sumText, hasSum := strings.Cut(rest, ":")
	var rt node.Runtime
	if err := rt.ID.UnmarshalText([]byte(idText)); err != nil {
		return nil, fmt.Errorf("--runtime %q: runtime ID: %w", spec, err)
	}
	v, err := version.Parse(verText)
	if err != nil {
		return nil, fmt.Errorf("--runtime %q: %w", spec, err)
	}
	rt.Version = v
	if hasSum {
		if err := rt.BundleChecksum.UnmarshalText([]byte(sumText)); err != nil {
			return nil, fmt.Errorf("--runtime %q: bundle checksum: %w", spec, err)
		}
		return &rt, nil
	}
	var info registry.RuntimeInfo
	if _, err := c.Query(ctx, registry.QueryRuntime, registry.RuntimeQuery{ID: rt.ID}, &info, 0); err != nil {
		return nil, fmt.Errorf("--runtime %q: %w", spec, explainRegistryError(err))
	}
	d := info.Runtime.DeploymentForVersion(v)
	if d == nil {
		var have []string
		for _, d := range info.Runtime.Deployments {
			have = append(have, d.Version.String())
		}
		return nil, fmt.Errorf("--runtime %q: the runtime has no deployment of version %s (it has %s); pass the bundle checksum as ID@VERSION:CHECKSUM",
			spec, v, strings.Join(have, ", "))
	}
	rt.BundleChecksum = d.BundleChecksum
	return &rt, nil
}

// checkEntityListsNode fails, saying what to do, unless the entity is registered and lists
// the node.
func checkEntityListsNode(ctx context.Context, c *grpcapi.Client, entity, id signature.PublicKey) error {
	var e registry.Entity
	_, err := c.Query(ctx, registry.QueryEntity, registry.IDQuery{ID: entity}, &e, 0)
	switch {
	case errors.Is(err, registry.ErrNoSuchEntity):
		return fmt.Errorf("entity %s is not registered: register it listing the node first (`atoll registry entity register --datadir DIR`)", entity)
	case err != nil:
		return fmt.Errorf("querying the node's entity: %w", err)
	case !e.HasNode(id):
		return fmt.Errorf("entity %s does not list node %s: add it first (`atoll registry entity register --datadir DIR --node %s`)", entity, id, id)
	}
	return nil
}

// nodeListOutput is what `atoll registry node list` prints.
type nodeListOutput struct {
	Height int64            `json:"height"`
	Epoch  beacon.EpochTime `json:"epoch"`
	Nodes  []node.Node      `json:"nodes"`
}

func newRegistryNodeListCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var entity, runtime string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--entity ID] [--runtime ID]",
		Short: "List registered nodes (expired ones are kept for the debonding interval)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var byEntity *signature.PublicKey
			if entity != "" {
				pk, err := parsePublicKey("entity", entity)
				if err != nil {
					return err
				}
				byEntity = &pk
			}
			var byRuntime *namespace.Namespace
			if runtime != "" {
				var id namespace.Namespace
				if err := id.UnmarshalText([]byte(runtime)); err != nil {
					return fmt.Errorf("--runtime %q: %w", runtime, err)
				}
				byRuntime = &id
			}
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			var all []node.Node
			height, err := c.Query(ctx, registry.QueryNodes, nil, &all, 0)
			if err != nil {
				return fmt.Errorf("querying nodes: %w", err)
			}
			epoch, err := epochAt(ctx, c, height)
			if err != nil {
				return err
			}
			out := nodeListOutput{Height: height, Epoch: epoch, Nodes: []node.Node{}}
			for _, n := range all {
				if (byEntity == nil || n.EntityID == *byEntity) && (byRuntime == nil || n.HasRuntime(*byRuntime)) {
					out.Nodes = append(out.Nodes, n)
				}
			}
			if asJSON {
				return printJSON(s.Out, out)
			}
			return printNodeList(s.Out, &out)
		},
	}
	nf.register(cmd)
	cmd.Flags().StringVar(&entity, "entity", "", "only the nodes of this entity (hex key)")
	cmd.Flags().StringVar(&runtime, "runtime", "", "only the nodes registered for this runtime (hex ID)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printNodeList(w io.Writer, o *nodeListOutput) error {
	if len(o.Nodes) == 0 {
		_, err := fmt.Fprintf(w, "No registered nodes at height %d (epoch %d). Register one with `atoll registry node register`.\n", o.Height, o.Epoch)
		return err
	}
	fmt.Fprintf(w, "%s at height %d (epoch %d)\n", plural(len(o.Nodes), "node"), o.Height, o.Epoch)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tENTITY\tROLES\tEXPIRES\tRUNTIMES")
	for _, n := range o.Nodes {
		expires := fmt.Sprintf("epoch %d", n.Expiration)
		if n.IsExpired(uint64(o.Epoch)) {
			expires += " (expired)"
		}
		var rts []string
		for _, rt := range n.Runtimes {
			rts = append(rts, shortHex(rt.ID.String())+"@"+rt.Version.String())
		}
		if len(rts) == 0 {
			rts = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.ID, shortHex(n.EntityID.String()), n.Roles, expires, strings.Join(rts, " "))
	}
	return tw.Flush()
}

// shortHex abbreviates a long hex string for tables; the show commands print it whole.
func shortHex(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:8] + "…" + s[len(s)-4:]
}

// nodeShowOutput is what `atoll registry node show` prints.
type nodeShowOutput struct {
	Height int64               `json:"height"`
	Epoch  beacon.EpochTime    `json:"epoch"`
	Node   node.Node           `json:"node"`
	Status registry.NodeStatus `json:"status"`
	// Listed says whether the node's entity (still) lists it.
	Listed bool `json:"listed_by_entity"`
}

func newRegistryNodeShowCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var id string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--id NODE]",
		Short: "Show a registered node: descriptor, expiration, freeze and liveness faults",
		Long:  "Shows the node --id, or the node of --datadir.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pk, err := keyOrDataDir(id, nf.dataDir, "node", func(p atollnode.PublicIdentity) signature.PublicKey { return p.Node })
			if err != nil {
				return err
			}
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			var out nodeShowOutput
			out.Height, err = c.Query(ctx, registry.QueryNode, registry.IDQuery{ID: pk}, &out.Node, 0)
			if errors.Is(err, registry.ErrNoSuchNode) {
				return fmt.Errorf("node %s is not registered (register it with `atoll registry node register --datadir DIR`)", pk)
			}
			if err != nil {
				return fmt.Errorf("querying node %s: %w", pk, err)
			}
			if _, err := c.Query(ctx, registry.QueryNodeStatus, registry.IDQuery{ID: pk}, &out.Status, out.Height); err != nil {
				return fmt.Errorf("querying the status of node %s: %w", pk, err)
			}
			epoch, err := epochAt(ctx, c, out.Height)
			if err != nil {
				return err
			}
			out.Epoch = epoch
			var ent registry.Entity
			if _, err := c.Query(ctx, registry.QueryEntity, registry.IDQuery{ID: out.Node.EntityID}, &ent, out.Height); err == nil {
				out.Listed = ent.HasNode(pk)
			} else if !errors.Is(err, registry.ErrNoSuchEntity) {
				return fmt.Errorf("querying the node's entity: %w", err)
			}
			if asJSON {
				return printJSON(s.Out, out)
			}
			printNodeShow(s.Out, &out)
			return nil
		},
	}
	nf.register(cmd)
	cmd.Flags().StringVar(&id, "id", "", "the node key (hex); default: the node of --datadir")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printNodeShow(w io.Writer, o *nodeShowOutput) {
	n := &o.Node
	listed := "lists it"
	if !o.Listed {
		listed = "DOES NOT list it: it cannot renew its registration"
	}
	live := "live"
	if n.IsExpired(uint64(o.Epoch)) {
		live = "EXPIRED"
	}
	frozen := "not frozen"
	if o.Status.IsFrozen(o.Epoch) {
		frozen = fmt.Sprintf("FROZEN until epoch %d: elected nowhere, cannot re-register", o.Status.FreezeEndTime)
	}
	fmt.Fprintf(w, "Node %s at height %d (epoch %d)\n  entity      %s (%s)\n  roles       %s\n  expiration  epoch %d (%s)\n  status      %s\n",
		n.ID, o.Height, o.Epoch, n.EntityID, listed, n.Roles, n.Expiration, live, frozen)
	fmt.Fprintf(w, "  consensus   %s\n  tls         %s\n", strings.TrimSpace(n.Consensus.ID.String()+" "+strings.Join(n.Consensus.Addresses, " ")),
		strings.TrimSpace(n.TLS.PubKey.String()+" "+strings.Join(n.TLS.Addresses, " ")))
	if n.SoftwareVersion != "" {
		fmt.Fprintf(w, "  software    %s\n", n.SoftwareVersion)
	}
	for _, rt := range n.Runtimes {
		tee := ""
		if t := rt.Capabilities.TEE; t != nil {
			tee = fmt.Sprintf(", tee %s rak %s", t.Hardware, t.RAK)
		}
		fmt.Fprintf(w, "  runtime     %s %s (bundle %s%s)\n", rt.ID, rt.Version, rt.BundleChecksum, tee)
	}
	for _, id := range sortedNamespaces(o.Status.Faults) {
		f := o.Status.Faults[id]
		excluded := ""
		if o.Status.IsSuspended(id, o.Epoch) {
			excluded = fmt.Sprintf(", excluded from elections until epoch %d", f.SuspendedUntil)
		}
		fmt.Fprintf(w, "  faults      runtime %s: %d liveness failures%s\n", id, f.Failures, excluded)
	}
}

func sortedNamespaces[V any](m map[namespace.Namespace]V) []namespace.Namespace {
	out := make([]namespace.Namespace, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b namespace.Namespace) int { return bytes.Compare(a[:], b[:]) })
	return out
}
