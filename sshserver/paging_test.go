package sshserver

import (
	"context"
	"fmt"
	"strings"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/store"
)

// TestPagingReachesTheFirstLine: with --history 20 and a few hundred lines
// in SQLite, a newcomer is sent only the last 20, and PgUp walks back, page
// by page from the store, to the very first line.
func TestPagingReachesTheFirstLine(t *testing.T) {
	testutil.CheckGoroutines(t)
	st, err := store.Open(context.Background(), t.TempDir(), testutil.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ts := startServer(t, withHistory(20), withStore(st))

	bot := ts.lineCreator(t, "writer", "alpha")
	const lines = 300
	var b strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&b, "line-%03d\n", i)
	}
	_, _ = bot.Stdin.Write([]byte(b.String()))
	bot.WaitText(fmt.Sprintf("writer: line-%03d", lines))

	c := ts.connectSized(t, 100, 30)
	c.Login("reader")
	c.TypeLine("/join alpha")
	c.WaitText(fmt.Sprintf("writer: line-%03d", lines))
	// The 30-row window has room for more than 20 lines: the 20th from the
	// end must show and the 21st must not, until the user pages back.
	c.WaitText(fmt.Sprintf("writer: line-%03d", lines-19))
	if s := c.Screen(); strings.Contains(s, fmt.Sprintf("line-%03d", lines-20)) {
		t.Fatalf("more than the last 20 lines were replayed:\n%s", s)
	}
	// A user presses PgUp until the top: the last page arrives while the
	// view stays where it is, so the mark above it needs one press more.
	pgUp := uv.KeyPressEvent{Code: uv.KeyPgUp}
	c.WaitFor("the beginning after paging up", func(s string) bool {
		if strings.Contains(s, "This is the beginning of alpha") {
			return true
		}
		c.Key(pgUp)
		return false
	})
	c.WaitText("writer: line-001")
}
