package consensus

import (
	"context"
	"fmt"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/transaction"
)

func timeFromUnixNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// FinalizeBlock implements abci.Application. It runs BeginBlock on every application, each
// transaction in order (exactly one result per transaction), EndBlock on every application,
// and computes the new state root, which it returns as the AppHash. The new state is written
// to the node DB but finalized (made durable and the latest) only by Commit. An error (a state
// failure) halts the node.
func (m *Mux) FinalizeBlock(ctx context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	m.deliverMu.Lock()
	defer m.deliverMu.Unlock()
	if m.pending != nil {
		return nil, fmt.Errorf("consensus: FinalizeBlock %d before block %d was committed", req.Height, m.pending.height)
	}
	last := m.lastCommitted()
	if want := m.nextHeight(last); req.Height != want {
		return nil, fmt.Errorf("consensus: FinalizeBlock at height %d, want %d", req.Height, want)
	}
	st := &treeState{ctx: ctx, tree: m.deliver}
	block, err := m.deliverBlock(st, req)
	if err != nil {
		return nil, fmt.Errorf("consensus: block %d: %w", req.Height, err)
	}
	resp, err := m.executeBlock(st, block, req.Txs)
	if err != nil {
		return nil, fmt.Errorf("consensus: block %d: %w", req.Height, err)
	}
	_, root, batch, err := m.deliver.Commit(ctx, m.chain.ns, uint64(req.Height))
	if err != nil {
		return nil, fmt.Errorf("consensus: block %d: computing the state root: %w", req.Height, err)
	}
	// The new nodes are written now, unfinalized, rather than in Commit, during which
	// CometBFT holds the mempool: a crash before Commit loses them (unfinalized roots do not
	// survive one), and replaying the block applies them again.
	if err := m.db.Apply(ctx, batch); err != nil {
		return nil, fmt.Errorf("consensus: block %d: persisting the state: %w", req.Height, err)
	}
	m.pending = &pendingBlock{height: req.Height, time: block.Time, root: root}
	resp.AppHash = append([]byte(nil), root.Hash[:]...)
	return resp, nil
}

// deliverBlock returns the block information of a decided block.
func (m *Mux) deliverBlock(st State, req *abci.RequestFinalizeBlock) (*BlockInfo, error) {
	block := &BlockInfo{Height: req.Height, Time: req.Time.UTC(), ChainContext: m.chain.chainContext}
	proposer, err := validatorByAddress(st, req.ProposerAddress)
	if err != nil {
		return nil, err
	}
	if proposer != nil {
		entity := proposer.EntityID
		block.ProposerEntity = &entity
	}
	if block.Epoch, err = m.epochAt(st, req.Height); err != nil {
		return nil, err
	}
	if err := setLastBlock(st, req.Height, block.Time); err != nil {
		return nil, err
	}
	return block, nil
}

// executeBlock runs a block's BeginBlock, transactions and EndBlock against st.
func (m *Mux) executeBlock(st State, block *BlockInfo, txs [][]byte) (*abci.ResponseFinalizeBlock, error) {
	resp := &abci.ResponseFinalizeBlock{TxResults: make([]*abci.ExecTxResult, len(txs))}
	begin := m.rootContext(ModeBeginBlock, block, st)
	for _, app := range m.router.apps {
		if err := app.BeginBlock(begin); err != nil {
			return nil, fmt.Errorf("BeginBlock of %s: %w", app.Name(), err)
		}
	}
	blockEvents := begin.events

	decoded, decodeErrs := m.decodeBlock(txs)
	deliver := m.rootContext(ModeDeliverTx, block, st)
	for i := range txs {
		if decodeErrs[i] != nil {
			resp.TxResults[i] = txResult(decodeErrs[i], nil, 0, nil)
			continue
		}
		out, err := m.runTx(deliver, decoded[i])
		if err != nil {
			return nil, fmt.Errorf("transaction %d (%s): %w", i, decoded[i].Hash, err)
		}
		resp.TxResults[i] = txResult(out.err, decoded[i].Decoded, out.gasUsed, out.events)
	}

	end := m.rootContext(ModeEndBlock, block, st)
	for _, app := range m.router.apps {
		if err := app.EndBlock(end); err != nil {
			return nil, fmt.Errorf("EndBlock of %s: %w", app.Name(), err)
		}
	}
	blockEvents = append(blockEvents, end.events...)
	resp.Events = abciEvents(blockEvents)
	for _, u := range end.updates {
		if err := setValidator(st, ValidatorInfo(u)); err != nil {
			return nil, err
		}
		resp.ValidatorUpdates = append(resp.ValidatorUpdates, abci.Ed25519ValidatorUpdate(u.ConsensusKey[:], u.Power))
	}
	return resp, nil
}

func txResult(err error, d *transaction.Decoded, gasUsed transaction.Gas, events []Event) *abci.ExecTxResult {
	r := &abci.ExecTxResult{GasUsed: int64(gasUsed), Events: abciEvents(events)}
	if d != nil {
		r.GasWanted = int64(d.Tx.Fee.Gas)
	}
	if err != nil {
		w := cerrors.ToWire(err)
		r.Code, r.Codespace, r.Log = w.Code, w.Module, err.Error()
	}
	return r
}

// decodeBlock decodes a block's transactions. Those this node verified in CheckTx come from
// the verified cache (and leave it); the rest are decoded and their signatures verified in
// one batch. errs[i] is set for a transaction that fails either step.
func (m *Mux) decodeBlock(txs [][]byte) ([]*verifiedTx, []error) {
	decoded := make([]*verifiedTx, len(txs))
	errs := make([]error, len(txs))
	var batch *signature.BatchVerifier
	var inBatch []int
	maxBytes := m.chain.doc.Consensus.MaxTxBytes
	for i, raw := range txs {
		if int64(len(raw)) > maxBytes {
			errs[i] = fmt.Errorf("%w: %d bytes, limit %d", transaction.ErrTooLarge, len(raw), maxBytes)
			continue
		}
		if d, ok := m.verified.get(raw); ok {
			decoded[i] = d
			m.verified.remove(raw)
			m.stats.hits.Add(1)
			continue
		}
		d, err := transaction.Decode(raw)
		if err != nil {
			errs[i] = err
			continue
		}
		if batch == nil {
			batch = signature.NewBatchVerifier(len(txs) - i)
		}
		d.AddToBatch(batch, m.chain.txContext)
		inBatch = append(inBatch, i)
		decoded[i] = newVerifiedTx(d)
	}
	if batch != nil {
		m.stats.batch.Add(uint64(batch.Len()))
		_, valid := batch.Verify(nil)
		for j, i := range inBatch {
			if !valid[j] {
				errs[i] = fmt.Errorf("%w: batch verification", transaction.ErrInvalidSignature)
				decoded[i] = nil
			}
		}
	}
	return decoded, errs
}
