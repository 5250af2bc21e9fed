package main

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestAddLatencies(t *testing.T) {
	ms := int64(time.Millisecond)
	// Two senders × three messages: tokens 0-2 are sender 0's, 3-5 sender
	// 1's; the last third of each sender's messages (2 and 5) are "late".
	sentAt := []int64{0, 10 * ms, 20 * ms, 5 * ms, 15 * ms, 25 * ms}
	tests := []struct {
		name     string
		seen     [][]int64
		want     Result
		wantLast int64
	}{
		{
			name: "all seen",
			seen: [][]int64{
				{1 * ms, 12 * ms, 24 * ms, 6 * ms, 17 * ms, 33 * ms},
				{2 * ms, 11 * ms, 22 * ms, 7 * ms, 16 * ms, 29 * ms},
			},
			want:     Result{Delivered: 12, P50: 2, P95: 8, P99: 8, Max: 8, Mean: 2.5, P50Late: 4, P99Late: 8},
			wantLast: 33 * ms,
		},
		{
			name: "one token seen by one receiver, one by none",
			seen: [][]int64{
				{1 * ms, 0, 21 * ms, 0, 0, 0},
				{0, 0, 22 * ms, 0, 0, 0},
			},
			want:     Result{Delivered: 3, Lost: 9, LostMsgs: 4, P50: 1, P95: 2, P99: 2, Max: 2, Mean: 4.0 / 3, P50Late: 1, P99Late: 2},
			wantLast: 22 * ms,
		},
		{
			name: "nothing seen",
			seen: [][]int64{make([]int64, 6)},
			want: Result{Lost: 6, LostMsgs: 6},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got Result
			last := got.addLatencies(tc.seen, sentAt, 3)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if last != tc.wantLast {
				t.Errorf("last sighting %d, want %d", last, tc.wantLast)
			}
		})
	}
}

func TestAddServerCPU(t *testing.T) {
	samples := []cpuSample{
		{at: 0, cpu: 100 * time.Millisecond},
		{at: time.Second, cpu: 300 * time.Millisecond},
		{at: 2 * time.Second, cpu: 700 * time.Millisecond},
		{at: 3 * time.Second, cpu: 800 * time.Millisecond},
	}
	tests := []struct {
		name       string
		res        Result
		lastSeen   time.Duration
		wantCPU    float64
		wantWindow float64
	}{
		// The window ends at the first sample at or after the last sighting...
		{"ends when the last token shows", Result{Sent: 10}, 1500 * time.Millisecond, 0.6, 2},
		// ...unless some token never showed: then it is the whole phase.
		{"lost tokens: the whole phase", Result{Sent: 10, Lost: 1}, 1500 * time.Millisecond, 0.7, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.res
			r.addServerCPU(samples, int64(tc.lastSeen), 4)
			if !near(r.ServerCPUSendS, tc.wantCPU) || !near(r.SendWindowS, tc.wantWindow) {
				t.Errorf("cpu %.3f s over %.3f s, want %.3f s over %.3f s", r.ServerCPUSendS, r.SendWindowS, tc.wantCPU, tc.wantWindow)
			}
			// 10 lines to 4 sessions are 40 deliveries.
			if want := tc.wantCPU * 1000 / 40; !near(r.CPUMsPerDelivery, want) {
				t.Errorf("cpu per delivery %.3f ms, want %.3f ms", r.CPUMsPerDelivery, want)
			}
		})
	}
	var r Result
	r.addServerCPU(samples[:1], 0, 4)
	if r.ServerCPUSendS != 0 || r.CPUMsPerDelivery != 0 {
		t.Errorf("one sample gave cpu %v s, %v ms per delivery; want none", r.ServerCPUSendS, r.CPUMsPerDelivery)
	}
}

func TestAddLogins(t *testing.T) {
	times := []loginTimes{{time.Second, 2 * time.Second}, {}, {3 * time.Second, 4 * time.Second}, {2 * time.Second, 5 * time.Second}}
	errs := []error{nil, errors.New("refused"), nil, nil}
	var r Result
	r.addLogins(times, errs)
	want := Result{LoginFailed: 1, LoginError: "client 1: refused", LoginS: 3, JoinS: 5, LoginP50S: 2}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
