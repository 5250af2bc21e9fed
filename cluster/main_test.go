package cluster

import (
	"os"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/natstest"
)

func TestMain(m *testing.M) {
	natstest.ServeFromEnv() // the NATS servers of TestStreamLeaderKilled
	os.Exit(m.Run())
}
