package cometbft

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns a Prometheus collector of the node's figures, for a registry of the
// caller's. It reports nothing while the node is not running.
func (n *Node) Collector() prometheus.Collector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("atoll_consensus_"+name, help, nil, nil)
	}
	return &collector{
		n:            n,
		height:       desc("height", "Height of the latest committed block."),
		blockTime:    desc("block_time_seconds", "Time of the latest committed block, in seconds since the Unix epoch."),
		mempoolTxs:   desc("mempool_txs", "Transactions in the mempool."),
		mempoolBytes: desc("mempool_bytes", "Bytes of the transactions in the mempool."),
		peers:        desc("peers", "Connected P2P peers."),
	}
}

type collector struct {
	n                                                  *Node
	height, blockTime, mempoolTxs, mempoolBytes, peers *prometheus.Desc
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.height, c.blockTime, c.mempoolTxs, c.mempoolBytes, c.peers} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	_ = c.n.withRunning(func(r *running) error {
		bs := r.node.BlockStore()
		h := bs.Height()
		gauge(c.height, float64(h))
		if meta := bs.LoadBlockMeta(h); meta != nil {
			gauge(c.blockTime, float64(meta.Header.Time.UnixNano())/1e9)
		}
		mp := r.node.Mempool()
		gauge(c.mempoolTxs, float64(mp.Size()))
		gauge(c.mempoolBytes, float64(mp.SizeBytes()))
		gauge(c.peers, float64(r.node.Switch().Peers().Size()))
		return nil
	})
}
