package commitment

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// errInvalidParams marks VerifyParams that the caller built wrongly: a broken node, not a
// rejected transaction, so it carries no code.
var errInvalidParams = errors.New("commitment: invalid verification parameters")

// Limits are the runtime's limits a commitment is checked against.
type Limits struct {
	// MinWriteReplication is the least number of distinct storage-committee receipts each
	// receipt set needs (storage.min_write_replication, ≥ 1).
	MinWriteReplication uint64
	// MaxMessages bounds the scheduler's runtime messages (executor.max_messages).
	MaxMessages uint64
}

// TEEPolicy is given for runtimes that require a TEE.
type TEEPolicy struct {
	// RAKs maps a node key to the runtime attestation key registered in that node's entry for
	// the runtime's active version. A node without one cannot commit results.
	RAKs map[signature.PublicKey]signature.PublicKey
}

// VerifyParams is the chain state commitments are verified against. The runtime is
// Latest.Namespace.
type VerifyParams struct {
	// ChainContext binds the signing contexts to the chain; never zero.
	ChainContext hash.Hash
	// Latest is the runtime's latest block: commitments are for round Latest.Round + 1 with
	// previous hash Latest.Hash(), and txn_sched_sig covers it.
	Latest *api.Header
	// Committee is the current executor committee.
	Committee *Committee
	// StorageCommittee lists the node keys of the current storage committee.
	StorageCommittee []signature.PublicKey
	Limits           Limits
	// TEE is nil for runtimes without a TEE; then a commitment carrying rak_sig is rejected.
	TEE *TEEPolicy
}

func (p *VerifyParams) validate() error {
	switch {
	case p.ChainContext.IsZero():
		return fmt.Errorf("%w: zero chain context", errInvalidParams)
	case p.Latest == nil:
		return fmt.Errorf("%w: no latest block", errInvalidParams)
	case p.Committee == nil:
		return fmt.Errorf("%w: no committee", errInvalidParams)
	case p.Limits.MinWriteReplication == 0:
		return fmt.Errorf("%w: min_write_replication is 0", errInvalidParams)
	}
	if err := p.Committee.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", errInvalidParams, err)
	}
	return nil
}

// Verified is a commitment that passed VerifyCommitments: the only kind the pool accepts. It
// is immutable; its accessors return views the caller must not modify.
type Verified struct {
	commitment api.ExecutorCommitment
	body       api.ComputeBody
	role       Role
}

// Node returns the signer.
func (v *Verified) Node() signature.PublicKey { return v.commitment.Node() }

// Role returns the signer's role in the committee it was verified against.
func (v *Verified) Role() Role { return v.role }

// Body returns the decoded body.
func (v *Verified) Body() *api.ComputeBody { return &v.body }

// Commitment returns the signed envelope.
func (v *Verified) Commitment() *api.ExecutorCommitment { return &v.commitment }

// VerifyCommitment verifies one commitment; see VerifyCommitments.
func VerifyCommitment(p *VerifyParams, c *api.ExecutorCommitment) (*Verified, error) {
	vs, errs := VerifyCommitments(p, []api.ExecutorCommitment{*c})
	return vs[0], errs[0]
}

