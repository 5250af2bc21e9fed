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
