package messages

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// This file holds the host → runtime requests and their responses. A request answered with
// Empty says so; every other request has its own response type.

const (
	rakPublicKeySize = 32
	rakSignatureSize = 64
)

// Empty is the response to requests that return nothing.
type Empty struct{}

// RuntimeInfoRequest opens the handshake: the host tells the runtime who it is and on which
// chain. It must be the first request the host sends.
type RuntimeInfoRequest struct {
	RuntimeID             namespace.Namespace `cbor:"runtime_id"`
	ConsensusChainContext hash.Hash           `cbor:"consensus_chain_context"`
	// LocalConfig is the node operator's configuration for this runtime, CBOR the runtime
	// decodes itself; absent when there is none.
	LocalConfig cbor.RawMessage `cbor:"local_config,omitempty"`
}

// Features are optional capabilities a runtime announces in the handshake.
type Features struct {
	// CapabilityTEE: the runtime runs in a TEE and serves the RAK init and report requests.
	CapabilityTEE bool `cbor:"capability_tee,omitempty"`
}

// RuntimeInfoResponse closes the handshake. The host refuses a runtime whose protocol major
// version differs from its own.
type RuntimeInfoResponse struct {
	ProtocolVersion version.Version `cbor:"protocol_version"`
	RuntimeVersion  version.Version `cbor:"runtime_version"`
	Features        Features        `cbor:"features"`
}

// RuntimePingRequest asks the runtime to answer Empty, showing it is alive.
type RuntimePingRequest struct{}

// RuntimeAbortRequest asks the runtime to abandon the batch it is executing; it answers Empty
// once it has. A runtime that does not answer in time is killed by the host.
type RuntimeAbortRequest struct{}

// RuntimeShutdownRequest asks the runtime to exit cleanly; it answers Empty (or its connection
// simply ends) and then exits.
type RuntimeShutdownRequest struct{}

// RuntimeCheckTxBatchRequest asks the runtime to check transactions for admission to the pool,
// against the state of Block.
type RuntimeCheckTxBatchRequest struct {
	Inputs [][]byte        `cbor:"inputs"`
	Block  roothash.Header `cbor:"block"`
	Epoch  uint64          `cbor:"epoch"`
}

// CheckTxMetadata is what the runtime tells the pool about an accepted transaction.
type CheckTxMetadata struct {
	// Priority orders transactions in the pool, higher first.
	Priority uint64 `cbor:"priority,omitempty"`
	// Sender and SenderSeq identify the transaction's sender and its sequence number, so the
	// pool can keep one sender's transactions in order.
	Sender    []byte `cbor:"sender,omitempty"`
	SenderSeq uint64 `cbor:"sender_seq,omitempty"`
}

// CheckTxResult is the verdict on one input: accepted when Error has code 0.
type CheckTxResult struct {
	Error Error            `cbor:"error"`
	Meta  *CheckTxMetadata `cbor:"meta,omitempty"`
}

// IsSuccess reports whether the transaction was accepted.
func (r *CheckTxResult) IsSuccess() bool { return r.Error.Code == 0 }

// RuntimeCheckTxBatchResponse holds one result per input, in input order.
type RuntimeCheckTxBatchResponse struct {
	Results []CheckTxResult `cbor:"results"`
}

// BatchLimits bound what one ExecuteTxBatch may produce, so that its result fits in a frame
// and in one storage apply (DESIGN.md §6 batch size rule).
type BatchLimits struct {
	// MaxApplyWriteLogEntries is the most entries the IO and state write logs may hold
	// together.
	MaxApplyWriteLogEntries uint64 `cbor:"max_apply_write_log_entries"`
	// MaxBatchBytes is the most bytes the encoded write logs may take together; the host sets
	// it to half its frame cap.
	MaxBatchBytes uint64 `cbor:"max_batch_bytes"`
}

