package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/grpcapi"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

func newBenchCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load tools that run against a running node",
	}
	cmd.AddCommand(newBenchTransfersCommand(s))
	return cmd
}

// benchFlags are the options of `atoll bench transfers`.
type benchFlags struct {
	node     nodeFlags
	accounts int
	duration time.Duration
	seed     string
	depth    int
	batch    int
	workers  int
	drain    time.Duration
	profile  string
	asJSON   bool
}

func newBenchTransfersCommand(s Streams) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "transfers --socket PATH --accounts N --duration D",
		Short: "Submit signed transfers from many accounts and report committed transfers/s and inclusion latency",
		Long: "Signs transfers from the TEST-ONLY bench accounts of a dev genesis (`atoll genesis init " +
			"--bench-accounts K`, same --seed), each account to the next, and submits them in batches " +
			"(SubmitTxs) without waiting, keeping up to --depth transactions of each account in flight " +
			"(consecutive nonces). It follows the committed blocks (WatchBlocks) to time each " +
			"transaction's inclusion, prints a progress line every second, stops submitting after " +
			"--duration, waits up to --drain for what is in flight, and reports the transfers committed " +
			"within --duration per second and the inclusion latency percentiles (submission to the " +
			"client seeing the committed block).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), s, &f)
		},
	}
	f.node.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.accounts, "accounts", 1000, "bench accounts to send from (at most what the genesis funded)")
	fl.DurationVar(&f.duration, "duration", 30*time.Second, "how long to submit")
	fl.StringVar(&f.seed, "seed", defaultBenchSeed, "the bench accounts' seed (as given to `atoll genesis init`)")
	fl.IntVar(&f.depth, "depth", 8, "most transactions of one account in flight (pipelined nonces)")
	fl.IntVar(&f.batch, "batch", 500, "transactions per SubmitTxs call")
	fl.IntVar(&f.workers, "workers", 4, "concurrent submitters (each owns a share of the accounts)")
	fl.DurationVar(&f.drain, "drain", 15*time.Second, "how long to wait for transactions in flight after --duration")
	fl.StringVar(&f.profile, "cpuprofile", "", "write the load tool's own CPU profile to this file")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON (progress lines go to stderr)")
	return cmd
}

// benchReport is the result of a run.
type benchReport struct {
	Accounts        int            `json:"accounts"`
	DurationSeconds float64        `json:"duration_s"`
	Submitted       int            `json:"submitted"`
	Rejected        int            `json:"rejected"`
	Rejections      map[string]int `json:"rejections,omitempty"`
	Committed       int            `json:"committed"`
	CommittedWindow int            `json:"committed_in_duration"`
	FailedInBlock   int            `json:"failed_in_block"`
	Lost            int            `json:"lost"`
	TransfersPerSec float64        `json:"committed_transfers_per_s"`
	LatencyP50Ms    float64        `json:"latency_p50_ms"`
	LatencyP90Ms    float64        `json:"latency_p90_ms"`
	LatencyP99Ms    float64        `json:"latency_p99_ms"`
	LatencyMaxMs    float64        `json:"latency_max_ms"`
	LatencyMeanMs   float64        `json:"latency_mean_ms"`
	Blocks          int            `json:"blocks"`
	MeanBlockTxs    float64        `json:"mean_block_txs"`
	MaxBlockTxs     int            `json:"max_block_txs"`
	FirstHeight     int64          `json:"first_height"`
	LastHeight      int64          `json:"last_height"`
}

// benchAccount is one sending account; only its worker touches it.
type benchAccount struct {
	signer *signature.MemorySigner
	addr   staking.Address
	to     staking.Address
	next   uint64
	resync bool
}

// benchRun is one run's shared state.
type benchRun struct {
	f        *benchFlags
	c        *grpcapi.Client
	chain    hash.Hash
	fee      transaction.Fee
	accounts []*benchAccount
	tracker  *benchTracker

	mu         sync.Mutex
	submitted  int
	rejections map[string]int
}

func runBench(ctx context.Context, s Streams, f *benchFlags) error {
	if f.accounts < 1 || f.accounts > maxBenchAccounts {
		return fmt.Errorf("--accounts %d out of range 1..%d", f.accounts, maxBenchAccounts)
	}
	if f.depth < 1 || f.batch < 1 || f.batch > grpcapi.MaxBatchTxs || f.workers < 1 || f.duration <= 0 {
		return fmt.Errorf("--depth, --workers and --duration must be positive and --batch in 1..%d", grpcapi.MaxBatchTxs)
	}
	f.workers = min(f.workers, f.accounts)
	stopProfile, err := startCPUProfile(f.profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	c, err := f.node.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		return fmt.Errorf("node status: %w", err)
	}
	fee, err := c.DefaultFee(ctx, staking.GasOpTransfer)
	if err != nil {
		return fmt.Errorf("reading the transfer fee: %w", err)
	}
	r := &benchRun{f: f, c: c, chain: st.ChainContext, fee: fee, tracker: newBenchTracker(f.accounts, f.workers), rejections: map[string]int{}}
	if err := r.loadAccounts(ctx); err != nil {
		return err
	}
	defer func() {
		for _, a := range r.accounts {
			a.signer.Reset()
		}
	}()
	progress := s.Out
	if f.asJSON {
		progress = s.Err
	}
	fmt.Fprintf(progress, "bench: %d accounts, %d workers, depth %d, batches of %d, for %s against %s (height %d)\n",
		f.accounts, f.workers, f.depth, f.batch, f.duration, st.ChainID, st.CommittedHeight)
	report, err := r.run(ctx, st.CommittedHeight+1, progress)
	if err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(s.Out, report)
	}
	printBenchReport(s.Out, report)
	return nil
}

