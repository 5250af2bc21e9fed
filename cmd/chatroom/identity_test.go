package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// TestRegistrationSurvivesSIGKILL: a name registered (with a second key
// added) is held after the server is killed and started again on its data.
func TestRegistrationSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server")
	}
	dir := t.TempDir()
	p := startProcess(t, dir)
	home, laptop, stranger := e2e.NewKey(t), e2e.NewKey(t), e2e.NewKey(t)
	alice := e2e.ConnectLineKey(t, p.addr, home)
	alice.WaitText(lobby.Prompt)
	alice.Send("alice")
	alice.Send("/register")
	alice.WaitText("is now registered to your SSH key " + e2e.Fingerprint(home))
	alice.Send("/keys add " + e2e.AuthorizedLine(laptop, "laptop"))
	alice.WaitText("Added the key " + e2e.Fingerprint(laptop))

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)

	p2 := startProcess(t, dir)
	intruder := e2e.ConnectLineKey(t, p2.addr, stranger)
	intruder.WaitText(lobby.Prompt)
	intruder.Send("Alice")
	intruder.WaitText("The name alice ✓ is registered, and your SSH key is not one of its keys")
	fromLaptop := e2e.ConnectLineKey(t, p2.addr, laptop)
	fromLaptop.WaitText("(Your SSH key holds the name alice ✓: press Enter alone to use it.)")
	fromLaptop.Send("")
	fromLaptop.WaitText("You are in the Lobby")
	fromLaptop.Send("/keys")
	fromLaptop.WaitText(e2e.Fingerprint(home))
	fromLaptop.WaitText(e2e.Fingerprint(laptop) + "  laptop  (added ")
}

// TestOperatorsFileIsReadAgainOnSIGHUP: DATA/operators names the operators
// by key, and a SIGHUP reads it again.
func TestOperatorsFileIsReadAgainOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	dir := t.TempDir()
	root, other := e2e.NewKey(t), e2e.NewKey(t)
	ops := filepath.Join(dir, "operators")
	if err := os.WriteFile(ops, []byte("# the operators\n"+e2e.AuthorizedLine(root, "root@box")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, dir)
	isOperator := func(key gossh.Signer, name string) bool {
		c := e2e.ConnectLineKey(t, p.addr, key)
		c.WaitText(lobby.Prompt)
		c.Send(name)
		c.Send("/whois " + name)
		c.WaitText(name + " is not registered.\nOnline, with the key ")
		c.Send("/quit")
		c.WaitExit()
		return strings.Contains(c.Output(), "A server operator.")
	}
	if !isOperator(root, "sam") || isOperator(other, "olga") {
		t.Fatal("before SIGHUP: want root an operator and other not")
	}
	if err := os.WriteFile(ops, []byte(e2e.AuthorizedLine(other, "")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the operators to be read again", func() bool {
		return strings.Contains(p.logText(), "operators reloaded")
	})
	if isOperator(root, "sam") || !isOperator(other, "olga") {
		t.Fatal("after SIGHUP: want other an operator and root not")
	}
	// A broken file keeps the keys read before.
	if err := os.WriteFile(ops, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the broken file to be reported", func() bool {
		return strings.Contains(p.logText(), "keeping the keys read before")
	})
	if !isOperator(other, "olga") {
		t.Fatal("a broken operators file dropped the operators")
	}
}

// TestOperatorsFileMayComeLater: without DATA/operators the server starts
// with no operators, and a SIGHUP reads the file once it is there.
func TestOperatorsFileMayComeLater(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	dir := t.TempDir()
	p := startProcess(t, dir)
	root := e2e.NewKey(t)
	if err := os.WriteFile(filepath.Join(dir, "operators"), []byte(e2e.AuthorizedLine(root, "")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the operators to be read", func() bool {
		return strings.Contains(p.logText(), "operators reloaded")
	})
	c := e2e.ConnectLineKey(t, p.addr, root)
	c.WaitText(lobby.Prompt)
	c.Send("sam")
	c.Send("/whois sam")
	c.WaitText("A server operator.")
}
