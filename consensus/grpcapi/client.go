package grpcapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/atoll-project/atoll/common/cbor"
	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
	"github.com/atoll-project/atoll/rpc"
)

// Default deadlines of Client calls whose context has none.
const (
	// DefaultQueryTimeout applies to reads and SubmitTxs.
	DefaultQueryTimeout = 10 * time.Second
	// DefaultSubmitTimeout applies to SubmitTx, which waits for a block.
	DefaultSubmitTimeout = time.Minute
)

// ErrNoNode is returned when no node answers at the client's address.
var ErrNoNode = errors.New("grpcapi: no node answers")

// ClientConfig configures a Client; zero values take the defaults.
type ClientConfig struct {
	QueryTimeout  time.Duration
	SubmitTimeout time.Duration
}

// Client is a typed client of the consensus service. It is safe for concurrent use; its owner
// closes it.
type Client struct {
	conn          *rpc.Client
	addr          string
	queryTimeout  time.Duration
	submitTimeout time.Duration
}

// DialUnix returns a client of the node whose gRPC socket is at path. It fails at once with
// ErrNoNode when there is no socket there.
func DialUnix(path string, cfg ClientConfig) (*Client, error) {
	if fi, err := os.Stat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("%w at %s: is `atoll node` running with that data directory?", ErrNoNode, path)
	}
	c, err := rpc.DialUnix(path, rpc.ClientConfig{CallTimeout: cfg.timeout(cfg.SubmitTimeout, DefaultSubmitTimeout)})
	if err != nil {
		return nil, fmt.Errorf("grpcapi: %w", err)
	}
	return newClient(c, path, cfg), nil
}

// DialTLS returns a client of a node's TLS listener at addr (host:port).
func DialTLS(addr string, tlsCfg *tls.Config, cfg ClientConfig) (*Client, error) {
	c, err := rpc.DialTLS(addr, tlsCfg, rpc.ClientConfig{CallTimeout: cfg.timeout(cfg.SubmitTimeout, DefaultSubmitTimeout)})
	if err != nil {
		return nil, fmt.Errorf("grpcapi: %w", err)
	}
	return newClient(c, addr, cfg), nil
}

