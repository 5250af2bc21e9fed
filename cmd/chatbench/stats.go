package main

import (
	"fmt"
	"slices"
	"syscall"
	"time"
)

// Result is what a run measured. Times are in milliseconds or seconds as
// the names say; memory in KB or MB.
type Result struct {
	Label      string    `json:"label,omitempty"`
	Server     string    `json:"server"`
	Nodes      int       `json:"nodes,omitempty"` // servers joined on NATS; figures sum them and NATS
	Profile    string    `json:"profile"`
	Started    time.Time `json:"started"`
	N          int       `json:"n"`
	Emulate    int       `json:"emulate"`
	Senders    int       `json:"senders"`
	Rate       float64   `json:"rate"`
	Count      int       `json:"count"`
	Size       string    `json:"size"`
	Rooms      int       `json:"rooms"`
	Unread     bool      `json:"unread,omitempty"`
	History    int       `json:"history"`
	Stall      int       `json:"stall"`
	ServerArgs []string  `json:"server_args,omitempty"`

	Sent      int     `json:"sent"`
	Expected  int     `json:"expected"`  // (emulating receiver, token) pairs
	Delivered int     `json:"delivered"` // of those, seen in time
	Lost      int     `json:"lost"`      // pairs never seen
	LostMsgs  int     `json:"lost_msgs"` // tokens no emulating receiver saw
	P50       float64 `json:"p50_ms"`
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	Mean      float64 `json:"mean_ms"`
	// The same for messages sent in the last third of the send phase: with
	// stalled readers, after their buffers had time to fill.
	P50Late     float64 `json:"p50_late_ms"`
	P99Late     float64 `json:"p99_late_ms"`
	BytesPerMsg float64 `json:"bytes_per_msg"`
	// Reads with data per message per client: about the frames the server
	// wrote for each message (a read may hold more than one frame).
	ReadsPerMsg float64 `json:"reads_per_msg"`

	LoginS    float64 `json:"login_s"` // until every client showed the main screen
	JoinS     float64 `json:"join_s"`  // until every client had joined the room
	LoginP50S float64 `json:"login_p50_s"`
	// Reads with data per client from dial until every client had joined:
	// about the frames a login storm cost each session (its own screens
	// and the refreshes others' arrivals caused). Steadier than login_s
	// for comparing servers, which the load tool's own CPU also sways.
	LoginReads  float64 `json:"login_reads"`
	LoginFailed int     `json:"login_failed"`
	LoginError  string  `json:"login_error,omitempty"`

	RSSBaseKB           int64   `json:"rss_base_kb"`  // before the logins
	RSSPeakKB           int64   `json:"rss_peak_kb"`  // highest sampled during the logins
	RSSHWMKB            int64   `json:"rss_hwm_kb"`   // VmHWM after the logins
	RSSIdleKB           int64   `json:"rss_idle_kb"`  // settled after the logins
	RSSAfterKB          int64   `json:"rss_after_kb"` // after the send phase
	RSSIdleKBPerSession float64 `json:"rss_idle_kb_per_session"`
	RSSPeakRatio        float64 `json:"rss_peak_ratio"` // peak ÷ idle
	Threads             int     `json:"threads"`

	CPUMsPerDelivery float64 `json:"cpu_ms_per_delivery"`
	ServerCPUSendS   float64 `json:"server_cpu_send_s"`
	ServerCPULoginS  float64 `json:"server_cpu_login_s"`
	SendWindowS      float64 `json:"send_window_s"`
	ToolCPUS         float64 `json:"tool_cpu_s"`

	Dropped        int `json:"dropped"`         // sessions the server closed during the run
	StalledDropped int `json:"stalled_dropped"` // stalled sessions the server cut loose
}

// addIdleMemory fills the idle-memory figures from the server's state once
// the logins have settled. RSSBaseKB and RSSPeakKB must be set.
func (r *Result) addIdleMemory(st procStat, sessions int) {
	r.RSSIdleKB = st.rssKB
	r.RSSHWMKB = st.hwmKB
	r.Threads = st.threads
	if sessions > 0 {
		r.RSSIdleKBPerSession = float64(st.rssKB-r.RSSBaseKB) / float64(sessions)
	}
	if st.rssKB > 0 {
		r.RSSPeakRatio = float64(r.RSSPeakKB) / float64(st.rssKB)
	}
}

// loginTimes is how long one client took, from the start of the logins, to
// see the main screen and to have joined the room.
type loginTimes struct{ login, join time.Duration }

