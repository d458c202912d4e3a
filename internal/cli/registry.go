package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
	atollnode "github.com/atoll-project/atoll/node"
)

func newRegistryCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Register and show entities, nodes and runtimes through a running node",
		Long: "Each command talks to a running node's gRPC socket (--socket PATH, or --datadir DIR for " +
			"the socket in a data directory). Registrations are transactions: signed with the entity key " +
			"of --datadir (or --key FILE), the nonce fetched from the node, the fee the method's gas at the " +
			"chain's minimum gas price; each waits until a block includes it. Descriptors are checked " +
			"locally against the registry's rules before anything is sent.",
	}
	entity := &cobra.Command{Use: "entity", Short: "Register and show entities: the operators that vouch for nodes"}
	entity.AddCommand(newRegistryEntityRegisterCommand(s), newRegistryEntityShowCommand(s))
	nodes := &cobra.Command{Use: "node", Short: "Register, list and show nodes"}
	nodes.AddCommand(newRegistryNodeRegisterCommand(s), newRegistryNodeListCommand(s), newRegistryNodeShowCommand(s))
	runtimes := &cobra.Command{Use: "runtime", Short: "Register, update, list and show runtime descriptors"}
	runtimes.AddCommand(
		newRegistryRuntimeTxCommand(s, false), newRegistryRuntimeTxCommand(s, true),
		newRegistryRuntimeListCommand(s), newRegistryRuntimeShowCommand(s),
	)
	cmd.AddCommand(entity, nodes, runtimes)
	return cmd
}

// registryTxOutput is what a registration prints about its transaction.
type registryTxOutput struct {
	Method  transaction.MethodName `json:"method"`
	TxHash  hash.Hash              `json:"tx_hash"`
	Signer  staking.Address        `json:"signer"`
	Nonce   uint64                 `json:"nonce"`
	Fee     quantity.Quantity      `json:"fee"`
	Gas     transaction.Gas        `json:"gas"`
	Height  int64                  `json:"height"`
	GasUsed int64                  `json:"gas_used"`
	Events  []eventOutput          `json:"events"`
}

// registryFee returns the fee of a registry method: its gas cost plus extra (a node's prepaid
// maintenance), at the chain's minimum gas price.
func registryFee(ctx context.Context, c *grpcapi.Client, p *registry.ConsensusParameters, op string, extra transaction.Gas) (transaction.Fee, error) {
	gas, ok := p.GasCosts[op]
	if !ok {
		return transaction.Fee{}, fmt.Errorf("the chain has no gas cost for %q", op)
	}
	gas += extra
	var sp staking.ConsensusParameters
	if _, err := c.Query(ctx, staking.QueryParams, nil, &sp, 0); err != nil {
		return transaction.Fee{}, fmt.Errorf("reading the chain's gas price: %w", err)
	}
	amount := quantity.NewFromUint64(uint64(gas))
	if err := amount.Mul(&sp.MinGasPrice); err != nil {
		return transaction.Fee{}, fmt.Errorf("fee: %w", err)
	}
	return transaction.Fee{Amount: *amount, Gas: gas}, nil
}

// registryParams queries the registry's consensus parameters.
func registryParams(ctx context.Context, c *grpcapi.Client) (*registry.ConsensusParameters, error) {
	var p registry.ConsensusParameters
	if _, err := c.Query(ctx, registry.QueryParams, nil, &p, 0); err != nil {
		return nil, fmt.Errorf("reading the registry's parameters: %w", err)
	}
	return &p, nil
}

// submitRegistryTx signs a registry transaction with signer, submits it and waits for its
// block. A rejected or failed transaction is an error that says what to do.
func submitRegistryTx(ctx context.Context, c *grpcapi.Client, signer signature.Signer, method transaction.MethodName, body any, fee transaction.Fee) (*registryTxOutput, error) {
	raw, txHash, err := c.Sign(ctx, signer, grpcapi.TxParams{Method: method, Body: body, AutoNonce: true, Fee: fee})
	if err != nil {
		return nil, fmt.Errorf("preparing the transaction: %w", err)
	}
	d, err := transaction.Decode(raw)
	if err != nil {
		return nil, err
	}
	res, txErr := c.SubmitTx(ctx, raw)
	if res == nil {
		return nil, fmt.Errorf("%s rejected: %w", method, explainRegistryError(txErr))
	}
	if txErr != nil {
		return nil, fmt.Errorf("%s failed in block %d (its fee and nonce are spent): %w", method, res.Height, explainRegistryError(txErr))
	}
	return &registryTxOutput{
		Method: method, TxHash: txHash, Signer: staking.NewAddress(signer.Public()), Nonce: d.Tx.Nonce,
		Fee: fee.Amount, Gas: fee.Gas, Height: res.Height, GasUsed: res.GasUsed, Events: decodeEvents(res.Events),
	}, nil
}

