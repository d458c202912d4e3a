package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/genesis"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/node"
)

func newGenesisCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "genesis",
		Short: "Write genesis documents",
	}
	cmd.AddCommand(newGenesisInitCommand(s))
	return cmd
}

// genesisInitFlags are the options of `atoll genesis init`.
type genesisInitFlags struct {
	out           string
	chainID       string
	dataDirs      []string
	validators    int
	nodesDir      string
	fund          []string
	balance       uint64
	selfEscrow    uint64
	epochInterval int64
	genesisTime   string
	benchAccounts int
	benchSeed     string
	asJSON        bool
}

// genesisValidatorOutput describes one validator of a written genesis document.
type genesisValidatorOutput struct {
	DataDir      string              `json:"datadir"`
	EntityID     signature.PublicKey `json:"entity_id"`
	Address      staking.Address     `json:"address"`
	ConsensusKey signature.PublicKey `json:"consensus_key"`
}

// genesisInitOutput is what `atoll genesis init` prints.
type genesisInitOutput struct {
	File            string                   `json:"file"`
	ChainID         string                   `json:"chain_id"`
	ChainContext    hash.Hash                `json:"chain_context"`
	CometBFTChainID string                   `json:"cometbft_chain_id"`
	GenesisTime     time.Time                `json:"genesis_time"`
	Validators      []genesisValidatorOutput `json:"validators"`
	FundedAccounts  int                      `json:"funded_accounts"`
	Balance         uint64                   `json:"balance"`
	BenchAccounts   int                      `json:"bench_accounts"`
	BenchSeed       string                   `json:"bench_seed,omitempty"`
}

