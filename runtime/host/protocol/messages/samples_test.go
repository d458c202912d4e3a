package messages

import (
	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/version"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

func sampleRuntimeID() namespace.Namespace {
	var ns namespace.Namespace
	ns[0], ns[31] = 0x80, 0x01
	return ns
}

func sampleBlock() roothash.Header {
	return roothash.Header{
		Namespace:    sampleRuntimeID(),
		Round:        41,
		Timestamp:    1_700_000_000,
		HeaderType:   roothash.HeaderTypeNormal,
		PreviousHash: hash.Digest([]byte("round 40")),
		IORoot:       hash.Digest([]byte("io 41")),
		StateRoot:    hash.Digest([]byte("state 41")),
		MessagesHash: hash.Empty,
	}
}

func sampleTreeID() syncer.TreeID {
	root := node.Root{Namespace: sampleRuntimeID(), Version: 41, Type: node.RootTypeState, Hash: hash.Digest([]byte("state 41"))}
	return syncer.TreeID{Root: root, Position: root.Hash}
}

// sampleBodies returns one body of every kind, keyed by kind, with realistic contents. Tests
// check that every field of Body is covered.
func sampleBodies() map[string]*Body {
	block := sampleBlock()
	var to staking.Address
	to[0] = staking.AddressKindAccount
	to[20] = 0x99
	results := roothash.ComputeResultsHeader{
		Round:        block.Round + 1,
		PreviousHash: block.Hash(),
		IORoot:       hash.Digest([]byte("io 42")),
		StateRoot:    hash.Digest([]byte("state 42")),
	}
	msgs := []roothash.Message{{Staking: &roothash.StakingMessage{Transfer: &staking.Transfer{To: to, Amount: *quantity.NewFromUint64(10)}}}}
	results.MessagesHash = roothash.MessagesHash(msgs)
	tx := []byte("insert k v")
	bodies := []*Body{
		{Empty: &Empty{}},
		{Error: &Error{Module: "protocol", Code: 1, Message: "method not supported"}},
		{RuntimeInfoRequest: &RuntimeInfoRequest{
			RuntimeID:             sampleRuntimeID(),
			ConsensusChainContext: hash.Digest([]byte("genesis")),
			LocalConfig:           cbor.Marshal(map[string]uint64{"cache_size": 1024}),
		}},
		{RuntimeInfoResponse: &RuntimeInfoResponse{
			ProtocolVersion: ProtocolVersion,
			RuntimeVersion:  version.Version{Major: 2, Minor: 1},
			Features:        Features{CapabilityTEE: true},
		}},
		{RuntimePingRequest: &RuntimePingRequest{}},
		{RuntimeAbortRequest: &RuntimeAbortRequest{}},
		{RuntimeShutdownRequest: &RuntimeShutdownRequest{}},
		{RuntimeCheckTxBatchRequest: &RuntimeCheckTxBatchRequest{Inputs: [][]byte{tx, []byte("get k")}, Block: block, Epoch: 3}},
		{RuntimeCheckTxBatchResponse: &RuntimeCheckTxBatchResponse{Results: []CheckTxResult{
			{Meta: &CheckTxMetadata{Priority: 5, Sender: []byte("alice"), SenderSeq: 9}},
			{Error: Error{Module: "kvstore", Code: 2, Message: "malformed transaction"}},
		}}},
		{RuntimeExecuteTxBatchRequest: &RuntimeExecuteTxBatchRequest{
			IORoot:       hash.Digest([]byte("input root")),
			Inputs:       [][]byte{tx},
			RoundResults: roothash.RoundResults{Messages: []roothash.MessageEvent{{Index: 0}, {Module: "staking", Code: 3, Index: 1}}},
			Block:        block,
			Epoch:        3,
			MaxMessages:  128,
			Limits:       BatchLimits{MaxApplyWriteLogEntries: 100_000, MaxBatchBytes: 8 << 20},
		}},
		{RuntimeExecuteTxBatchResponse: &RuntimeExecuteTxBatchResponse{
			Batch: ComputedBatch{
				Header:        results,
				IOWriteLog:    writelog.WriteLog{{Key: []byte("T-out"), Value: []byte{0xa0}}},
				StateWriteLog: writelog.WriteLog{{Key: []byte("k"), Value: []byte("v")}, {Key: []byte("old")}},
				RakSig:        make([]byte, 64),
				Messages:      msgs,
			},
			TxHashes:       []hash.Hash{hash.Digest(tx)},
			TxRejectHashes: []hash.Hash{hash.Digest([]byte("bad"))},
			Unexecuted:     []hash.Hash{hash.Digest([]byte("later"))},
		}},
		{RuntimeQueryRequest: &RuntimeQueryRequest{Method: "get", Args: cbor.Marshal([]byte("k")), Block: block}},
		{RuntimeQueryResponse: &RuntimeQueryResponse{Data: cbor.Marshal([]byte("v"))}},
		{RuntimeCapabilityTEERakInitRequest: &RuntimeCapabilityTEERakInitRequest{TargetInfo: []byte("target")}},
		{RuntimeCapabilityTEERakReportRequest: &RuntimeCapabilityTEERakReportRequest{}},
		{RuntimeCapabilityTEERakReportResponse: &RuntimeCapabilityTEERakReportResponse{
			RakPub: make([]byte, 32), Report: []byte("report"), Nonce: []byte("nonce"),
		}},
		{HostStorageSyncRequest: &HostStorageSyncRequest{SyncGet: &syncer.GetRequest{Tree: sampleTreeID(), Key: []byte("k")}}},
		{HostStorageSyncResponse: &HostStorageSyncResponse{syncer.ProofResponse{Proof: syncer.Proof{
			UntrustedRoot: hash.Digest([]byte("state 41")),
			Entries:       [][]byte{{0x01, 0x00, 0x01, 0x00, 'k', 0x01, 0x00, 0x00, 0x00, 'v'}, nil},
		}}}},
		{HostLocalStorageGetRequest: &HostLocalStorageGetRequest{Key: []byte("k")}},
		{HostLocalStorageGetResponse: &HostLocalStorageGetResponse{Value: []byte{}}},
		{HostLocalStorageSetRequest: &HostLocalStorageSetRequest{Key: []byte("k"), Value: []byte("v")}},
	}
	out := make(map[string]*Body, len(bodies))
	for _, b := range bodies {
		out[b.Kind()] = b
	}
	return out
}
