package lobby

import (
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/attacks"
)

func loadAttacks(t testing.TB) []attacks.Attack {
	t.Helper()
	list, err := attacks.Load()
	if err != nil {
		t.Fatal(err)
	}
	return list
}
