package consensus

import (
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/atoll-project/atoll/common/cbor"
	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/consensus/transaction"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
)

// txOutcome is the result of running one transaction.
type txOutcome struct {
	// err is the transaction's coded failure (nil on success). A rejected transaction
	// (rejected = true) changed nothing; otherwise its fee and nonce were spent.
	err      error
	rejected bool
	gasUsed  transaction.Gas
	events   []Event
}

// runTx runs a decoded, signature-checked transaction in parent's block: routing, the
// authenticator (nonce, fee), then the method in a nested Context. In CheckTx a failing method
// rejects the whole transaction; in a block the fee and nonce stay spent. The error return is
// for state failures only (halt).
func (m *Mux) runTx(parent *Context, d *verifiedTx) (txOutcome, error) {
	reject := func(err error) (txOutcome, error) {
		if IsStateError(err) {
			return txOutcome{}, err
		}
		return txOutcome{err: err, rejected: true}, nil
	}
	tx := &d.Tx
	if tx.Fee.Gas > m.chain.doc.Consensus.MaxBlockGas {
		return reject(fmt.Errorf("%w: %d > %d", transaction.ErrGasLimitTooHigh, tx.Fee.Gas, m.chain.doc.Consensus.MaxBlockGas))
	}
	app := m.router.byMethod[tx.Method]
	if app == nil {
		return reject(fmt.Errorf("%w: %q", transaction.ErrUnknownMethod, tx.Method))
	}
	signer := d.Signer()
	caller := &Caller{Address: d.signerAddr, Signer: &signer, TxHash: d.Hash}
	txCtx := parent.WithCaller(caller, NewGasAccountant(tx.Fee.Gas))
	if m.router.auth != nil {
		authCtx := txCtx.NewChild()
		if err := m.router.auth.AuthenticateTx(authCtx, tx); err != nil {
			return reject(err)
		}
		if err := authCtx.CommitTo(txCtx); err != nil {
			return txOutcome{}, err
		}
	}
	methodCtx := txCtx.NewChild()
	out := txOutcome{}
	if err := app.ExecuteTx(methodCtx, tx); err != nil {
		if IsStateError(err) || parent.mode == ModeCheckTx {
			return reject(err)
		}
		out.err = err
	} else if err := methodCtx.CommitTo(txCtx); err != nil {
		return txOutcome{}, err
	}
	out.gasUsed = txCtx.gas.Used()
	out.events = txCtx.events
	// The transaction's events go to its result, not to the block's.
	if err := txCtx.overlay.Commit(); err != nil {
		return txOutcome{}, err
	}
	return out, nil
}

// CheckTx implements abci.Application. It decodes and verifies the transaction (or takes the
// verdict cached by an earlier check or by PreverifyTxs), then runs it against the check state: an accepted
// transaction's fee, nonce and effects stay in the check state, so one account can have many
// pending transactions, each needing the next nonce. After Commit the check state restarts
// from the committed root and CometBFT rechecks the pending ones in order.
func (m *Mux) CheckTx(ctx context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	d, err := m.decodeVerified(req.Tx)
	if err != nil {
		return checkTxError(err), nil
	}
	m.checkMu.Lock()
	defer m.checkMu.Unlock()
	st := m.check.view(ctx)
	if m.check.block == nil {
		block, err := m.checkBlock(st)
		if err != nil {
			return nil, err
		}
		m.check.block = block
	}
	out, err := m.runTx(m.rootContext(ModeCheckTx, m.check.block, st), d)
	if err != nil {
		return nil, fmt.Errorf("consensus: CheckTx: %w", err)
	}
	if out.err != nil {
		return checkTxError(out.err), nil
	}
	m.verified.put(req.Tx, d)
	return &abci.ResponseCheckTx{Code: abci.CodeTypeOK, GasWanted: int64(d.Tx.Fee.Gas), GasUsed: int64(out.gasUsed)}, nil
}

// checkBlock returns the block information CheckTx runs with: the next height, the last
// block's time and the epoch at the next height.
func (m *Mux) checkBlock(st State) (*BlockInfo, error) {
	last := m.lastCommitted()
	block := &BlockInfo{Height: m.nextHeight(last), Time: last.time, ChainContext: m.chain.chainContext}
	if last.height == 0 {
		block.Time = m.chain.doc.GenesisTime
		return block, nil
	}
	epoch, err := m.epochAt(st, block.Height)
	if err != nil {
		return nil, err
	}
	block.Epoch = epoch
	return block, nil
}

func checkTxError(err error) *abci.ResponseCheckTx {
	w := cerrors.ToWire(err)
	return &abci.ResponseCheckTx{Code: w.Code, Codespace: w.Module, Log: err.Error()}
}

// decodeVerified returns the decoded, signature-checked transaction, from the verified cache
// or by decoding and verifying it.
func (m *Mux) decodeVerified(raw []byte) (*verifiedTx, error) {
	if int64(len(raw)) > m.chain.doc.Consensus.MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", transaction.ErrTooLarge, len(raw), m.chain.doc.Consensus.MaxTxBytes)
	}
	if d, ok := m.verified.get(raw); ok {
		return d, nil
	}
	d, err := transaction.Decode(raw)
	if err != nil {
		return nil, err
	}
	m.stats.single.Add(1)
	if err := d.Verify(m.chain.txContext); err != nil {
		return nil, err
	}
	return newVerifiedTx(d), nil
}

