package lobby

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestEnding(t *testing.T) {
	l := newLobby(t, Config{MaxSessions: 10})
	odd := errors.New("the moon is in the way")
	ban := &BannedError{By: "root", Reason: "raiding"}
	tests := []struct {
		name   string
		reason error
		user   string
		want   Ending
	}{
		{"the user left", nil, "alice", Ending{"Goodbye, alice.", 0}},
		{"left at the prompt", nil, "", Ending{"Goodbye.", 0}},
		{"/quit", ErrQuit, "alice", Ending{"Goodbye, alice.", 0}},
		{"closed", fmt.Errorf("read: %w", ErrClosed), "alice", Ending{"Goodbye, alice.", 0}},
		{"connection gone", context.Canceled, "alice", Ending{"Goodbye, alice.", 0}},
		{"shutdown", ErrShutdown, "alice", Ending{"The server is shutting down. Goodbye, alice.", 0}},
		{"shutdown at the door", ErrLobbyClosed, "", Ending{"The server is shutting down. Goodbye.", 0}},
		{"too slow", ErrTooSlow, "alice", Ending{"Disconnected: your connection fell too far behind the chat.", 1}},
		{"flooding", ErrFlooding, "alice", Ending{"Disconnected: you kept sending faster than the limit.", 1}},
		{"node lost", ErrLost, "alice", Ending{"Disconnected: this server lost its connection to the rest of the chat.", 1}},
		{"prompt timeout", ErrPromptTimeout, "", Ending{"No name was given in time. Goodbye.", 1}},
		{"full", ErrFull, "", Ending{"Server is full: 10 of 10 sessions in use. Try again later.", 1}},
		{"cannot save", fmt.Errorf("%w: disk on fire", ErrUnavailable), "", Ending{Sentence(ErrUnavailable.Error()), 1}},
		{"banned, at the door", ban, "", Ending{"You are banned from this server by root until it is lifted: raiding.", 1}},
		{"banned, in the chat", ban, "alice", Ending{"Disconnected: you are banned from this server by root until it is lifted: raiding.", 1}},
		{"unforeseen, at the door", odd, "", Ending{"Sorry, the chat cannot take you right now: The moon is in the way.", 1}},
		{"unforeseen, in the chat", odd, "alice", Ending{"Disconnected: the moon is in the way.", 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.Ending(tt.reason, tt.user); got != tt.want {
				t.Errorf("Ending(%v, %q) = %+v, want %+v", tt.reason, tt.user, got, tt.want)
			}
		})
	}

	// Once the node shuts down, a session that ended on its own may not
	// have read why: it is told.
	l.Shutdown()
	for _, reason := range []error{nil, ErrQuit, ErrClosed, context.Canceled} {
		if got, want := l.Ending(reason, "alice"), (Ending{"The server is shutting down. Goodbye, alice.", 0}); got != want {
			t.Errorf("after Shutdown, Ending(%v) = %+v, want %+v", reason, got, want)
		}
	}
	if got := l.Ending(ErrTooSlow, "alice"); got.Code != 1 {
		t.Errorf("after Shutdown, a session cut loose ends with %+v, want status 1", got)
	}
}

func TestReasonCodesRoundTrip(t *testing.T) {
	for _, r := range reasons {
		if r.code == "" {
			continue
		}
		if got := reasonOf(reasonCode(r.err)); got != r.err {
			t.Errorf("reasonOf(reasonCode(%v)) = %v", r.err, got)
		}
	}
	if got := reasonCode(errors.New("other")); got != "closed" {
		t.Errorf("reasonCode(other) = %q, want closed", got)
	}
	if got := reasonOf("from a newer node"); got != ErrClosed {
		t.Errorf("reasonOf(unknown) = %v, want ErrClosed", got)
	}
}

func TestSessionOverAndNameRefused(t *testing.T) {
	for _, err := range []error{ErrQuit, ErrTooSlow, ErrFlooding, ErrShutdown, ErrClosed, ErrLobbyClosed, ErrLost, &BannedError{By: "root"}} {
		if !SessionOver(fmt.Errorf("exec: %w", err)) {
			t.Errorf("SessionOver(%v) = false", err)
		}
	}
	for _, err := range []error{nil, ErrNameTaken, ErrUnavailable, errors.New("other")} {
		if SessionOver(err) {
			t.Errorf("SessionOver(%v) = true", err)
		}
	}
	for err, want := range map[error]bool{ErrNameTaken: true, ErrNameInvalid: true, ErrUnavailable: false, ErrShutdown: false} {
		if got := NameRefused(err); got != want {
			t.Errorf("NameRefused(%v) = %v, want %v", err, got, want)
		}
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"no such room":     "No such room.",
		"already a thing.": "Already a thing.",
		"really?":          "Really?",
		"ünïcode first":    "Ünïcode first.",
	} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
