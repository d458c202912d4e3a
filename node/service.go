package node

import (
	"context"
	"errors"
	"time"

	aerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/consensus/cometbft"
	"github.com/atoll-project/atoll/rpc"
)

// ServiceName is the gRPC service of the node itself.
const ServiceName = "atoll.node.Node"

// ModuleName is the module of this package's coded errors.
const ModuleName = "node"

// ErrNotReady is returned to clients while the consensus node is not running.
var ErrNotReady = aerrors.New(ModuleName, 1, "consensus not running")

// MethodStatus returns the node's Status. It is declared once here, like a sentinel, for
// servers and clients alike.
var MethodStatus = rpc.NewUnary[StatusRequest, Status](ServiceName, "Status")

// StatusRequest is the (empty) request of MethodStatus.
type StatusRequest struct{}

// Status is what a node reports about itself.
type Status struct {
	ChainID string `cbor:"chain_id" json:"chain_id"`
	// Height, BlockHash, BlockTime and AppHash describe the latest committed block.
	Height     int64     `cbor:"height" json:"height"`
	BlockHash  []byte    `cbor:"block_hash" json:"block_hash"`
	BlockTime  time.Time `cbor:"block_time" json:"block_time"`
	AppHash    []byte    `cbor:"app_hash" json:"app_hash"`
	CatchingUp bool      `cbor:"catching_up" json:"catching_up"`
	// Identity is the node's public keys.
	Identity PublicIdentity `cbor:"identity" json:"identity"`
}

func nodeMethods(n *Node, cmt *cometbft.Node) []rpc.Method {
	return []rpc.Method{
		MethodStatus.Handler(func(ctx context.Context, _ StatusRequest) (Status, error) {
			st, err := cmt.Status(ctx)
			if errors.Is(err, cometbft.ErrNotRunning) {
				return Status{}, ErrNotReady
			} else if err != nil {
				return Status{}, err
			}
			return Status{
				ChainID:    cmt.ChainID(),
				Height:     st.SyncInfo.LatestBlockHeight,
				BlockHash:  st.SyncInfo.LatestBlockHash,
				BlockTime:  st.SyncInfo.LatestBlockTime,
				AppHash:    st.SyncInfo.LatestAppHash,
				CatchingUp: st.SyncInfo.CatchingUp,
				Identity:   n.identity,
			}, nil
		}),
	}
}
