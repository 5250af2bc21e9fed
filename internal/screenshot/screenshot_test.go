package screenshot

import (
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/sshserver"
)

// write makes TestScreenshot write the README's picture and its text:
//
//	go test ./internal/screenshot -run TestScreenshot -screenshot   (task screenshot)
var write = flag.Bool("screenshot", false, "write docs/screenshot.png and docs/screenshot.txt")

// The window the picture shows, in cells.
const width, height = 100, 20

// TestScreenshot runs a real server, fills a room with a few people's
// talk from line-mode clients, and looks at it through a real SSH session
// with a PTY: the e2e harness's emulator holds the screen, cells and
// colours, and Render draws it. With -screenshot it writes the picture and
// the screen's text into docs/; without, it checks the drawing.
func TestScreenshot(t *testing.T) {
	addr := startServer(t)
	say := func(c *e2e.Line, lines ...string) {
		for _, l := range lines {
			c.Send(l)
		}
	}
	carol := e2e.ConnectLine(t, addr)
	carol.WaitText(lobby.Prompt)
	say(carol, "carol", "/create general", "morning, everyone")
	carol.WaitText("carol: morning, everyone")

	alice := e2e.ConnectLine(t, addr)
	alice.WaitText(lobby.Prompt)
	say(alice, "alice", "/create go-nuts", "anyone tried the new range-over-func iterators?")
	alice.WaitText("alice: anyone tried")
	dave := e2e.ConnectLine(t, addr)
	dave.WaitText(lobby.Prompt)
	say(dave, "dave", "/join go-nuts", "yes: iter.Seq everywhere now, and slices.Collect")
	alice.WaitText("dave: yes")
	say(alice, "same here. maps.Keys too, sorted with slices.Sorted")
	dave.WaitText("alice: same here")

	bob := e2e.Connect(t, addr, width, height)
	bob.Login("bob")
	bob.TypeLine("/join go-nuts")
	bob.WaitText("bob joined go-nuts")
	say(alice, "welcome bob! the history above is what you missed")
	bob.WaitText("welcome bob!")
	bob.TypeLine("thanks! this screen is a test's screenshot, by the way")
	bob.WaitText("bob: thanks!")
	say(dave, "hi bob o/")
	bob.WaitText("dave: hi bob o/")
	// The room list is refreshed a moment after the joins (held back, so a
	// crowd logging in costs few frames): wait for the counts.
	bob.WaitText("go-nuts · 3 here")

	text := bob.Screen()
	scr := Capture(bob.Emu)
	img, err := Render(scr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkDrawing(t, scr, img)
	if !*write {
		return
	}
	docs := filepath.Join("..", "..", "docs")
	f, err := os.Create(filepath.Join(docs, "screenshot.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	if err := os.WriteFile(filepath.Join(docs, "screenshot.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s and screenshot.txt", f.Name())
}

// checkDrawing checks that the picture is the screen: its size follows the
// cells, and its colours are the cells' colours.
func checkDrawing(t *testing.T, scr Screen, img *image.RGBA) {
	t.Helper()
	if scr.W != width || scr.H != height {
		t.Fatalf("captured %d×%d cells, want %d×%d", scr.W, scr.H, width, height)
	}
	b := img.Bounds()
	if b.Dx() < width*6 || b.Dy() < height*12 {
		t.Fatalf("picture %v too small for %d×%d cells", b, width, height)
	}
	// The UI draws in more than one colour (authors, rules, the sidebar),
	// and the picture shows them: count the distinct foreground colours
	// of cells with text, and find each in the picture.
	colours := map[color.RGBA]bool{}
	for _, c := range scr.Cells {
		if c.Fg != nil && strings.TrimSpace(c.Content) != "" {
			r, g, bl, _ := c.Fg.RGBA()
			colours[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff}] = true
		}
	}
	if len(colours) < 3 {
		t.Errorf("%d text colours on the screen, want the UI's several", len(colours))
	}
	inPicture := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			inPicture[img.RGBAAt(x, y)] = true
		}
	}
	for c := range colours {
		if !inPicture[c] {
			t.Errorf("text colour %v is nowhere in the picture", c)
		}
	}
}

func startServer(t *testing.T) string {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	l, err := lobby.New(context.Background(), lobby.Config{Store: lobby.NewMemoryStore(), Log: lobby.NewMemoryLog(), Logger: quiet, FloodRate: -1, MaxSessions: 10})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sshserver.New(sshserver.Config{Listen: "127.0.0.1:0", HostKeyPath: filepath.Join(t.TempDir(), "host_ed25519"), Lobby: l, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := l.Close(ctx); err != nil {
			t.Errorf("close lobby: %v", err)
		}
	})
	return addr.String()
}