// explainRegistryError adds what to do to the registry's commonest rejections.
func explainRegistryError(err error) error {
	switch {
	case errors.Is(err, registry.ErrNoSuchEntity):
		return fmt.Errorf("%w (register the entity first: `atoll registry entity register --datadir DIR`)", err)
	case errors.Is(err, registry.ErrNodeNotListed):
		return fmt.Errorf("%w (list the node in its entity: `atoll registry entity register --datadir DIR --node ID`)", err)
	case errors.Is(err, registry.ErrNoSuchRuntime):
		return fmt.Errorf("%w (`atoll registry runtime list` shows the registered runtimes)", err)
	case errors.Is(err, staking.ErrInsufficientStake):
		return fmt.Errorf("%w (add escrow to the entity's account: `atoll stake escrow`)", err)
	}
	return explainTxError(err)
}

func printRegistryTx(w io.Writer, o *registryTxOutput) {
	fmt.Fprintf(w, "  included in block %d (tx %s)\n  signer %s, nonce %d, fee %s, gas %d used of %d\n",
		o.Height, o.TxHash, o.Signer, o.Nonce, &o.Fee, o.GasUsed, o.Gas)
}

// parsePublicKey parses a hex key given to flag.
func parsePublicKey(flag, s string) (signature.PublicKey, error) {
	var pk signature.PublicKey
	if err := pk.UnmarshalText([]byte(strings.TrimPrefix(s, "0x"))); err != nil {
		return pk, fmt.Errorf("--%s %q: %w", flag, s, err)
	}
	return pk, nil
}

// dataDirIdentity returns the public keys of a data directory.
func dataDirIdentity(dataDir string) (atollnode.PublicIdentity, error) {
	id, err := atollnode.LoadIdentity(dataDir)
	if err != nil {
		return atollnode.PublicIdentity{}, err
	}
	defer id.Reset()
	return id.Public, nil
}

// entityRegisterFlags are the options of `atoll registry entity register`.
type entityRegisterFlags struct {
	node    nodeFlags
	signer  signerFlags
	nodes   []string
	replace bool
	asJSON  bool
}

// entityRegisterOutput is what `atoll registry entity register` prints.
type entityRegisterOutput struct {
	Entity registry.Entity `json:"entity"`
	// Added and Kept are the listed nodes that are new and those already listed before.
	Added []signature.PublicKey `json:"added"`
	Kept  []signature.PublicKey `json:"kept"`
	// Dropped are nodes the previous registration listed that this one does not (--replace).
	Dropped []signature.PublicKey `json:"dropped"`
	Tx      *registryTxOutput     `json:"tx"`
}

func newRegistryEntityRegisterCommand(s Streams) *cobra.Command {
	var f entityRegisterFlags
	cmd := &cobra.Command{
		Use:   "register --datadir DIR [--node ID ...] [--replace]",
		Short: "Register or update the entity, listing the nodes it vouches for",
		Long: "Builds the entity descriptor from the entity key (entity.pem of --datadir, or --key FILE), " +
			"listing the nodes given with --node (default: the data directory's own node key), signs it " +
			"for the node's chain, submits it and waits for its block. Nodes the entity already lists are " +
			"kept unless --replace is given. A node registers only while its entity lists it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEntityRegister(cmd.Context(), s, &f) },
	}
	f.node.register(cmd)
	f.signer.register(cmd)
	cmd.Flags().StringArrayVar(&f.nodes, "node", nil, "a node key (hex) the entity vouches for (repeatable; default: the node key of --datadir)")
	cmd.Flags().BoolVar(&f.replace, "replace", false, "list exactly the given nodes, dropping the ones listed before")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	return cmd
}

