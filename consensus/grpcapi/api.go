// Package grpcapi is the consensus layer's gRPC service, atoll.consensus.Consensus, and its
// typed Go client. (Package consensus/api is reserved for pure types; this package imports
// gRPC and the CometBFT embedding, so it lives apart.)
//
// The service reads the consensus state (epoch, accounts, any application query), the chain
// (blocks, their events from the stored FinalizeBlock responses, a stream of committed blocks
// with their transactions' outcomes) and submits transactions: one at a time waiting for
// inclusion, or in batches without waiting.
//
// Contract:
//   - Every method is declared once below and shared by the server (Service.Methods) and the
//     Client. Messages are CBOR (package rpc).
//   - Every bad request fails with a coded error: ErrInvalidArgument for a malformed field,
//     ErrNoBlock for a height the node does not have, ErrNotReady while consensus is not
//     running or before the first block, ErrMempoolFull and ErrDuplicateTx for the mempool's
//     refusals, and the applications' own coded errors (staking, consensus) for transactions
//     and queries they reject. errors.Is holds on the client side.
//   - A transaction hash is the Atoll hash, H(raw signed transaction) (SHA-512/256), not
//     CometBFT's SHA-256.
//   - Every Client call has a deadline: the caller's, or the Client's default for that kind of
//     call (ClientConfig).
package grpcapi

import (
	"time"

	"github.com/atoll-project/atoll/common/cbor"
	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/rpc"
)

// ServiceName is the gRPC service name.
const ServiceName = "atoll.consensus.Consensus"

// ModuleName is the module of this package's coded errors.
const ModuleName = "consensus/grpc"

// Limits on requests.
const (
	// MaxBatchTxs bounds the transactions of one SubmitTxs call.
	MaxBatchTxs = 10_000
	// MaxQueryMethodLength bounds Query's method name.
	MaxQueryMethodLength = 64
)

// Coded errors of the service.
var (
	// ErrInvalidArgument: a request field is out of range or malformed.
	ErrInvalidArgument = cerrors.New(ModuleName, 1, "invalid argument")
	// ErrNoBlock: the node has no block (or no state) at the requested height.
	ErrNoBlock = cerrors.New(ModuleName, 2, "no block at this height")
	// ErrNotReady: consensus is not running yet, or no block is committed yet.
	ErrNotReady = cerrors.New(ModuleName, 3, "consensus not ready")
	// ErrMempoolFull: the mempool is full (or still rechecking after a block); retry later.
	ErrMempoolFull = cerrors.New(ModuleName, 4, "mempool is full")
	// ErrDuplicateTx: the mempool has seen this exact transaction recently.
	ErrDuplicateTx = cerrors.New(ModuleName, 5, "transaction already in the mempool cache")
	// ErrInternal: the node failed to answer (its error is in the message).
	ErrInternal = cerrors.New(ModuleName, 6, "internal node error")
)

// Method declarations, shared by the server and the client.
var (
	MethodStatus      = rpc.NewUnary[StatusRequest, Status](ServiceName, "Status")
	MethodEpoch       = rpc.NewUnary[HeightRequest, Epoch](ServiceName, "Epoch")
	MethodAccount     = rpc.NewUnary[AccountRequest, Account](ServiceName, "Account")
	MethodQuery       = rpc.NewUnary[QueryRequest, QueryResponse](ServiceName, "Query")
	MethodBlock       = rpc.NewUnary[HeightRequest, Block](ServiceName, "Block")
	MethodEvents      = rpc.NewUnary[HeightRequest, BlockEvents](ServiceName, "Events")
	MethodSubmitTx    = rpc.NewUnary[SubmitTxRequest, TxResult](ServiceName, "SubmitTx")
	MethodSubmitTxs   = rpc.NewUnary[SubmitTxsRequest, SubmitTxsResponse](ServiceName, "SubmitTxs")
	MethodWatchBlocks = rpc.NewServerStream[WatchBlocksRequest, BlockOutcomes](ServiceName, "WatchBlocks")
)

