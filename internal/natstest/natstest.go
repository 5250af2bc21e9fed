// Package natstest starts NATS servers with JetStream inside a test
// process, on random loopback ports with their stores in the test's temp
// folders, and stops them when the test ends: tests of the cluster need
// nothing installed.
package natstest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
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
	c := &Cluster{t: t, opts: []*server.Options{options(t, 0)}, Servers: make([]*server.Server, 1)}
	c.run(0)
	return c
}

// StartCluster starts n JetStream servers routed together and waits until
// they have elected a JetStream meta leader.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, Servers: make([]*server.Server, n)}
	// A JetStream cluster needs its routes configured from the start, so
	// every server's cluster port is chosen before any starts.
	ports := make([]int, n)
	for i := range ports {
		ports[i] = freePort(t)
	}
	for i := range n {
		o := options(t, i)
		o.Cluster = server.ClusterOpts{Name: "chat", Host: "127.0.0.1", Port: ports[i]}
		for j, p := range ports {
			if j != i {
				o.Routes = append(o.Routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
			}
		}
		c.opts = append(c.opts, o)
	}
	for i := range n {
		c.run(i)
	}
	c.WaitForLeader()
	return c
}

func options(t testing.TB, i int) *server.Options {
	return &server.Options{
		ServerName: fmt.Sprintf("n%d", i+1),
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	}
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

// Restart starts server i again on its ports, routes and store.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
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

// processEnv carries a server's settings to a child process: see
// ServeFromEnv and StartProcesses.
const processEnv = "CHATROOM_TEST_NATS_SERVER"

// processOptions is what a child process needs to run one server of a
// cluster.
type processOptions struct {
	Name        string   `json:"name"`
	Port        int      `json:"port"`
	ClusterPort int      `json:"cluster_port"`
	Routes      []string `json:"routes"`
	StoreDir    string   `json:"store_dir"`
}

// ServeFromEnv runs a NATS server as this whole process when the test
// binary was started by StartProcesses, and never returns then; otherwise
// it returns at once. Call it first thing in TestMain.
func ServeFromEnv() {
	raw := os.Getenv(processEnv)
	if raw == "" {
		return
	}
	var po processOptions
	if err := json.Unmarshal([]byte(raw), &po); err != nil {
		fmt.Fprintln(os.Stderr, "natstest:", err)
		os.Exit(2)
	}
	o := &server.Options{
		ServerName: po.Name,
		Host:       "127.0.0.1",
		Port:       po.Port,
		JetStream:  true,
		StoreDir:   po.StoreDir,
		NoLog:      true,
		NoSigs:     true,
		Cluster:    server.ClusterOpts{Name: "chat", Host: "127.0.0.1", Port: po.ClusterPort},
	}
	for _, r := range po.Routes {
		u, err := url.Parse(r)
		if err != nil {
			fmt.Fprintln(os.Stderr, "natstest:", err)
			os.Exit(2)
		}
		o.Routes = append(o.Routes, u)
	}
	s, err := server.NewServer(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "natstest:", err)
		os.Exit(2)
	}
	s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		fmt.Fprintln(os.Stderr, "natstest: not ready")
		os.Exit(2)
	}
	fmt.Println("READY")
	s.WaitForShutdown()
	os.Exit(0)
}

// Processes is a NATS cluster whose servers run as child processes, so
// that a test can kill one with SIGKILL, as a crash would.
type Processes struct {
	t     testing.TB
	opts  []processOptions
	procs []*exec.Cmd
}

// StartProcesses runs n servers routed together, each a child process of
// the test binary (whose TestMain must call ServeFromEnv), and waits until
// they serve JetStream. They are killed when the test ends.
func StartProcesses(t testing.TB, n int) *Processes {
	t.Helper()
	p := &Processes{t: t, procs: make([]*exec.Cmd, n)}
	ports, cports := make([]int, n), make([]int, n)
	for i := range n {
		ports[i], cports[i] = freePort(t), freePort(t)
	}
	for i := range n {
		po := processOptions{Name: fmt.Sprintf("n%d", i+1), Port: ports[i], ClusterPort: cports[i], StoreDir: t.TempDir()}
		for j, cp := range cports {
			if j != i {
				po.Routes = append(po.Routes, fmt.Sprintf("nats://127.0.0.1:%d", cp))
			}
		}
		p.opts = append(p.opts, po)
	}
	for i := range n {
		p.Start(i)
	}
	return p
}

// Start starts server i (again).
func (p *Processes) Start(i int) {
	p.t.Helper()
	raw, err := json.Marshal(p.opts[i])
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), processEnv+"="+string(raw))
	out, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.procs[i] = cmd
	p.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := sc.Scan() && sc.Text() == "READY"
		ready <- ok
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			p.t.Fatalf("nats server %d did not start", i+1)
		}
	case <-time.After(30 * time.Second):
		p.t.Fatalf("nats server %d did not start in time", i+1)
	}
}

// Kill kills server i with SIGKILL.
func (p *Processes) Kill(i int) {
	p.t.Helper()
	if err := p.procs[i].Process.Kill(); err != nil {
		p.t.Fatal(err)
	}
	_ = p.procs[i].Wait()
}

// URL is the client URL of every server, comma-separated.
func (p *Processes) URL() string {
	var urls []string
	for _, o := range p.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// Index finds a server by name, -1 if none has it.
func (p *Processes) Index(name string) int {
	for i, o := range p.opts {
		if o.Name == name {
			return i
		}
	}
	return -1
}
