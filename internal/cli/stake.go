package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

func newStakeCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stake",
		Short: "Move tokens and stake, and show accounts, through a running node",
		Long: "Each command talks to a running node's gRPC socket (--socket PATH, or --datadir DIR for " +
			"the socket in a data directory). Transactions are signed with --key FILE or the entity key " +
			"of --datadir; the nonce is fetched from the node, and the fee defaults to the method's gas " +
			"cost at the chain's minimum gas price. Each waits until a block includes the transaction.",
	}
	cmd.AddCommand(
		newStakeTxCommand(s, stakeTransfer),
		newStakeTxCommand(s, stakeEscrow),
		newStakeTxCommand(s, stakeReclaim),
		newStakeAccountCommand(s),
	)
	return cmd
}

// stakeTxKind describes one transaction command.
type stakeTxKind struct {
	use, short string
	method     transaction.MethodName
	gasOp      string
	// counterparty and value name the address and quantity flags.
	counterparty, value string
	body                func(addr staking.Address, q quantity.Quantity) any
}

var (
	stakeTransfer = stakeTxKind{
		use: "transfer --to ADDRESS --amount N", short: "Transfer tokens from the signer's general balance",
		method: staking.MethodTransfer, gasOp: staking.GasOpTransfer, counterparty: "to", value: "amount",
		body: func(a staking.Address, q quantity.Quantity) any { return &staking.Transfer{To: a, Amount: q} },
	}
	stakeEscrow = stakeTxKind{
		use: "escrow --to ADDRESS --amount N", short: "Delegate tokens to an account's escrow (add escrow)",
		method: staking.MethodAddEscrow, gasOp: staking.GasOpAddEscrow, counterparty: "to", value: "amount",
		body: func(a staking.Address, q quantity.Quantity) any { return &staking.Escrow{Account: a, Amount: q} },
	}
	stakeReclaim = stakeTxKind{
		use: "reclaim --from ADDRESS --shares N", short: "Start debonding shares of a delegation (reclaim escrow)",
		method: staking.MethodReclaimEscrow, gasOp: staking.GasOpReclaimEscrow, counterparty: "from", value: "shares",
		body: func(a staking.Address, q quantity.Quantity) any { return &staking.ReclaimEscrow{Account: a, Shares: q} },
	}
)

// stakeTxFlags are the flags of a transaction command.
type stakeTxFlags struct {
	node         nodeFlags
	signer       signerFlags
	counterparty string
	value        string
	fee          string
	gas          uint64
	asJSON       bool
}

// eventOutput is an event as the CLI prints it: its kind and decoded value (nil for a kind
// this build does not know).
type eventOutput struct {
	Kind  string          `json:"kind"`
	Value consensus.Event `json:"value,omitempty"`
}

// stakeTxOutput is what a transaction command prints.
type stakeTxOutput struct {
	Method    transaction.MethodName `json:"method"`
	TxHash    hash.Hash              `json:"tx_hash"`
	Signer    staking.Address        `json:"signer"`
	Nonce     uint64                 `json:"nonce"`
	Fee       quantity.Quantity      `json:"fee"`
	Gas       transaction.Gas        `json:"gas"`
	Height    int64                  `json:"height"`
	Index     int                    `json:"index"`
	GasUsed   int64                  `json:"gas_used"`
	Error     *cerrors.Wire          `json:"error,omitempty"`
	Events    []eventOutput          `json:"events"`
	SignerNow *staking.Account       `json:"signer_account,omitempty"`
}

func newStakeTxCommand(s Streams, k stakeTxKind) *cobra.Command {
	var f stakeTxFlags
	cmd := &cobra.Command{
		Use:   k.use,
		Short: k.short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStakeTx(cmd, s, k, &f)
		},
	}
	f.node.register(cmd)
	f.signer.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.counterparty, k.counterparty, "", "the account address (hex)")
	fl.StringVar(&f.value, k.value, "", "the "+k.value+" (a decimal integer)")
	fl.StringVar(&f.fee, "fee", "", "the fee amount (default: gas × the chain's minimum gas price)")
	fl.Uint64Var(&f.gas, "gas", 0, "the gas limit (default: the method's gas cost)")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired(k.counterparty)
	_ = cmd.MarkFlagRequired(k.value)
	return cmd
}