func newGenesisInitCommand(s Streams) *cobra.Command {
	var f genesisInitFlags
	cmd := &cobra.Command{
		Use:   "init --out FILE (--datadir DIR... | --validators N --nodes-dir DIR)",
		Short: "Write a development genesis document",
		Long: "Writes a development chain's genesis document: the validators' entities funded and " +
			"self-escrowed, zero stake thresholds, a zero gas price and default gas costs.\n\n" +
			"Validators come from existing data directories (--datadir, repeatable; their keys from " +
			"`atoll keys generate`) or are generated: --validators N --nodes-dir DIR writes keys into " +
			"DIR/node-0 ... DIR/node-N-1 and the genesis document into each as genesis.json.\n\n" +
			"--bench-accounts K funds K accounts whose keys derive from --bench-seed, for " +
			"`atoll bench transfers`. Those keys are public (anyone who knows the seed can spend): " +
			"TEST CHAINS ONLY.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			out, err := genesisInit(f)
			if err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(s.Out, out)
			}
			return printGenesisInit(s.Out, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "the genesis file to write")
	fl.StringVar(&f.chainID, "chain-id", "atoll-devnet", "the chain's human name")
	fl.StringArrayVar(&f.dataDirs, "datadir", nil, "a validator's data directory with keys (repeatable)")
	fl.IntVar(&f.validators, "validators", 0, "generate this many validators' keys under --nodes-dir")
	fl.StringVar(&f.nodesDir, "nodes-dir", "", "where --validators writes the nodes' data directories")
	fl.StringArrayVar(&f.fund, "fund", nil, "an account address (hex) to fund with --balance (repeatable)")
	fl.Uint64Var(&f.balance, "balance", 1_000_000_000_000, "the general balance of every funded account")
	fl.Uint64Var(&f.selfEscrow, "self-escrow", 1_000_000, "each validator entity's escrow with itself")
	fl.Int64Var(&f.epochInterval, "epoch-interval", 100, "blocks per epoch")
	fl.StringVar(&f.genesisTime, "genesis-time", "", "the genesis time, RFC 3339 (default: now)")
	fl.IntVar(&f.benchAccounts, "bench-accounts", 0, "fund this many TEST-ONLY bench accounts derived from --bench-seed")
	fl.StringVar(&f.benchSeed, "bench-seed", defaultBenchSeed, "the seed of the bench accounts' keys (public: test chains only)")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func genesisInit(f genesisInitFlags) (*genesisInitOutput, error) {
	if (len(f.dataDirs) > 0) == (f.validators > 0) {
		return nil, errors.New("name the validators: either --datadir DIR (repeatable) or --validators N --nodes-dir DIR")
	}
	if f.validators > 0 && f.nodesDir == "" {
		return nil, errors.New("--validators needs --nodes-dir DIR, where the nodes' keys are written")
	}
	if f.benchAccounts < 0 || f.benchAccounts > maxBenchAccounts {
		return nil, fmt.Errorf("--bench-accounts %d out of range 0..%d", f.benchAccounts, maxBenchAccounts)
	}
	gt := time.Now()
	if f.genesisTime != "" {
		t, err := time.Parse(time.RFC3339, f.genesisTime)
		if err != nil {
			return nil, fmt.Errorf("--genesis-time: %w", err)
		}
		gt = t
	}
	dirs := f.dataDirs
	if f.validators > 0 {
		for i := range f.validators {
			dir := filepath.Join(f.nodesDir, fmt.Sprintf("node-%d", i))
			if _, err := node.GenerateIdentity(dir); err != nil {
				return nil, err
			}
			dirs = append(dirs, dir)
		}
	}
	p := genesis.DevParams{
		ChainID: f.chainID, GenesisTime: gt, Balance: f.balance, SelfEscrow: f.selfEscrow,
		EpochInterval: f.epochInterval,
	}
	out := &genesisInitOutput{File: f.out, Balance: f.balance, BenchAccounts: f.benchAccounts}
	for _, dir := range dirs {
		id, err := node.LoadIdentity(dir)
		if err != nil {
			return nil, err
		}
		pub := id.Public
		id.Reset()
		p.Validators = append(p.Validators, genesis.DevValidator{EntityID: pub.Entity, ConsensusKey: pub.Consensus})
		out.Validators = append(out.Validators, genesisValidatorOutput{
			DataDir: dir, EntityID: pub.Entity, Address: staking.NewAddress(pub.Entity), ConsensusKey: pub.Consensus,
		})
	}
	for _, a := range f.fund {
		var addr staking.Address
		if err := addr.UnmarshalText([]byte(a)); err != nil {
			return nil, fmt.Errorf("--fund %q: %w", a, err)
		}
		p.Accounts = append(p.Accounts, addr)
	}
	if f.benchAccounts > 0 {
		out.BenchSeed = f.benchSeed
		for i := range f.benchAccounts {
			s := benchSigner(f.benchSeed, i)
			p.Accounts = append(p.Accounts, staking.NewAddress(s.Public()))
			s.Reset()
		}
	}
	doc, err := genesis.DevDocument(p)
	if err != nil {
		return nil, err
	}
	data, err := doc.EncodeJSON()
	if err != nil {
		return nil, err
	}
	if err := writeNewFile(f.out, data); err != nil {
		return nil, err
	}
	if f.validators > 0 {
		for _, dir := range dirs {
			if err := writeNewFile(filepath.Join(dir, "genesis.json"), data); err != nil {
				return nil, err
			}
		}
	}
	out.ChainID = doc.ChainID
	out.ChainContext = doc.ChainContext()
	out.CometBFTChainID = doc.CometBFTChainID()
	out.GenesisTime = doc.GenesisTime
	out.FundedAccounts = len(doc.Staking.Accounts)
	return out, nil
}

// writeNewFile writes data to path (mode 0644), refusing to replace an existing file: a
// genesis document is the identity of a chain.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; a genesis document is never overwritten (remove it first)", path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func printGenesisInit(w io.Writer, o *genesisInitOutput) error {
	fmt.Fprintf(w, "Wrote %s\n  chain id        %s\n  chain context   %s\n  genesis time    %s\n  funded accounts %d (balance %d each)\n",
		o.File, o.ChainID, o.ChainContext, o.GenesisTime.Format(time.RFC3339), o.FundedAccounts, o.Balance)
	for i, v := range o.Validators {
		fmt.Fprintf(w, "  validator %d     %s (entity %s, account %s)\n", i, v.DataDir, v.EntityID, v.Address)
	}
	if o.BenchAccounts > 0 {
		fmt.Fprintf(w, "  bench accounts  %d from seed %q (TEST ONLY: their keys are public)\n", o.BenchAccounts, o.BenchSeed)
	}
	_, err := fmt.Fprintln(w, "Put the file in each node's data directory as genesis.json (or set genesis.file) and run `atoll node --config FILE`.")
	return err
}