// StatusRequest is the (empty) request of Status.
type StatusRequest struct{}

// Status describes the node's view of the chain.
type Status struct {
	// ChainID is the genesis document's human name ("atoll-devnet").
	ChainID string `cbor:"chain_id" json:"chain_id"`
	// CometBFTChainID is CometBFT's chain_id, the first 50 hex characters of ChainContext.
	CometBFTChainID string `cbor:"cometbft_chain_id" json:"cometbft_chain_id"`
	// ChainContext is the hash of the genesis document, which transactions are signed for.
	ChainContext hash.Hash `cbor:"chain_context" json:"chain_context"`
	// GenesisHeight is the height of the chain's first block.
	GenesisHeight int64 `cbor:"genesis_height" json:"genesis_height"`
	// LatestHeight, LatestHash, LatestTime and LatestAppHash describe the latest block
	// CometBFT stored; LatestAppHash is the state root before that block (CometBFT's header
	// convention).
	LatestHeight  int64     `cbor:"latest_height" json:"latest_height"`
	LatestHash    hash.Hash `cbor:"latest_hash" json:"latest_hash"`
	LatestTime    time.Time `cbor:"latest_time" json:"latest_time"`
	LatestAppHash hash.Hash `cbor:"latest_app_hash" json:"latest_app_hash"`
	// CommittedHeight and StateRoot are the application's last committed height and the
	// state root after it.
	CommittedHeight int64     `cbor:"committed_height" json:"committed_height"`
	StateRoot       hash.Hash `cbor:"state_root" json:"state_root"`
	// Epoch is the epoch at CommittedHeight (0 before the first block).
	Epoch beacon.EpochTime `cbor:"epoch" json:"epoch"`
	// CatchingUp is set while the node syncs blocks from peers.
	CatchingUp bool `cbor:"catching_up" json:"catching_up"`
	// Validator is set when the node's consensus key has voting power.
	Validator   bool   `cbor:"validator" json:"validator"`
	VotingPower int64  `cbor:"voting_power" json:"voting_power"`
	P2PID       string `cbor:"p2p_id" json:"p2p_id"`
	Moniker     string `cbor:"moniker" json:"moniker"`
}

// HeightRequest names a height; 0 means the latest.
type HeightRequest struct {
	Height int64 `cbor:"height"`
}

// Epoch is the beacon's epoch at a height.
type Epoch struct {
	// Height is the height the answer is for.
	Height int64            `cbor:"height" json:"height"`
	Epoch  beacon.EpochTime `cbor:"epoch" json:"epoch"`
	// StartHeight is the height of the epoch's first block.
	StartHeight int64 `cbor:"start_height" json:"start_height"`
	// Interval is the number of blocks per epoch.
	Interval int64 `cbor:"interval" json:"interval"`
	// Entropy is the epoch's entropy (insecure dev backend: predictable, see beacon/api).
	Entropy hash.Hash `cbor:"entropy" json:"entropy"`
}

// AccountRequest names an account at a height (0: the latest).
type AccountRequest struct {
	Address staking.Address `cbor:"address"`
	Height  int64           `cbor:"height"`
}

// Account is a staking account at a height.
type Account struct {
	Address staking.Address `cbor:"address"`
	Height  int64           `cbor:"height"`
	Account staking.Account `cbor:"account"`
}

// QueryRequest runs an application query ("staking.Delegations") with CBOR arguments at a
// height (0: the latest).
type QueryRequest struct {
	Method string          `cbor:"method"`
	Args   cbor.RawMessage `cbor:"args,omitempty"`
	Height int64           `cbor:"height"`
}

// QueryResponse is a query's CBOR answer and the height it is for.
type QueryResponse struct {
	Height int64           `cbor:"height"`
	Value  cbor.RawMessage `cbor:"value"`
}