func runStakeTx(cmd *cobra.Command, s Streams, k stakeTxKind, f *stakeTxFlags) error {
	var to staking.Address
	if err := to.UnmarshalText([]byte(f.counterparty)); err != nil {
		return fmt.Errorf("--%s: %w", k.counterparty, err)
	}
	value, err := quantity.Parse(f.value)
	if err != nil {
		return fmt.Errorf("--%s: %w", k.value, err)
	}
	signer, c, err := openTx(&f.node, &f.signer)
	if err != nil {
		return err
	}
	defer signer.Reset()
	defer c.Close()
	ctx := cmd.Context()
	fee, err := c.DefaultFee(ctx, k.gasOp)
	if err != nil {
		return fmt.Errorf("reading the chain's gas costs: %w", err)
	}
	if cmd.Flags().Changed("gas") {
		fee.Gas = transaction.Gas(f.gas)
	}
	if f.fee != "" {
		amount, err := quantity.Parse(f.fee)
		if err != nil {
			return fmt.Errorf("--fee: %w", err)
		}
		fee.Amount = *amount
	}
	raw, txHash, err := c.Sign(ctx, signer, grpcapi.TxParams{Method: k.method, Body: k.body(to, *value), AutoNonce: true, Fee: fee})
	if err != nil {
		return fmt.Errorf("preparing the transaction: %w", err)
	}
	d, err := transaction.Decode(raw)
	if err != nil {
		return err
	}
	out := stakeTxOutput{
		Method: k.method, TxHash: txHash, Signer: staking.NewAddress(signer.Public()),
		Nonce: d.Tx.Nonce, Fee: fee.Amount, Gas: fee.Gas,
	}
	res, txErr := c.SubmitTx(ctx, raw)
	if res == nil {
		return fmt.Errorf("%s rejected: %w", k.method, explainTxError(txErr))
	}
	out.Height, out.Index, out.GasUsed, out.Error = res.Height, res.Index, res.GasUsed, res.Error
	out.Events = decodeEvents(res.Events)
	if acct, err := c.Account(ctx, out.Signer, res.Height); err == nil {
		out.SignerNow = &acct.Account
	}
	if f.asJSON {
		if err := printJSON(s.Out, out); err != nil {
			return err
		}
	} else {
		printStakeTx(s.Out, k, f, &out)
	}
	if txErr != nil {
		return fmt.Errorf("%s failed in block %d (its fee and nonce are spent): %w", k.method, res.Height, txErr)
	}
	return nil
}

// explainTxError adds what to do to the commonest rejections.
func explainTxError(err error) error {
	switch {
	case errors.Is(err, transaction.ErrInvalidNonce):
		return fmt.Errorf("%w (another transaction of this account is pending; retry once it is included)", err)
	case errors.Is(err, staking.ErrInsufficientBalance), errors.Is(err, transaction.ErrInsufficientFeeBalance):
		return fmt.Errorf("%w (check the balance with `atoll stake account`)", err)
	case errors.Is(err, transaction.ErrGasPriceTooLow):
		return fmt.Errorf("%w (raise --fee or leave it out to pay the minimum)", err)
	case errors.Is(err, transaction.ErrOutOfGas):
		return fmt.Errorf("%w (raise --gas or leave it out to use the method's cost)", err)
	}
	return err
}

func decodeEvents(evs []grpcapi.Event) []eventOutput {
	out := make([]eventOutput, 0, len(evs))
	for i := range evs {
		eo := eventOutput{Kind: evs[i].Kind}
		if v, ok, err := evs[i].DecodeKnown(); ok && err == nil {
			eo.Value = v
		}
		out = append(out, eo)
	}
	return out
}

func printStakeTx(w io.Writer, k stakeTxKind, f *stakeTxFlags, o *stakeTxOutput) {
	status := "succeeded"
	if o.Error != nil {
		status = "FAILED: " + cerrors.FromWire(*o.Error).Error()
	}
	fmt.Fprintf(w, "%s %s\n  %s %s, %s %s\n  in block %d (tx %s, index %d)\n  signer %s, nonce %d, fee %s, gas %d used of %d\n",
		o.Method, status, k.counterparty, f.counterparty, k.value, f.value, o.Height, o.TxHash, o.Index, o.Signer, o.Nonce, &o.Fee, o.GasUsed, o.Gas)
	for _, e := range o.Events {
		fmt.Fprintf(w, "  event %s %s\n", e.Kind, eventSummary(e.Value))
	}
	if a := o.SignerNow; a != nil {
		fmt.Fprintf(w, "  signer now: balance %s, nonce %d\n", &a.General.Balance, a.General.Nonce)
	}
}

