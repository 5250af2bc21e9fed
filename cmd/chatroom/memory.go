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
const (
	headroomFactor = 1.10     // limit = live heap × this + headroomFixed
	headroomFixed  = 24 << 20 // bytes, for bursts of garbage between checks
	governEvery    = 2 * time.Second
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
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live := sample[0].Value.Uint64()
			debug.SetMemoryLimit(int64(float64(live)*headroomFactor) + headroomFixed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