func runEntityRegister(ctx context.Context, s Streams, f *entityRegisterFlags) error {
	var given []signature.PublicKey
	for _, n := range f.nodes {
		pk, err := parsePublicKey("node", n)
		if err != nil {
			return err
		}
		given = append(given, pk)
	}
	if len(given) == 0 {
		if f.node.dataDir == "" {
			return errors.New("which nodes? pass --node ID (repeatable), or --datadir DIR to list its node key")
		}
		pub, err := dataDirIdentity(f.node.dataDir)
		if err != nil {
			return err
		}
		given = append(given, pub.Node)
	}
	signer, c, err := openTx(&f.node, &f.signer)
	if err != nil {
		return err
	}
	defer signer.Reset()
	defer c.Close()

	out := entityRegisterOutput{Entity: registry.Entity{ID: signer.Public()}, Added: []signature.PublicKey{}, Kept: []signature.PublicKey{}, Dropped: []signature.PublicKey{}}
	var prev registry.Entity
	_, err = c.Query(ctx, registry.QueryEntity, registry.IDQuery{ID: signer.Public()}, &prev, 0)
	switch {
	case errors.Is(err, registry.ErrNoSuchEntity):
	case err != nil:
		return fmt.Errorf("querying the entity: %w", err)
	}
	for _, n := range given {
		if !out.Entity.HasNode(n) {
			out.Entity.Nodes = append(out.Entity.Nodes, n)
			if prev.HasNode(n) {
				out.Kept = append(out.Kept, n)
			} else {
				out.Added = append(out.Added, n)
			}
		}
	}
	for _, n := range prev.Nodes {
		switch {
		case out.Entity.HasNode(n):
		case f.replace:
			out.Dropped = append(out.Dropped, n)
		default:
			out.Entity.Nodes = append(out.Entity.Nodes, n)
			out.Kept = append(out.Kept, n)
		}
	}
	if err := out.Entity.ValidateBasic(); err != nil {
		return fmt.Errorf("the entity descriptor: %w", err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		return fmt.Errorf("node status: %w", err)
	}
	signed, err := registry.SignEntity(signer, registry.RegisterEntitySignatureContext.ForChain(st.ChainContext), &out.Entity)
	if err != nil {
		return err
	}
	p, err := registryParams(ctx, c)
	if err != nil {
		return err
	}
	fee, err := registryFee(ctx, c, p, registry.GasOpRegisterEntity, 0)
	if err != nil {
		return err
	}
	if out.Tx, err = submitRegistryTx(ctx, c, signer, registry.MethodRegisterEntity, signed, fee); err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(s.Out, out)
	}
	fmt.Fprintf(s.Out, "Registered entity %s\n", out.Entity.ID)
	for _, group := range []struct {
		label string
		keys  []signature.PublicKey
	}{{"added", out.Added}, {"kept", out.Kept}, {"dropped", out.Dropped}} {
		for _, k := range group.keys {
			fmt.Fprintf(s.Out, "  node %s (%s)\n", k, group.label)
		}
	}
	printRegistryTx(s.Out, out.Tx)
	return nil
}

// entityShowOutput is what `atoll registry entity show` prints.
type entityShowOutput struct {
	Height  int64               `json:"height"`
	Entity  registry.Entity     `json:"entity"`
	Address staking.Address     `json:"address"`
	Nodes   []entityNodeSummary `json:"nodes"`
}

// entityNodeSummary is one node an entity lists, and whether it is registered.
type entityNodeSummary struct {
	ID         signature.PublicKey `json:"id"`
	Registered bool                `json:"registered"`
	Expiration uint64              `json:"expiration,omitempty"`
	Roles      node.RolesMask      `json:"roles,omitempty"`
}

func newRegistryEntityShowCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var id string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--id ENTITY]",
		Short: "Show a registered entity and the nodes it lists",
		Long:  "Shows the entity --id, or the entity of --datadir.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pk, err := keyOrDataDir(id, nf.dataDir, "entity", func(p atollnode.PublicIdentity) signature.PublicKey { return p.Entity })
			if err != nil {
				return err
			}
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			out := entityShowOutput{Address: staking.NewAddress(pk), Nodes: []entityNodeSummary{}}
			out.Height, err = c.Query(ctx, registry.QueryEntity, registry.IDQuery{ID: pk}, &out.Entity, 0)
			if errors.Is(err, registry.ErrNoSuchEntity) {
				return fmt.Errorf("entity %s is not registered (register it with `atoll registry entity register --datadir DIR`)", pk)
			}
			if err != nil {
				return fmt.Errorf("querying entity %s: %w", pk, err)
			}
			for _, n := range out.Entity.Nodes {
				sum := entityNodeSummary{ID: n}
				var desc node.Node
				_, err := c.Query(ctx, registry.QueryNode, registry.IDQuery{ID: n}, &desc, out.Height)
				switch {
				case err == nil:
					sum.Registered, sum.Expiration, sum.Roles = true, desc.Expiration, desc.Roles
				case !errors.Is(err, registry.ErrNoSuchNode):
					return fmt.Errorf("querying node %s: %w", n, err)
				}
				out.Nodes = append(out.Nodes, sum)
			}
			if asJSON {
				return printJSON(s.Out, out)
			}
			fmt.Fprintf(s.Out, "Entity %s at height %d\n  account  %s\n  nodes    %d listed\n", out.Entity.ID, out.Height, out.Address, len(out.Nodes))
			for _, n := range out.Nodes {
				if n.Registered {
					fmt.Fprintf(s.Out, "    %s  registered, %s, expires after epoch %d\n", n.ID, n.Roles, n.Expiration)
				} else {
					fmt.Fprintf(s.Out, "    %s  not registered\n", n.ID)
				}
			}
			return nil
		},
	}
	nf.register(cmd)
	cmd.Flags().StringVar(&id, "id", "", "the entity key (hex); default: the entity of --datadir")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// keyOrDataDir returns the key given as hex, or pick's key of the data directory.
func keyOrDataDir(id, dataDir, what string, pick func(atollnode.PublicIdentity) signature.PublicKey) (signature.PublicKey, error) {
	if id != "" {
		return parsePublicKey("id", id)
	}
	if dataDir == "" {
		return signature.PublicKey{}, fmt.Errorf("which %s? pass --id KEY, or --datadir DIR for its own %s key", what, what)
	}
	pub, err := dataDirIdentity(dataDir)
	if err != nil {
		return signature.PublicKey{}, err
	}
	return pick(pub), nil
}