// eventSummary renders the common events in one line.
func eventSummary(v any) string {
	switch e := v.(type) {
	case *staking.TransferEvent:
		return fmt.Sprintf("%s → %s: %s", e.From, e.To, &e.Amount)
	case *staking.AddEscrowEvent:
		return fmt.Sprintf("%s → escrow %s: %s for %s shares", e.Owner, e.Escrow, &e.Amount, &e.NewShares)
	case *staking.DebondingStartEvent:
		return fmt.Sprintf("%s from escrow %s: %s debonding until epoch %d", e.Owner, e.Escrow, &e.Amount, e.DebondEndTime)
	case *staking.ReclaimEscrowEvent:
		return fmt.Sprintf("%s from escrow %s: %s released", e.Owner, e.Escrow, &e.Amount)
	case nil:
		return "(unknown kind)"
	}
	return fmt.Sprintf("%+v", v)
}

// stakeAccountOutput is what `atoll stake account` prints.
type stakeAccountOutput struct {
	Address     staking.Address                   `json:"address"`
	Height      int64                             `json:"height"`
	Account     staking.Account                   `json:"account"`
	Delegations []staking.DelegationInfo          `json:"delegations"`
	Debonding   []staking.DebondingDelegationInfo `json:"debonding"`
}

func newStakeAccountCommand(s Streams) *cobra.Command {
	var nf nodeFlags
	var address string
	var height int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "account [--address ADDRESS] [--height H]",
		Short: "Show an account: balance, nonce, escrow and delegations",
		Long:  "Shows the account at --address, or the entity account of --datadir.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := accountAddress(address, nf.dataDir)
			if err != nil {
				return err
			}
			c, err := nf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			out, err := queryAccount(cmd.Context(), c, addr, height)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(s.Out, out)
			}
			printAccount(s.Out, out)
			return nil
		},
	}
	nf.register(cmd)
	cmd.Flags().StringVar(&address, "address", "", "the account address (hex); default: the entity account of --datadir")
	cmd.Flags().Int64Var(&height, "height", 0, "the height (default: the latest)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func accountAddress(address, dataDir string) (staking.Address, error) {
	var addr staking.Address
	if address != "" {
		if err := addr.UnmarshalText([]byte(strings.TrimPrefix(address, "0x"))); err != nil {
			return addr, fmt.Errorf("--address: %w", err)
		}
		return addr, nil
	}
	if dataDir == "" {
		return addr, errors.New("which account? pass --address ADDRESS, or --datadir DIR for its entity account")
	}
	var sf signerFlags
	s, err := sf.load(dataDir)
	if err != nil {
		return addr, err
	}
	defer s.Reset()
	return staking.NewAddress(s.Public()), nil
}

func queryAccount(ctx context.Context, c *grpcapi.Client, addr staking.Address, height int64) (*stakeAccountOutput, error) {
	acct, err := c.Account(ctx, addr, height)
	if err != nil {
		return nil, fmt.Errorf("querying account %s: %w", addr, err)
	}
	out := &stakeAccountOutput{Address: addr, Height: acct.Height, Account: acct.Account}
	q := staking.OwnerQuery{Owner: addr}
	if _, err := c.Query(ctx, staking.QueryDelegations, q, &out.Delegations, acct.Height); err != nil {
		return nil, fmt.Errorf("querying delegations of %s: %w", addr, err)
	}
	if _, err := c.Query(ctx, staking.QueryDebondingDelegations, q, &out.Debonding, acct.Height); err != nil {
		return nil, fmt.Errorf("querying debonding delegations of %s: %w", addr, err)
	}
	return out, nil
}

func printAccount(w io.Writer, o *stakeAccountOutput) {
	a := &o.Account
	fmt.Fprintf(w, "Account %s at height %d\n  balance    %s\n  nonce      %d\n  escrow     %s active (%s shares), %s debonding (%s shares)\n",
		o.Address, o.Height, &a.General.Balance, a.General.Nonce,
		&a.Escrow.Active.Balance, &a.Escrow.Active.TotalShares, &a.Escrow.Debonding.Balance, &a.Escrow.Debonding.TotalShares)
	for _, d := range o.Delegations {
		fmt.Fprintf(w, "  delegated  %s to %s (%s shares)\n", &d.Amount, d.Escrow, &d.Shares)
	}
	for _, d := range o.Debonding {
		fmt.Fprintf(w, "  debonding  %s from %s until epoch %d\n", &d.Amount, d.Escrow, d.DebondEndTime)
	}
}