// loadAccounts derives the accounts' keys and fetches their nonces.
func (r *benchRun) loadAccounts(ctx context.Context) error {
	n := r.f.accounts
	r.accounts = make([]*benchAccount, n)
	for i := range n {
		s := benchSigner(r.f.seed, i)
		r.accounts[i] = &benchAccount{signer: s, addr: staking.NewAddress(s.Public())}
	}
	for i, a := range r.accounts {
		a.to = r.accounts[(i+1)%n].addr
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += len(errs) {
				acct, err := r.c.Account(ctx, r.accounts[i].addr, 0)
				if err != nil {
					errs[g] = fmt.Errorf("bench account %d: %w", i, err)
					return
				}
				if acct.Account.General.Balance.IsZero() {
					errs[g] = fmt.Errorf("bench account %d (%s) has no funds: was the genesis written with `atoll genesis init --bench-accounts %d --bench-seed %q`?", i, acct.Address, n, r.f.seed)
					return
				}
				r.accounts[i].next = acct.Account.General.Nonce
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// run submits for the duration, drains, and reports.
func (r *benchRun) run(ctx context.Context, fromHeight int64, progress io.Writer) (*benchReport, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchCtx, stopWatch := context.WithTimeout(ctx, r.f.duration+r.f.drain+time.Minute)
	defer stopWatch()
	watchErr := make(chan error, 1)
	go func() {
		watchErr <- r.c.WatchBlocks(watchCtx, fromHeight, func(b grpcapi.BlockOutcomes) error {
			r.tracker.block(b, time.Now())
			return nil
		})
	}()

	start := time.Now()
	end := start.Add(r.f.duration)
	r.tracker.mu.Lock()
	r.tracker.windowEnd = end
	r.tracker.mu.Unlock()
	// Workers stop starting batches at the end of the window; a batch under way completes
	// (its calls run under ctx), so that no accepted transaction goes uncounted.
	submitting, stopSubmit := context.WithDeadline(ctx, end)
	defer stopSubmit()
	var wg sync.WaitGroup
	for w := range r.f.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(ctx, submitting.Done(), w)
		}()
	}
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	drainEnd := end.Add(r.f.drain)
	prev := 0
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			runErr = ctx.Err()
			break loop
		case err := <-watchErr:
			runErr = fmt.Errorf("following blocks: %w", err)
			break loop
		case now := <-ticker.C:
			snap := r.tracker.snapshot()
			r.printProgress(progress, now.Sub(start), snap, snap.committed-prev)
			prev = snap.committed
			if now.After(end) && (snap.pending == 0 || now.After(drainEnd)) {
				break loop
			}
		}
	}
	stopSubmit()
	wg.Wait()
	if runErr != nil {
		return nil, runErr
	}
	return r.report(), nil
}

func (r *benchRun) printProgress(w io.Writer, elapsed time.Duration, s benchSnapshot, delta int) {
	r.mu.Lock()
	rejected := 0
	for _, n := range r.rejections {
		rejected += n
	}
	r.mu.Unlock()
	fmt.Fprintf(w, "[%5.1fs] height %d  committed %d (+%d/s)  in flight %d  rejected %d  failed %d\n",
		elapsed.Seconds(), s.lastHeight, s.committed, delta, s.pending, rejected, s.failedInBlock)
}

