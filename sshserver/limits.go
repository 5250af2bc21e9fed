package sshserver

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/time/rate"
)

// connLimiter rate-limits new connections per source IP, before any SSH
// work is done for them, so a handshake flood from one address costs little.
type connLimiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex // guards every field below
	byIP    map[string]*ipLimit
	lastGC  time.Time
	maxIdle time.Duration
}

type ipLimit struct {
	lim  *rate.Limiter
	seen time.Time
}

// newConnLimiter allows a burst of 3×perSecond connections per IP, then
// perSecond a second. perSecond <= 0 turns the limit off (nil).
func newConnLimiter(perSecond float64) *connLimiter {
	if perSecond <= 0 {
		return nil
	}
	burst := max(1, int(3*perSecond))
	return &connLimiter{
		rate:  rate.Limit(perSecond),
		burst: burst,
		byIP:  make(map[string]*ipLimit),
		// An entry idle this long has refilled its whole burst: forgetting
		// it changes nothing, and keeps the map small under a spoofed storm.
		maxIdle: time.Duration(float64(burst)/perSecond*float64(time.Second)) + time.Second,
	}
}

func (c *connLimiter) allow(addr net.Addr, now time.Time) bool {
	ip := addrIP(addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastGC) > c.maxIdle {
		for k, e := range c.byIP {
			if now.Sub(e.seen) > c.maxIdle {
				delete(c.byIP, k)
			}
		}
		c.lastGC = now
	}
	e, ok := c.byIP[ip]
	if !ok {
		e = &ipLimit{lim: rate.NewLimiter(c.rate, c.burst)}
		c.byIP[ip] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// addrIP is the source address a connection counts against.
func addrIP(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	return addr.String()
}

// addrConns counts the connections open from each source IP against a cap.
// A rate limit alone lets one address pile up connections that never end
// (and each holds a file descriptor); this bounds how many it holds at once.
type addrConns struct {
	max int

	mu   sync.Mutex
	open map[string]int // only addresses with a connection open
}

// newAddrConns caps each address at max open connections; max <= 0 means
// no cap (nil).
func newAddrConns(max int) *addrConns {
	if max <= 0 {
		return nil
	}
	return &addrConns{max: max, open: make(map[string]int)}
}

// acquire counts a new connection from ip, if ip is under its cap, and
// returns the function that gives the place back (safe to call twice).
func (a *addrConns) acquire(ip string) (release func(), ok bool) {
	if a == nil {
		return func() {}, true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.open[ip] >= a.max {
		return nil, false
	}
	a.open[ip]++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.open[ip]--; a.open[ip] <= 0 {
				delete(a.open, ip)
			}
		})
	}, true
}

// loadAuthorizedKeys reads an authorized_keys file: the only keys admitted
// when --allowed-keys is set.
func loadAuthorizedKeys(path string) ([]ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read allowed keys: %w", err)
	}
	var keys []ssh.PublicKey
	for len(bytes.TrimSpace(data)) > 0 {
		key, _, _, rest, err := gossh.ParseAuthorizedKey(data)
		if err != nil {
			return nil, fmt.Errorf("parse allowed keys %s: %w", path, err)
		}
		keys = append(keys, key)
		data = rest
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("allowed keys %s: no keys", path)
	}
	return keys, nil
}

// keyRateWindow is the time over which a key's sessions are counted, and
// keyRateHold how long a key that went past the limit is refused.
const (
	keyRateWindow = time.Minute
	keyRateHold   = 5 * time.Minute
)

// keyLimiter counts the sessions each SSH key opens in the last minute
// and refuses a key past its limit for keyRateHold: a raid that logs one
// key in again and again, which the limits per address do not see when it
// comes from many addresses.
type keyLimiter struct {
	max int

	mu     sync.Mutex // guards every field below
	byKey  map[string]*keyOpens
	lastGC time.Time
}

type keyOpens struct {
	opens []time.Time // within the window, oldest first; at most max
	until time.Time   // refused until then
}

// newKeyLimiter allows perMinute sessions per key a minute; perMinute <= 0
// turns the limit off (nil).
func newKeyLimiter(perMinute int) *keyLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &keyLimiter{max: perMinute, byKey: make(map[string]*keyOpens)}
}

// allow counts a session the key with fingerprint fp opens at now, and
// reports whether it may.
func (k *keyLimiter) allow(fp string, now time.Time) bool {
	if k == nil {
		return true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.lastGC) > keyRateHold {
		// Forget keys that are neither counted nor held: the map stays as
		// small as the keys seen in the last few minutes.
		for key, e := range k.byKey {
			if now.After(e.until) && (len(e.opens) == 0 || now.Sub(e.opens[len(e.opens)-1]) > keyRateWindow) {
				delete(k.byKey, key)
			}
		}
		k.lastGC = now
	}
	e := k.byKey[fp]
	if e == nil {
		e = &keyOpens{}
		k.byKey[fp] = e
	}
	if now.Before(e.until) {
		return false
	}
	i := 0
	for i < len(e.opens) && now.Sub(e.opens[i]) >= keyRateWindow {
		i++
	}
	e.opens = e.opens[i:]
	if len(e.opens) >= k.max {
		e.until, e.opens = now.Add(keyRateHold), nil
		return false
	}
	e.opens = append(e.opens, now)
	return true
}