// Block is a committed block's header facts and its transactions' hashes.
type Block struct {
	Height int64     `cbor:"height" json:"height"`
	Hash   hash.Hash `cbor:"hash" json:"hash"`
	Time   time.Time `cbor:"time" json:"time"`
	// AppHash is the state root before this block (CometBFT's header convention);
	// StateRoot is the state root after it, from the block's results.
	AppHash   hash.Hash `cbor:"app_hash" json:"app_hash"`
	StateRoot hash.Hash `cbor:"state_root" json:"state_root"`
	// Proposer is the proposer's CometBFT validator address (hex).
	Proposer string      `cbor:"proposer" json:"proposer"`
	TxHashes []hash.Hash `cbor:"tx_hashes" json:"tx_hashes"`
}

// Event is an Atoll event: its kind ("staking.Transfer") and its CBOR body. Decode it with
// DecodeEvent or Decode.
type Event struct {
	Kind string          `cbor:"kind" json:"kind"`
	Body cbor.RawMessage `cbor:"body" json:"-"`
}

// TxEvents are one transaction's outcome and events.
type TxEvents struct {
	Index  int           `cbor:"index" json:"index"`
	Hash   hash.Hash     `cbor:"hash" json:"hash"`
	Error  *cerrors.Wire `cbor:"error,omitempty" json:"error,omitempty"`
	Events []Event       `cbor:"events" json:"events"`
}

// BlockEvents are the events of a block: the block's own (BeginBlock and EndBlock) and each
// transaction's.
type BlockEvents struct {
	Height int64      `cbor:"height" json:"height"`
	Block  []Event    `cbor:"block" json:"block"`
	Txs    []TxEvents `cbor:"txs" json:"txs"`
}

// SubmitTxRequest submits one raw signed transaction and waits for its inclusion.
type SubmitTxRequest struct {
	Tx []byte `cbor:"tx"`
}

// TxResult is an included transaction's outcome. Error is set when it failed in the block
// (its fee and nonce are spent all the same).
type TxResult struct {
	Hash      hash.Hash     `cbor:"hash" json:"hash"`
	Height    int64         `cbor:"height" json:"height"`
	Index     int           `cbor:"index" json:"index"`
	GasWanted int64         `cbor:"gas_wanted" json:"gas_wanted"`
	GasUsed   int64         `cbor:"gas_used" json:"gas_used"`
	Error     *cerrors.Wire `cbor:"error,omitempty" json:"error,omitempty"`
	Events    []Event       `cbor:"events" json:"events"`
}

// Err returns the transaction's coded failure, or nil when it succeeded.
func (r *TxResult) Err() error {
	if r.Error == nil {
		return nil
	}
	return cerrors.FromWire(*r.Error)
}

// SubmitTxsRequest submits raw signed transactions, in order, without waiting for inclusion.
type SubmitTxsRequest struct {
	Txs [][]byte `cbor:"txs"`
}

// SubmitTxsResponse holds one verdict per submitted transaction, in order: nil when the
// mempool accepted it, else its coded rejection.
type SubmitTxsResponse struct {
	Rejections []*cerrors.Wire `cbor:"rejections"`
}

// WatchBlocksRequest streams committed blocks from FromHeight on (0: from the next block).
type WatchBlocksRequest struct {
	FromHeight int64 `cbor:"from_height"`
}

// BlockOutcomes are a committed block's transactions with their outcomes.
type BlockOutcomes struct {
	Height int64       `cbor:"height"`
	Time   time.Time   `cbor:"time"`
	Txs    []TxOutcome `cbor:"txs"`
}

// TxOutcome is one transaction of a block: its hash and, when it failed, its error code.
type TxOutcome struct {
	Hash   hash.Hash `cbor:"hash"`
	Module string    `cbor:"module,omitempty"`
	Code   uint32    `cbor:"code,omitempty"`
}
