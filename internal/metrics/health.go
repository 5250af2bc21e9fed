package metrics

import (
	"net/http"
	"sync"
)

// Health is what /healthz answers: 200 "serving" while the server takes
// sessions, 503 with a one-line reason while it is starting, catching up
// with the log, cut off from it, or shutting down. A load balancer or an
// orchestrator's readiness check sends users only where it says 200. It is
// safe for concurrent use.
type Health struct {
	mu      sync.Mutex // guards every field below
	serving bool
	reason  string        // why not, when not serving
	check   func() string // while serving: a reason not to be, or ""
}

// NewHealth starts as not serving, for reason.
func NewHealth(reason string) *Health { return &Health{reason: reason} }

// NotServing says the server does not take sessions, and why (a short
// phrase: "starting", "catching up with the log", "shutting down").
func (h *Health) NotServing(reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.serving, h.reason = false, reason
}

// Serving says the server takes sessions. check, if not nil, is asked at
// every request: a non-empty answer is a reason it cannot serve after all
// (its log cannot be reached, say).
func (h *Health) Serving(check func() string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.serving, h.reason, h.check = true, "", check
}

// Status reports whether the server is serving, and if not why.
func (h *Health) Status() (ok bool, reason string) {
	h.mu.Lock()
	serving, reason, check := h.serving, h.reason, h.check
	h.mu.Unlock()
	if !serving {
		return false, reason
	}
	if check != nil {
		if why := check(); why != "" {
			return false, why
		}
	}
	return true, ""
}

// ServeHTTP answers /healthz with one line of text.
func (h *Health) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ok, reason := h.Status()
	if ok {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("serving\n"))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(oneLine(reason) + "\n"))
}

// oneLine keeps a reason to its first line.
func oneLine(s string) string {
	for i, r := range s {
		if r == '\n' || r == '\r' {
			return s[:i]
		}
	}
	return s
}