func (cfg ClientConfig) timeout(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

func newClient(c *rpc.Client, addr string, cfg ClientConfig) *Client {
	return &Client{
		conn: c, addr: addr,
		queryTimeout:  cfg.timeout(cfg.QueryTimeout, DefaultQueryTimeout),
		submitTimeout: cfg.timeout(cfg.SubmitTimeout, DefaultSubmitTimeout),
	}
}

// RPC returns the underlying connection, for the node's other services.
func (c *Client) RPC() *rpc.Client { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) ctx(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// wrap turns an unreachable node into ErrNoNode with the address; other errors pass.
func (c *Client) wrap(err error) error {
	if errors.Is(err, rpc.ErrUnavailable) {
		return fmt.Errorf("%w at %s: is `atoll node` running? (%v)", ErrNoNode, c.addr, err)
	}
	return err
}

func unary[Req, Resp any](c *Client, ctx context.Context, m rpc.Unary[Req, Resp], d time.Duration, req Req) (Resp, error) {
	ctx, cancel := c.ctx(ctx, d)
	defer cancel()
	resp, err := m.Call(ctx, c.conn, req)
	return resp, c.wrap(err)
}

// Status returns the node's view of the chain.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	st, err := unary(c, ctx, MethodStatus, c.queryTimeout, StatusRequest{})
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// Epoch returns the epoch at height (0: the latest).
func (c *Client) Epoch(ctx context.Context, height int64) (*Epoch, error) {
	e, err := unary(c, ctx, MethodEpoch, c.queryTimeout, HeightRequest{Height: height})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Account returns the account at height (0: the latest); an account that does not exist is
// the zero account.
func (c *Client) Account(ctx context.Context, addr staking.Address, height int64) (*Account, error) {
	a, err := unary(c, ctx, MethodAccount, c.queryTimeout, AccountRequest{Address: addr, Height: height})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Query runs an application query with args (CBOR-encoded; nil for none) at height (0: the
// latest), decodes the answer into out and returns the height it is for.
func (c *Client) Query(ctx context.Context, method string, args any, out any, height int64) (int64, error) {
	req := QueryRequest{Method: method, Height: height}
	if args != nil {
		req.Args = cbor.Marshal(args)
	}
	resp, err := unary(c, ctx, MethodQuery, c.queryTimeout, req)
	if err != nil {
		return 0, err
	}
	if err := cbor.Unmarshal(resp.Value, out); err != nil {
		return 0, fmt.Errorf("grpcapi: decoding the answer of %s: %w", method, err)
	}
	return resp.Height, nil
}

// Block returns the block at height (0: the last committed one).
func (c *Client) Block(ctx context.Context, height int64) (*Block, error) {
	b, err := unary(c, ctx, MethodBlock, c.queryTimeout, HeightRequest{Height: height})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// Events returns the events of the block at height (0: the last committed one).
func (c *Client) Events(ctx context.Context, height int64) (*BlockEvents, error) {
	e, err := unary(c, ctx, MethodEvents, c.queryTimeout, HeightRequest{Height: height})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// SubmitTx submits a raw signed transaction and waits for its block. A transaction the node
// rejects returns its coded error and no result; an included transaction returns its result
// and, when it failed in the block, its coded error too.
func (c *Client) SubmitTx(ctx context.Context, tx []byte) (*TxResult, error) {
	r, err := unary(c, ctx, MethodSubmitTx, c.submitTimeout, SubmitTxRequest{Tx: tx})
	if err != nil {
		return nil, err
	}
	return &r, r.Err()
}

// SubmitTxs submits raw signed transactions in order without waiting for blocks. It returns
// one verdict per transaction (nil: accepted into the mempool), or an error for the call.
func (c *Client) SubmitTxs(ctx context.Context, txs [][]byte) ([]error, error) {
	r, err := unary(c, ctx, MethodSubmitTxs, c.queryTimeout, SubmitTxsRequest{Txs: txs})
	if err != nil {
		return nil, err
	}
	if len(r.Rejections) != len(txs) {
		return nil, fmt.Errorf("grpcapi: %d verdicts for %d transactions", len(r.Rejections), len(txs))
	}
	out := make([]error, len(txs))
	for i, w := range r.Rejections {
		if w != nil {
			out[i] = cerrors.FromWire(*w)
		}
	}
	return out, nil
}

// WatchBlocks calls fn with every committed block from fromHeight on (0: from the next one)
// until ctx is done (nil), fn fails (its error) or the stream fails. ctx should carry a
// deadline or be cancelled by the caller: without one, the query timeout ends the stream.
func (c *Client) WatchBlocks(ctx context.Context, fromHeight int64, fn func(BlockOutcomes) error) error {
	ctx, cancel := c.ctx(ctx, c.queryTimeout)
	defer cancel()
	err := MethodWatchBlocks.Call(ctx, c.conn, WatchBlocksRequest{FromHeight: fromHeight}, fn)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return c.wrap(err)
}

// TxParams describe a transaction for Sign.
type TxParams struct {
	Method transaction.MethodName
	Body   any
	// Nonce is the signer's account nonce; with AutoNonce it is fetched from the node.
	Nonce     uint64
	AutoNonce bool
	Fee       transaction.Fee
}

// Sign builds and signs a transaction for the node's chain, fetching the chain context and,
// with AutoNonce, the signer's nonce. It returns the raw transaction and its hash.
func (c *Client) Sign(ctx context.Context, signer signature.Signer, p TxParams) ([]byte, hash.Hash, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return nil, hash.Hash{}, err
	}
	if p.AutoNonce {
		acct, err := c.Account(ctx, staking.NewAddress(signer.Public()), 0)
		if err != nil {
			return nil, hash.Hash{}, err
		}
		p.Nonce = acct.Account.General.Nonce
	}
	tx := &transaction.Transaction{Nonce: p.Nonce, Fee: p.Fee, Method: p.Method}
	if p.Body != nil {
		tx.Body = transaction.NewBody(p.Body)
	}
	raw, err := transaction.Sign(signer, st.ChainContext, tx)
	if err != nil {
		return nil, hash.Hash{}, err
	}
	return raw, hash.Digest(raw), nil
}

// DefaultFee returns the fee of a staking method at the node's current parameters: the
// method's gas cost and gas × min_gas_price.
func (c *Client) DefaultFee(ctx context.Context, gasOp string) (transaction.Fee, error) {
	var p staking.ConsensusParameters
	if _, err := c.Query(ctx, staking.QueryParams, nil, &p, 0); err != nil {
		return transaction.Fee{}, err
	}
	gas, ok := p.GasCosts[gasOp]
	if !ok {
		return transaction.Fee{}, fmt.Errorf("grpcapi: the chain has no gas cost for %q", gasOp)
	}
	amount := quantity.NewFromUint64(uint64(gas))
	if err := amount.Mul(&p.MinGasPrice); err != nil {
		return transaction.Fee{}, fmt.Errorf("grpcapi: fee: %w", err)
	}
	return transaction.Fee{Amount: *amount, Gas: gas}, nil
}
