package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Each SSH session's UI keeps two full-screen cell buffers whose size is set
// by the terminal, not by us, so no fixed memory limit fits every crowd: a
// fixed one either wastes memory or, under it, makes the collector run
// without end. Instead the limit follows the live heap: a little above it,
// so the heap does not grow to twice the live size between collections (Go's
// default) and idle sessions cost little more than what they really hold.
// Not much above: every collection rescans every session's cell buffers
// (pointer-rich), and at 1.1× + 24 MiB the collector's work raised the CPU
// per delivered line by a quarter and p99 latency fourfold (N=100); at
// 1.25× + 48 MiB it costs about 5% CPU for 1.75 MB instead of 2.0 MB per
// idle session.
//
// While the live heap grows (a login storm: every new session allocates its
// cell buffers) a tight limit would make the collector run back to back and
// rescan every session's cells each time; so the limit also leaves room for
// a few seconds more of the growth just seen, and tightens again once the
// crowd has settled. The live heap is only measured by a collection, so a
// second without one shows no growth even in the middle of a storm: the
// growth estimate therefore fades (by a quarter a second) instead of
// dropping to nothing, or the limit would fall below the heap at once and
// start the back-to-back collections it is there to avoid.
const (
	headroomFactor = 1.25     // limit = live × this + headroomFixed + growthAhead × growth
	headroomFixed  = 48 << 20 // bytes, for bursts of garbage between checks
	growthAhead    = 4        // intervals of expected growth
	governEvery    = time.Second
)

// governMemory keeps the runtime's soft memory limit just above the live
// heap until ctx ends. It leaves an operator's own GOMEMLIMIT alone.
func governMemory(ctx context.Context) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(governEvery)
	defer t.Stop()
	var prev, growth, released int64
	settled := 0
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live := int64(sample[0].Value.Uint64())
			growth = growthEstimate(growth, live-prev)
			debug.SetMemoryLimit(memoryLimit(live, growth))
			if live == prev {
				settled++
			} else {
				settled = 0
			}
			if releaseNow(settled, live, released) {
				// Collects and hands every free page back at once; the
				// scavenger alone would take minutes to go below the limit.
				debug.FreeOSMemory()
				released = live
			}
			prev = live
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// memoryLimit is the soft limit for a live heap of live bytes that is
// expected to grow by growth bytes an interval (see growthEstimate).
func memoryLimit(live, growth int64) int64 {
	return int64(float64(live)*headroomFactor) + headroomFixed + growthAhead*max(growth, 0)
}

// Once the crowd has settled (no collection has changed the live heap for a
// few seconds: idle sessions allocate nothing) the pages above the live heap
// are handed back to the system in one go. A chat server spends most of its
// life like that, so that is when its footprint matters. It happens once
// per settling, after the live heap moved by a meaningful amount, so it
// costs one collection per crowd change, not one a second.
const (
	settleIntervals = 3
	releaseChange   = 32 << 20 // bytes of live-heap change worth a release
)

// releaseNow reports whether to hand free memory back, settled intervals
// after the last change of the live heap (live bytes now, released bytes at
// the last release).
func releaseNow(settled int, live, released int64) bool {
	return settled == settleIntervals && max(live-released, released-live) >= releaseChange
}

// growthEstimate is the growth to plan for, given the last estimate and the
// live heap's change over the interval just ended.
func growthEstimate(last, change int64) int64 {
	return max(change, last-last/4, 0)
}