// worker signs and submits the transfers of its accounts (those i with i mod workers == w),
// keeping at most depth of each account in flight, until stop is closed.
func (r *benchRun) worker(ctx context.Context, stop <-chan struct{}, w int) {
	var mine []int
	for i := w; i < len(r.accounts); i += r.f.workers {
		mine = append(mine, i)
	}
	txs := make([][]byte, 0, r.f.batch)
	type sent struct {
		account int
		nonce   uint64
		hash    hash.Hash
	}
	meta := make([]sent, 0, r.f.batch)
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	cursor := 0
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return ctx.Err() != nil
		}
	}
	for !stopped() {
		txs, meta = txs[:0], meta[:0]
		for k := 0; k < len(mine) && len(txs) < r.f.batch; k++ {
			i := mine[(cursor+k)%len(mine)]
			a := r.accounts[i]
			inFlight := r.tracker.inFlightOf(i)
			if a.resync {
				if inFlight > 0 || !r.resync(ctx, a) {
					continue
				}
			}
			for room := r.f.depth - inFlight; room > 0 && len(txs) < r.f.batch; room-- {
				raw, err := r.sign(a)
				if err != nil {
					r.reject(err)
					break
				}
				h := hash.Digest(raw)
				txs = append(txs, raw)
				meta = append(meta, sent{account: i, nonce: a.next, hash: h})
				a.next++
			}
		}
		cursor = (cursor + 1) % len(mine)
		if len(txs) == 0 {
			select {
			case <-stop:
			case <-r.tracker.wake[w]:
			case <-poll.C:
			}
			continue
		}
		now := time.Now()
		for _, m := range meta {
			r.tracker.add(m.hash, m.account, now)
		}
		verdicts, err := r.c.SubmitTxs(ctx, txs)
		r.mu.Lock()
		r.submitted += len(txs)
		r.mu.Unlock()
		if err != nil {
			verdicts = make([]error, len(txs))
			for i := range verdicts {
				verdicts[i] = err
			}
		}
		rejectedAccounts := map[int]bool{}
		for j, v := range verdicts {
			if v == nil {
				continue
			}
			m := meta[j]
			r.tracker.drop(m.hash)
			r.reject(v)
			a := r.accounts[m.account]
			if !rejectedAccounts[m.account] {
				rejectedAccounts[m.account] = true
				// Later nonces of the account in this batch fail too; restart from this one
				// and ask the node for the nonce once nothing is in flight.
				a.next = m.nonce
				a.resync = true
			}
		}
	}
}

// resync fetches an account's nonce from the node; it reports whether it succeeded.
func (r *benchRun) resync(ctx context.Context, a *benchAccount) bool {
	acct, err := r.c.Account(ctx, a.addr, 0)
	if err != nil {
		return false
	}
	a.next, a.resync = acct.Account.General.Nonce, false
	return true
}

func (r *benchRun) sign(a *benchAccount) ([]byte, error) {
	tx := &transaction.Transaction{
		Nonce: a.next, Fee: r.fee, Method: staking.MethodTransfer,
		Body: transaction.NewBody(&staking.Transfer{To: a.to, Amount: *quantity.NewFromUint64(1)}),
	}
	return transaction.Sign(a.signer, r.chain, tx)
}

func (r *benchRun) reject(err error) {
	r.mu.Lock()
	r.rejections[err.Error()]++
	r.mu.Unlock()
}

func (r *benchRun) report() *benchReport {
	snap := r.tracker.snapshot()
	p50, p90, p99, maxLat, mean := r.tracker.latencyPercentiles()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &benchReport{
		Accounts: r.f.accounts, DurationSeconds: r.f.duration.Seconds(), Submitted: r.submitted,
		Committed: snap.committed, CommittedWindow: snap.committedWindow, FailedInBlock: snap.failedInBlock,
		Lost:            snap.pending,
		TransfersPerSec: float64(snap.committedWindow) / r.f.duration.Seconds(),
		LatencyP50Ms:    ms(p50), LatencyP90Ms: ms(p90), LatencyP99Ms: ms(p99), LatencyMaxMs: ms(maxLat), LatencyMeanMs: ms(mean),
		Blocks: snap.blocks, MaxBlockTxs: snap.maxBlockTxs, FirstHeight: snap.firstHeight, LastHeight: snap.lastHeight,
	}
	if len(r.rejections) > 0 {
		rep.Rejections = make(map[string]int, len(r.rejections))
		for k, v := range r.rejections {
			rep.Rejections[k] = v
			rep.Rejected += v
		}
	}
	if snap.blocks > 0 {
		rep.MeanBlockTxs = float64(snap.blockTxs) / float64(snap.blocks)
	}
	return rep
}

func printBenchReport(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "\ncommitted transfers/s  %.0f  (%d committed within %.0fs; %d in all)\n", r.TransfersPerSec, r.CommittedWindow, r.DurationSeconds, r.Committed)
	fmt.Fprintf(w, "inclusion latency      p50 %.0f ms  p90 %.0f ms  p99 %.0f ms  max %.0f ms  mean %.0f ms\n",
		r.LatencyP50Ms, r.LatencyP90Ms, r.LatencyP99Ms, r.LatencyMaxMs, r.LatencyMeanMs)
	fmt.Fprintf(w, "submitted %d, rejected %d, failed in block %d, never included %d\n", r.Submitted, r.Rejected, r.FailedInBlock, r.Lost)
	fmt.Fprintf(w, "blocks %d (heights %d..%d), %.0f txs per block on average, %d at most\n",
		r.Blocks, r.FirstHeight, r.LastHeight, r.MeanBlockTxs, r.MaxBlockTxs)
	if len(r.Rejections) > 0 {
		keys := make([]string, 0, len(r.Rejections))
		for k := range r.Rejections {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  rejected %d× %s\n", r.Rejections[k], k)
		}
	}
}
