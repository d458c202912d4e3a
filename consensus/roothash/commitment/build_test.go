package commitment

import (
	"strconv"

	"github.com/cockroachdb/datadriven"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/roothash/api"
)

// commitOptions are the key=value arguments of one commitment line:
//
//	result=A          results label (default A); failure=unknown|state-unavailable instead
//	msgs=N            the result's runtime messages (attached by the scheduler only)
//	attach=yes|no     attach the messages regardless of role
//	batch=main        the input batch label
//	on=previous       build on the block before the latest (a stale round)
//	sched-signer=w1   who signs the proposed batch (default: the round's scheduler)
//	receipts=(s0,s1)  results receipt signers; input-receipts=(...) the input receipt signers
//	rak=none|bad|yes  omit, forge or (without a TEE) add the RAK signature
//	fault=(...)       round, prev-hash, signature, runtime (signed for another runtime),
//	                  no-sched-sig, sched-sig, receipt-roots, failure-with-roots, messages-hash
type commitOptions map[string][]string

func parseCommitOptions(args []datadriven.CmdArg) commitOptions {
	o := make(commitOptions, len(args))
	for _, a := range args {
		o[a.Key] = a.Vals
	}
	return o
}

func (o commitOptions) get(key, def string) string {
	if v, ok := o[key]; ok && len(v) > 0 {
		return v[0]
	}
	return def
}

func (o commitOptions) list(key string, def []string) []string {
	v, ok := o[key]
	if !ok {
		return def
	}
	out := []string{}
	for _, s := range v {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (o commitOptions) fault(name string) bool {
	for _, f := range o["fault"] {
		if f == name {
			return true
		}
	}
	return false
}

func (h *harness) defaultReceiptSigners() []string {
	names := make([]string, h.limits.MinWriteReplication)
	for i := range names {
		names[i] = "s" + strconv.Itoa(i)
	}
	return names
}

func (h *harness) receipts(signers []string, body *api.ReceiptBody) []api.StorageSignature {
	out := make([]api.StorageSignature, len(signers))
	for i, name := range signers {
		s, err := api.SignReceipt(h.signer(name), h.chain, body)
		if err != nil {
			h.t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

func (h *harness) buildCommitment(nodeName string, o commitOptions) *api.ExecutorCommitment {
	latest := h.cfg.Latest
	if o.get("on", "") == "previous" {
		latest = h.previous
	}
	round, prev := latest.Round+1, latest.Hash()
	if o.fault("round") {
		round++
	}
	if o.fault("prev-hash") {
		prev = hash.Digest([]byte("another block"))
	}
	scheduler := h.name(h.cfg.Committee.Scheduler(round))
	input := h.label("input", o.get("batch", "main"))
	inputReceipt := api.InputReceipt(h.runtime, round, input)
	body := api.ComputeBody{
		Header:           api.ComputeResultsHeader{Round: round, PreviousHash: prev},
		InputRoot:        input,
		InputStorageSigs: h.receipts(o.list("input-receipts", h.defaultReceiptSigners()), &inputReceipt),
	}
	batchHeader := latest
	if o.fault("sched-sig") {
		batchHeader.Timestamp++
	}
	batch := api.ProposedBatch{InputRoot: input, InputStorageSigs: body.InputStorageSigs, Header: batchHeader}
	schedSig, err := api.SignProposedBatch(h.signer(o.get("sched-signer", scheduler)), h.chain, &batch)
	if err != nil {
		h.t.Fatal(err)
	}
	if !o.fault("no-sched-sig") {
		body.TxnSchedSig = schedSig
	}
	if f := o.get("failure", ""); f != "" {
		body.Failure = api.FailureUnknown
		if f == "state-unavailable" {
			body.Failure = api.FailureStateUnavailable
		}
		if o.fault("failure-with-roots") {
			body.Header.IORoot = h.label("io", "A")
		}
	} else {
		h.fillResults(&body, nodeName, nodeName == scheduler, o)
	}
	signerName := nodeName
	if o.fault("signature") {
		signerName = "forger"
	}
	runtime := h.runtime
	if o.fault("runtime") {
		runtime = namespace.Namespace(hash.Digest([]byte("another runtime")))
	}
	c, err := api.SignExecutorCommitment(h.signer(signerName), h.chain, runtime, &body)
	if err != nil {
		h.t.Fatal(err)
	}
	c.Signature.PublicKey = h.key(nodeName)
	return c
}

func (h *harness) fillResults(body *api.ComputeBody, nodeName string, isScheduler bool, o commitOptions) {
	label := o.get("result", "A")
	n, err := strconv.Atoi(o.get("msgs", "0"))
	if err != nil {
		h.t.Fatal(err)
	}
	msgs := testMessages(label, n)
	ioRoot, stateRoot := h.label("io", label), h.label("state", label)
	body.Header.IORoot, body.Header.StateRoot = ioRoot, stateRoot
	body.Header.MessagesHash = api.MessagesHash(msgs)
	if attach := o.get("attach", ""); attach == "yes" || (attach == "" && isScheduler) {
		body.Messages = msgs
	}
	if o.fault("messages-hash") {
		body.Header.MessagesHash = hash.Digest([]byte("other messages"))
	}
	results := api.ResultsReceipt(h.runtime, body.Header.Round, ioRoot, stateRoot)
	if o.fault("receipt-roots") {
		results = api.ResultsReceipt(h.runtime, body.Header.Round, stateRoot, ioRoot)
	}
	body.StorageSignatures = h.receipts(o.list("receipts", h.defaultReceiptSigners()), &results)
	var rak *signature.MemorySigner
	switch o.get("rak", "") {
	case "none":
	case "bad":
		rak = h.signer("rak-forged")
	case "yes":
		rak = h.signer("rak-" + nodeName)
	default:
		if h.tee {
			rak = h.signer("rak-" + nodeName)
		}
	}
	if rak != nil {
		sig, err := api.SignResultsHeader(rak, h.chain, h.runtime, &body.Header)
		if err != nil {
			h.t.Fatal(err)
		}
		body.RAKSig = &sig
	}
}