// decodeUnverified decodes a transaction for proposal checks, which need no signature.
func (m *Mux) decodeUnverified(raw []byte) (*transaction.Decoded, error) {
	if int64(len(raw)) > m.chain.doc.Consensus.MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes", transaction.ErrTooLarge, len(raw))
	}
	if d, ok := m.verified.get(raw); ok {
		return d.Decoded, nil
	}
	return transaction.Decode(raw)
}

// PrepareProposal implements abci.Application: it proposes the mempool's transactions in
// order, dropping undecodable ones, up to MaxTxBytes and max_block_gas (the sum of fee.gas).
func (m *Mux) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	var size int64
	var gas transaction.Gas
	maxGas := m.chain.doc.Consensus.MaxBlockGas
	txs := make([][]byte, 0, len(req.Txs))
	for _, raw := range req.Txs {
		d, err := m.decodeUnverified(raw)
		if err != nil {
			continue
		}
		if size+int64(len(raw)) > req.MaxTxBytes || d.Tx.Fee.Gas > maxGas-gas {
			break
		}
		size += int64(len(raw))
		gas += d.Tx.Fee.Gas
		txs = append(txs, raw)
	}
	return &abci.ResponsePrepareProposal{Txs: txs}, nil
}

// ProcessProposal implements abci.Application: it accepts a proposal unless a transaction does
// not decode or the transactions' gas exceeds max_block_gas. Signatures and state checks are
// left to FinalizeBlock (a bad one fails only its transaction).
func (m *Mux) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	reject := &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}
	var gas transaction.Gas
	maxGas := m.chain.doc.Consensus.MaxBlockGas
	for _, raw := range req.Txs {
		d, err := m.decodeUnverified(raw)
		if err != nil {
			m.logger.Warn("rejecting proposal with an undecodable transaction", "height", req.Height, "err", err)
			return reject, nil
		}
		if d.Tx.Fee.Gas > maxGas-gas {
			m.logger.Warn("rejecting proposal over the block gas limit", "height", req.Height)
			return reject, nil
		}
		gas += d.Tx.Fee.Gas
	}
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// Query implements abci.Application. Path is the query method ("staking.Account"), Data its
// CBOR argument, Height the state's height (0: the latest). The answer's Value is CBOR; errors
// are coded.
func (m *Mux) Query(ctx context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	height, value, err := m.query(ctx, req.Path, req.Data, req.Height)
	if err != nil {
		w := cerrors.ToWire(err)
		return &abci.ResponseQuery{Code: w.Code, Codespace: w.Module, Log: err.Error(), Height: height}, nil
	}
	return &abci.ResponseQuery{Code: abci.CodeTypeOK, Value: value, Height: height}, nil
}

func (m *Mux) query(ctx context.Context, method string, args []byte, height int64) (int64, []byte, error) {
	app := m.router.byName[transaction.MethodName(method).Service()]
	if app == nil {
		return height, nil, fmt.Errorf("%w: %q", ErrUnknownQuery, method)
	}
	root, height, err := m.rootAt(height)
	if err != nil {
		return height, nil, err
	}
	st := &treeState{ctx: ctx, tree: mkvs.NewWithRoot(root, m.db, mkvs.WithNodeCache(1<<20))}
	block := &BlockInfo{Height: height, ChainContext: m.chain.chainContext}
	if rec, err := getLastBlock(st); err == nil && rec != nil {
		block.Time = timeFromUnixNano(rec.Time)
	}
	if block.Epoch, err = m.epochAt(st, height); err != nil {
		return height, nil, err
	}
	res, err := app.Query(m.rootContext(ModeQuery, block, NewOverlay(st)), method, args)
	if err != nil {
		return height, nil, err
	}
	return height, cbor.Marshal(res), nil
}

// rootAt returns the committed state root at height (0: the latest) and the height.
func (m *Mux) rootAt(height int64) (node.Root, int64, error) {
	last := m.lastCommitted()
	if height == 0 || height == last.height {
		if last.height == 0 {
			return node.Root{}, 0, fmt.Errorf("%w: no block committed yet", ErrNoState)
		}
		return last.root, last.height, nil
	}
	if height < 0 || height > last.height {
		return node.Root{}, height, fmt.Errorf("%w: height %d, last is %d", ErrNoState, height, last.height)
	}
	roots, err := m.db.GetRootsForVersion(uint64(height))
	if err != nil {
		return node.Root{}, height, fmt.Errorf("%w: height %d: %v", ErrNoState, height, err)
	}
	for _, r := range roots {
		if r.Type == node.RootTypeState {
			return r, height, nil
		}
	}
	return node.Root{}, height, fmt.Errorf("%w: height %d", ErrNoState, height)
}

// ReadState calls fn with a read-only view of the committed state at height (0: the latest);
// writes fn makes are discarded.
func (m *Mux) ReadState(ctx context.Context, height int64, fn func(State) error) error {
	root, _, err := m.rootAt(height)
	if err != nil {
		return err
	}
	st := &treeState{ctx: ctx, tree: mkvs.NewWithRoot(root, m.db, mkvs.WithNodeCache(1<<20))}
	return fn(NewOverlay(st))
}
