// Package natstest starts NATS servers with JetStream inside a test
// process, on random loopback ports with their stores in the test's temp
// folders, and stops them when the test ends: tests of the cluster need
// nothing installed.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a set of NATS servers routed together as one cluster.
type Cluster struct {
	t       testing.TB
	Servers []*server.Server
	opts    []*server.Options
}

// Start starts one JetStream server, alone.
func Start(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	c.start(0, 1, "")
	return c
}

// StartCluster starts n JetStream servers routed together and waits until
// they have elected a JetStream meta leader.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	for i := range n {
		seed := ""
		if i > 0 {
			seed = fmt.Sprintf("nats://127.0.0.1:%d", c.opts[0].Cluster.Port)
		}
		c.start(i, n, seed)
	}
	c.WaitForLeader()
	return c
}

func (c *Cluster) start(i, n int, seed string) {
	c.t.Helper()
	o := &server.Options{
		ServerName: fmt.Sprintf("n%d", i+1),
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   c.t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	}
	if n > 1 {
		o.Cluster = server.ClusterOpts{Name: "chat", Host: "127.0.0.1", Port: freePort(c.t)}
		if seed != "" {
			u, err := url.Parse(seed)
			if err != nil {
				c.t.Fatal(err)
			}
			o.Routes = []*url.URL{u}
		}
	}
	c.opts = append(c.opts, o)
	c.Servers = append(c.Servers, nil)
	c.run(i)
}

// run starts server i from its options, with the client port it had if it
// ran before.
func (c *Cluster) run(i int) {
	c.t.Helper()
	s, err := server.NewServer(c.opts[i])
	if err != nil {
		c.t.Fatalf("nats server %d: %v", i+1, err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("nats server %d did not start", i+1)
	}
	if c.opts[i].Port == server.RANDOM_PORT {
		// Fixed from now on, so that a restart comes back where clients
		// look for it.
		c.opts[i].Port = s.Addr().(*net.TCPAddr).Port
	}
	c.Servers[i] = s
	c.t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
}

// URL is the client URL of every server, comma-separated, as nats.Connect
// takes it.
func (c *Cluster) URL() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// Stop shuts server i down, as a crash would look to its peers.
func (c *Cluster) Stop(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
}

// Restart starts server i again on its ports and store.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if len(c.opts) > 1 {
		// Route to every other server: the one it seeded from may be down.
		var routes []*url.URL
		for j, o := range c.opts {
			if j != i {
				routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", o.Cluster.Port)})
			}
		}
		c.opts[i].Routes = routes
	}
	c.run(i)
}

// Index finds a server by name, -1 if none has it.
func (c *Cluster) Index(name string) int {
	for i, o := range c.opts {
		if o.ServerName == name {
			return i
		}
	}
	return -1
}

// WaitForLeader waits until a running server is the JetStream meta leader.
func (c *Cluster) WaitForLeader() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.Servers {
			if s != nil && s.Running() && s.JetStreamIsLeader() {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("no JetStream meta leader was elected")
}

// freePort finds a loopback port nothing listens on. The cluster port must
// be known before the server starts, to route the others to it.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
