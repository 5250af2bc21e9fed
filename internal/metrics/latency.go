package metrics

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// latencyHistograms is chatroom_delivery_latency_seconds. The lobby times a
// line once, after queueing it for every member of its room, and reports
// that one latency for all of them; Prometheus's own Histogram would take
// one Observe per member. This one adds n observations in one go: a bucket
// search and three atomic additions per line, whatever the size of the
// room.
type latencyHistograms struct {
	desc          *prometheus.Desc
	local, remote latencyHistogram
}

// latencyHistogram is one series of observations. Counts are per bucket,
// made cumulative when collected.
type latencyHistogram struct {
	buckets []atomic.Uint64 // len(latencyBuckets)+1; the last is +Inf
	count   atomic.Uint64
	sum     atomic.Uint64 // nanoseconds
}

func newLatencyHistograms() *latencyHistograms {
	return &latencyHistograms{
		desc: prometheus.NewDesc("chatroom_delivery_latency_seconds",
			"Time from a line's sending to its queueing for a session of this server, one observation per session. origin=local: sent on this server, timed from its proposal (log append and apply included); origin=remote: sent on another node, timed from when this node took it from the log.",
			[]string{"origin"}, nil),
		local:  latencyHistogram{buckets: make([]atomic.Uint64, len(latencyBuckets)+1)},
		remote: latencyHistogram{buckets: make([]atomic.Uint64, len(latencyBuckets)+1)},
	}
}

// observe adds n observations of d.
func (h *latencyHistograms) observe(d time.Duration, n int, local bool) {
	if n <= 0 {
		return
	}
	s := &h.remote
	if local {
		s = &h.local
	}
	d = max(d, 0)
	i := sort.SearchFloat64s(latencyBuckets, d.Seconds()) // the first bound >= d
	s.buckets[i].Add(uint64(n))
	s.count.Add(uint64(n))
	s.sum.Add(uint64(d.Nanoseconds()) * uint64(n))
}

// Describe implements prometheus.Collector.
func (h *latencyHistograms) Describe(ch chan<- *prometheus.Desc) { ch <- h.desc }

// Collect implements prometheus.Collector.
func (h *latencyHistograms) Collect(ch chan<- prometheus.Metric) {
	for _, s := range []struct {
		origin string
		h      *latencyHistogram
	}{{"local", &h.local}, {"remote", &h.remote}} {
		// Read the buckets first and the count from them, so that the
		// series is consistent even while lines are observed meanwhile.
		cum := make(map[float64]uint64, len(latencyBuckets))
		var total uint64
		for i, bound := range latencyBuckets {
			total += s.h.buckets[i].Load()
			cum[bound] = total
		}
		total += s.h.buckets[len(latencyBuckets)].Load()
		sum := float64(s.h.sum.Load()) / float64(time.Second)
		ch <- prometheus.MustNewConstHistogram(h.desc, total, sum, cum, s.origin)
	}
}
