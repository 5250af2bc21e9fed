package natstest

import (
	"testing"
	"time"
)

func TestStartCluster(t *testing.T) {
	start := time.Now()
	c := StartCluster(t, 3)
	t.Logf("3 servers with a meta leader after %v: %s", time.Since(start).Round(time.Millisecond), c.URL())
	c.Stop(0)
	c.Restart(0)
	c.WaitForLeader()
}