// VerifyCommitments checks each commitment fully against p and returns, per commitment, the
// Verified value or the error (exactly one of them is nil). The checks, in order, each with its
// coded error: the blob decodes canonically (ErrMalformedCommitment); the body's
// ValidateBasic (a failure carries only round, previous hash, txn_sched_sig, input root and
// input receipts); the signer is a worker or backup (ErrNotInCommittee); round and previous
// hash are the latest block's successors (ErrWrongRound, ErrWrongPreviousHash); txn_sched_sig
// is by the round's scheduler (ErrNotScheduler); only the scheduler carries messages, at most
// max_messages, hashing to the header's messages_hash; each receipt set is from distinct
// storage-committee members (ErrForeignReceipt, ErrDuplicateReceipt), at least
// min_write_replication of them (ErrTooFewReceipts); a TEE runtime's success carries a RAK
// signature by the node's registered RAK (ErrMissingRAKSig, ErrInvalidRAKSig). Then the
// signatures, all of the call in one batch: the node's (ErrInvalidSignature), the scheduler's
// over ProposedBatch{input_root, input_storage_sigs, latest header} (ErrInvalidTxnSchedSig),
// every receipt over the body rebuilt from the header (ErrInvalidReceipt), the RAK's over the
// results header (ErrInvalidRAKSig).
//
// Whether a backup may commit now (only during a discrepancy) is the pool's to decide. A p that
// is itself invalid fails every commitment with an uncoded error.
func VerifyCommitments(p *VerifyParams, cs []api.ExecutorCommitment) ([]*Verified, []error) {
	verified := make([]*Verified, len(cs))
	errs := make([]error, len(cs))
	if err := p.validate(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return verified, errs
	}
	v := verifier{p: p, prevHash: p.Latest.Hash(), bv: signature.NewBatchVerifier(8 * len(cs))}
	for i := range cs {
		vc, err := v.precheck(&cs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		v.addSignatures(i, vc)
		verified[i] = vc
	}
	_, valid := v.bv.Verify(nil)
	for j, e := range v.entries {
		if valid[j] || errs[e.commit] != nil {
			continue
		}
		errs[e.commit] = e.err()
		verified[e.commit] = nil
	}
	return verified, errs
}

// sigCheck names what a batch entry checks.
type sigCheck uint8

const (
	sigCommitment sigCheck = iota
	sigTxnSched
	sigInputReceipt
	sigResultsReceipt
	sigRAK
)

type sigEntry struct {
	commit int
	check  sigCheck
	signer signature.PublicKey
}

func (e *sigEntry) err() error {
	switch e.check {
	case sigCommitment:
		return fmt.Errorf("%w: by %s", api.ErrInvalidSignature, e.signer)
	case sigTxnSched:
		return fmt.Errorf("%w: by %s", api.ErrInvalidTxnSchedSig, e.signer)
	case sigInputReceipt:
		return fmt.Errorf("%w: input receipt by %s", api.ErrInvalidReceipt, e.signer)
	case sigResultsReceipt:
		return fmt.Errorf("%w: results receipt by %s", api.ErrInvalidReceipt, e.signer)
	default:
		return fmt.Errorf("%w: RAK %s", api.ErrInvalidRAKSig, e.signer)
	}
}

type verifier struct {
	p        *VerifyParams
	prevHash hash.Hash
	bv       *signature.BatchVerifier
	entries  []sigEntry
}

func (v *verifier) precheck(c *api.ExecutorCommitment) (*Verified, error) {
	body, err := c.Body()
	if err != nil {
		return nil, err
	}
	if err := body.ValidateBasic(); err != nil {
		return nil, err
	}
	p := v.p
	node := c.Node()
	role := p.Committee.Role(node)
	if role == RoleNone {
		return nil, fmt.Errorf("%w: %s", api.ErrNotInCommittee, node)
	}
	round := p.Latest.Round + 1
	if body.Header.Round != round {
		return nil, fmt.Errorf("%w: round %d, want %d", api.ErrWrongRound, body.Header.Round, round)
	}
	if body.Header.PreviousHash != v.prevHash {
		return nil, fmt.Errorf("%w: %s, want %s", api.ErrWrongPreviousHash, body.Header.PreviousHash, v.prevHash)
	}
	scheduler := p.Committee.Scheduler(round)
	if body.TxnSchedSig.PublicKey != scheduler {
		return nil, fmt.Errorf("%w: signed by %s, scheduler is %s", api.ErrNotScheduler, body.TxnSchedSig.PublicKey, scheduler)
	}
	if err := v.checkMessages(node == scheduler, body); err != nil {
		return nil, err
	}
	if err := v.checkReceiptSigners(body.InputStorageSigs, "input"); err != nil {
		return nil, err
	}
	if !body.IsFailure() {
		if err := v.checkReceiptSigners(body.StorageSignatures, "results"); err != nil {
			return nil, err
		}
	}
	if err := v.checkRAKPresence(node, body); err != nil {
		return nil, err
	}
	return &Verified{commitment: *c, body: *body, role: role}, nil
}

func (v *verifier) checkMessages(isScheduler bool, body *api.ComputeBody) error {
	n := uint64(len(body.Messages))
	switch {
	case n != 0 && !isScheduler:
		return fmt.Errorf("%w: %d messages", api.ErrMessagesFromNonScheduler, n)
	case n > v.p.Limits.MaxMessages:
		return fmt.Errorf("%w: %d, max %d", api.ErrTooManyMessages, n, v.p.Limits.MaxMessages)
	case isScheduler && !body.IsFailure() && api.MessagesHash(body.Messages) != body.Header.MessagesHash:
		return fmt.Errorf("%w: messages hash to %s, header has %s", api.ErrMessagesHashMismatch, api.MessagesHash(body.Messages), body.Header.MessagesHash)
	}
	return nil
}

func (v *verifier) checkReceiptSigners(sigs []api.StorageSignature, what string) error {
	for i := range sigs {
		pk := sigs[i].Key()
		if !containsKey(v.p.StorageCommittee, pk) {
			return fmt.Errorf("%w: %s receipt by %s", api.ErrForeignReceipt, what, pk)
		}
		for j := range sigs[:i] {
			if sigs[j].PublicKey == sigs[i].PublicKey {
				return fmt.Errorf("%w: %s receipts by %s", api.ErrDuplicateReceipt, what, pk)
			}
		}
	}
	if n := uint64(len(sigs)); n < v.p.Limits.MinWriteReplication {
		return fmt.Errorf("%w: %d %s receipts, need %d", api.ErrTooFewReceipts, n, what, v.p.Limits.MinWriteReplication)
	}
	return nil
}

func (v *verifier) checkRAKPresence(node signature.PublicKey, body *api.ComputeBody) error {
	switch {
	case v.p.TEE == nil && body.RAKSig != nil:
		return fmt.Errorf("%w: the runtime needs no TEE", api.ErrInvalidRAKSig)
	case v.p.TEE == nil || body.IsFailure():
		return nil
	case body.RAKSig == nil:
		return api.ErrMissingRAKSig
	}
	if _, ok := v.p.TEE.RAKs[node]; !ok {
		return fmt.Errorf("%w: node %s has no registered RAK", api.ErrInvalidRAKSig, node)
	}
	return nil
}

// addSignatures queues the commitment's signatures in check order, so that the first failing
// entry of a commitment names the first failing check.
func (v *verifier) addSignatures(i int, vc *Verified) {
	p, body := v.p, &vc.body
	ns := p.Latest.Namespace
	add := func(check sigCheck, pk signature.PublicKey, bctx signature.BoundContext, msg []byte, sig signature.RawSignature) {
		v.bv.Add(pk, bctx, msg, sig)
		v.entries = append(v.entries, sigEntry{commit: i, check: check, signer: pk})
	}
	add(sigCommitment, vc.Node(), api.Bind(api.ExecutorCommitmentContext, p.ChainContext, ns), vc.commitment.Blob, vc.commitment.Signature.Signature)
	add(sigTxnSched, body.TxnSchedSig.PublicKey, api.Bind(api.ProposedBatchContext, p.ChainContext, ns),
		cbor.Marshal(body.ProposedBatch(p.Latest)), body.TxnSchedSig.Signature)
	receiptCtx := api.BoundReceiptContext(p.ChainContext, ns)
	input := api.InputReceipt(ns, body.Header.Round, body.InputRoot)
	inputMsg := cbor.Marshal(&input)
	for _, s := range body.InputStorageSigs {
		add(sigInputReceipt, s.Key(), receiptCtx, inputMsg, s.Raw())
	}
	if body.IsFailure() {
		return
	}
	results := api.ResultsReceipt(ns, body.Header.Round, body.Header.IORoot, body.Header.StateRoot)
	resultsMsg := cbor.Marshal(&results)
	for _, s := range body.StorageSignatures {
		add(sigResultsReceipt, s.Key(), receiptCtx, resultsMsg, s.Raw())
	}
	if p.TEE != nil {
		add(sigRAK, p.TEE.RAKs[vc.Node()], api.Bind(api.ComputeResultsHeaderContext, p.ChainContext, ns),
			cbor.Marshal(&body.Header), *body.RAKSig)
	}
}

func containsKey(keys []signature.PublicKey, pk signature.PublicKey) bool {
	for _, k := range keys {
		if k == pk {
			return true
		}
	}
	return false
}
