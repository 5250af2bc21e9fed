package main

import "testing"

func TestMemoryLimit(t *testing.T) {
	const mb = 1 << 20
	quarter := func(n int64) int64 { return n + n/4 } // live × 1.25, exact for these sizes
	tests := []struct {
		name         string
		live, growth int64
		want         int64
	}{
		{"idle server", 16 * mb, 0, quarter(16*mb) + 48*mb},
		{"settled crowd", 160 * mb, 0, quarter(160*mb) + 48*mb},
		{"shrinking crowd is not rewarded twice", 160 * mb, -40 * mb, quarter(160*mb) + 48*mb},
		{"login storm leaves room to grow", 400 * mb, 150 * mb, quarter(400*mb) + 48*mb + 600*mb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := memoryLimit(tt.live, tt.growth); got != tt.want {
				t.Fatalf("memoryLimit(%d, %d) = %d, want %d", tt.live, tt.growth, got, tt.want)
			}
		})
	}
}

func TestGrowthEstimate(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name         string
		last, change int64
		want         int64
	}{
		{"quiet", 0, 0, 0},
		{"growth is taken as seen", 0, 80 * mb, 80 * mb},
		{"faster growth replaces the estimate", 40 * mb, 80 * mb, 80 * mb},
		{"a second with no collection fades it", 80 * mb, 0, 60 * mb},
		{"shrinking fades it too", 80 * mb, -100 * mb, 60 * mb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := growthEstimate(tt.last, tt.change); got != tt.want {
				t.Fatalf("growthEstimate(%d, %d) = %d, want %d", tt.last, tt.change, got, tt.want)
			}
		})
	}
}

func TestReleaseNow(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name           string
		settled        int
		live, released int64
		want           bool
	}{
		{"still changing", 0, 200 * mb, 0, false},
		{"not settled long enough", settleIntervals - 1, 200 * mb, 0, false},
		{"a crowd settled", settleIntervals, 200 * mb, 0, true},
		{"once per settling", settleIntervals + 1, 200 * mb, 0, false},
		{"too small a change to bother", settleIntervals, 210 * mb, 200 * mb, false},
		{"a crowd left", settleIntervals, 60 * mb, 200 * mb, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := releaseNow(tt.settled, tt.live, tt.released); got != tt.want {
				t.Fatalf("releaseNow(%d, %d, %d) = %v, want %v", tt.settled, tt.live, tt.released, got, tt.want)
			}
		})
	}
}