// RuntimeExecuteTxBatchRequest asks the runtime to execute a batch on top of Block.
//
// IORoot is the batch's input root (the inputs-only IO tree the scheduler stored); the
// runtime's IO write log applies on it. RoundResults are those of the last Normal block.
// The runtime executes inputs in order and stops before one that would push its write logs past
// Limits; those it did not execute are reported in Unexecuted. An input that alone would break
// a limit is executed as failed, never deferred.
type RuntimeExecuteTxBatchRequest struct {
	IORoot       hash.Hash             `cbor:"io_root"`
	Inputs       [][]byte              `cbor:"inputs"`
	RoundResults roothash.RoundResults `cbor:"round_results"`
	Block        roothash.Header       `cbor:"block"`
	Epoch        uint64                `cbor:"epoch"`
	MaxMessages  uint32                `cbor:"max_messages"`
	Limits       BatchLimits           `cbor:"limits"`
}

// ComputedBatch is the outcome of executing a batch: the results header, the write logs that
// take the input root to the IO root and the previous state root to the new one, the RAK's
// signature over the header when the runtime runs in a TEE, and the messages for the consensus
// layer.
type ComputedBatch struct {
	Header        roothash.ComputeResultsHeader `cbor:"header"`
	IOWriteLog    writelog.WriteLog             `cbor:"io_write_log"`
	StateWriteLog writelog.WriteLog             `cbor:"state_write_log"`
	// RakSig is a 64-byte Ed25519 signature; absent outside a TEE.
	RakSig   []byte             `cbor:"rak_sig,omitempty"`
	Messages []roothash.Message `cbor:"messages,omitempty"`
}

// RuntimeExecuteTxBatchResponse reports an executed batch.
type RuntimeExecuteTxBatchResponse struct {
	Batch ComputedBatch `cbor:"batch"`
	// TxHashes are the hashes of the executed inputs, in batch order.
	TxHashes []hash.Hash `cbor:"tx_hashes"`
	// TxRejectHashes are the hashes of inputs the runtime found invalid and the pool should
	// drop.
	TxRejectHashes []hash.Hash `cbor:"tx_reject_hashes,omitempty"`
	// Unexecuted are the hashes of inputs left out to respect the batch limits; they stay in
	// the pool for a later round.
	Unexecuted []hash.Hash `cbor:"unexecuted,omitempty"`
}

// ValidateBasic checks the RAK signature's length; the batch's meaning is checked by the
// executor against its request.
func (r *RuntimeExecuteTxBatchResponse) ValidateBasic() error {
	if n := len(r.Batch.RakSig); n != 0 && n != rakSignatureSize {
		return fmt.Errorf("%w: rak_sig of %d bytes, want %d", ErrMalformedMessage, n, rakSignatureSize)
	}
	return nil
}

// RuntimeQueryRequest asks the runtime to answer a read-only query against the state of Block.
type RuntimeQueryRequest struct {
	Method string          `cbor:"method"`
	Args   cbor.RawMessage `cbor:"args,omitempty"`
	Block  roothash.Header `cbor:"block"`
}

// RuntimeQueryResponse carries the query's CBOR result.
type RuntimeQueryResponse struct {
	Data cbor.RawMessage `cbor:"data,omitempty"`
}

// RuntimeCapabilityTEERakInitRequest asks a TEE runtime to create its runtime attestation key
// for the quoting target described by TargetInfo; it answers Empty.
type RuntimeCapabilityTEERakInitRequest struct {
	TargetInfo []byte `cbor:"target_info"`
}

// RuntimeCapabilityTEERakReportRequest asks a TEE runtime for an attestation report binding
// its RAK.
type RuntimeCapabilityTEERakReportRequest struct{}

// RuntimeCapabilityTEERakReportResponse carries the RAK's 32-byte public key, the TEE report
// binding it, and the nonce the report was made with.
type RuntimeCapabilityTEERakReportResponse struct {
	RakPub []byte `cbor:"rak_pub"`
	Report []byte `cbor:"report"`
	Nonce  []byte `cbor:"nonce"`
}

// ValidateBasic checks the RAK public key's length.
func (r *RuntimeCapabilityTEERakReportResponse) ValidateBasic() error {
	if len(r.RakPub) != rakPublicKeySize {
		return fmt.Errorf("%w: rak_pub of %d bytes, want %d", ErrMalformedMessage, len(r.RakPub), rakPublicKeySize)
	}
	return nil
}