// addLogins fills the login figures from each client's times and error.
func (r *Result) addLogins(times []loginTimes, errs []error) {
	var logins []float64
	for i, err := range errs {
		if err != nil {
			r.LoginFailed++
			if r.LoginError == "" {
				r.LoginError = fmt.Sprintf("client %d: %v", i, err)
			}
			continue
		}
		logins = append(logins, times[i].login.Seconds())
		r.LoginS = max(r.LoginS, times[i].login.Seconds())
		r.JoinS = max(r.JoinS, times[i].join.Seconds())
	}
	if len(logins) > 0 {
		slices.Sort(logins)
		r.LoginP50S = percentile(logins, 50)
	}
}

// addLatencies fills the delivery figures over every (receiver, token)
// pair. seen holds, per emulating receiver and token, when the token first
// showed on its screen (ns since the epoch; 0 = never); sentAt when each
// token was typed. Token idx is message idx%count of its sender. It returns
// the last sighting of any token.
func (r *Result) addLatencies(seen [][]int64, sentAt []int64, count int) (lastSeen int64) {
	var lat, late []float64
	seenBy := make([]int, len(sentAt))
	lateFrom := count * 2 / 3 // per sender: the last third of its messages
	for _, s := range seen {
		for idx, at := range s {
			if at == 0 {
				r.Lost++
				continue
			}
			seenBy[idx]++
			lastSeen = max(lastSeen, at)
			ms := float64(at-sentAt[idx]) / 1e6
			lat = append(lat, ms)
			if idx%count >= lateFrom {
				late = append(late, ms)
			}
		}
	}
	if len(late) > 0 {
		slices.Sort(late)
		r.P50Late = percentile(late, 50)
		r.P99Late = percentile(late, 99)
	}
	for _, n := range seenBy {
		if n == 0 {
			r.LostMsgs++
		}
	}
	r.Delivered = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50 = percentile(lat, 50)
		r.P95 = percentile(lat, 95)
		r.P99 = percentile(lat, 99)
		r.Max = lat[len(lat)-1]
		var sum float64
		for _, v := range lat {
			sum += v
		}
		r.Mean = sum / float64(len(lat))
	}
	return lastSeen
}

// traffic is what some clients read from their sessions, in all.
type traffic struct{ bytes, reads int64 }

func trafficOf(clients []*client) traffic {
	var t traffic
	for _, c := range clients {
		t.bytes += c.bytes.Load()
		t.reads += c.reads.Load()
	}
	return t
}

// addTraffic fills the per-message wire figures from what a number of
// clients read, in all, during the send phase. Sent must be set.
func (r *Result) addTraffic(t traffic, clients int) {
	if clients > 0 && r.Sent > 0 {
		r.BytesPerMsg = float64(t.bytes) / float64(clients) / float64(r.Sent)
		r.ReadsPerMsg = float64(t.reads) / float64(clients) / float64(r.Sent)
	}
}

// cpuSample is the server's CPU time at one moment of the send phase.
type cpuSample struct {
	at  time.Duration // since the epoch
	cpu time.Duration
}

// cpuSampler records the server's CPU time during the send phase; it does
// nothing without the server's PID.
type cpuSampler struct {
	pids    []int // every server process
	epoch   time.Time
	samples []cpuSample
}

func (s *cpuSampler) sample() {
	if len(s.pids) == 0 {
		return
	}
	if st, err := readProcs(s.pids); err == nil {
		s.samples = append(s.samples, cpuSample{time.Since(s.epoch), st.cpu})
	}
}

// addServerCPU fills the server CPU figures of the send phase: from the
// first sample to the first one after the last token showed (lastSeen, ns
// since the epoch), or to the last sample if some token never did. Sent and
// Lost must be set; sessions is the number of receiving sessions.
func (r *Result) addServerCPU(samples []cpuSample, lastSeen int64, sessions int) {
	if len(samples) < 2 {
		return
	}
	end := samples[len(samples)-1]
	if r.Lost == 0 {
		for _, s := range samples {
			if int64(s.at) >= lastSeen {
				end = s
				break
			}
		}
	}
	r.ServerCPUSendS = (end.cpu - samples[0].cpu).Seconds()
	r.SendWindowS = (end.at - samples[0].at).Seconds()
	if sessions > 0 && r.Sent > 0 {
		r.CPUMsPerDelivery = r.ServerCPUSendS * 1000 / float64(r.Sent*sessions)
	}
}

// toolCPU is this process's CPU time so far, user and system.
func toolCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// percentile is the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}
