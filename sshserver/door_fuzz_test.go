package sshserver

import (
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// The door parses what clients send before any session exists; these
// fuzzers hold it to its bounds whatever the bytes. Seeds are in
// testdata/fuzz. Run one longer with, e.g.:
//
//	go test ./sshserver -run '^$' -fuzz FuzzDoorRequest -fuzztime 1m

func FuzzParsePtyRequest(f *testing.F) {
	f.Add(ptyReqPayload("xterm-256color", 80, 24))
	f.Fuzz(func(t *testing.T, payload []byte) {
		w, h, ok := parsePtyRequest(payload)
		if !ok {
			return
		}
		if w < 0 || h < 0 || w > maxWindowDim || h > maxWindowDim {
			t.Fatalf("size %d×%d outside 0..%d", w, h, maxWindowDim)
		}
	})
}

func FuzzParseWindowChange(f *testing.F) {
	f.Add(windowPayload(120, 40))
	f.Fuzz(func(t *testing.T, payload []byte) {
		w, h, ok := parseWindowChange(payload)
		if !ok {
			return
		}
		if w < 0 || h < 0 || w > maxWindowDim || h > maxWindowDim {
			t.Fatalf("size %d×%d outside 0..%d", w, h, maxWindowDim)
		}
	})
}

// FuzzDoorRequest sends one request many times over, before and after a
// shell: what the door keeps stays within its limits, and it passes on
// at most one PTY and one shell.
func FuzzDoorRequest(f *testing.F) {
	f.Add("env", envPayload("LANG", "C.UTF-8"))
	f.Add("window-change", windowPayload(1000, 1000))
	f.Fuzz(func(t *testing.T, typ string, payload []byte) {
		d := &doorChannel{}
		ptys, shells := 0, 0
		for i := range 3 * maxEnvVars {
			if i == 2*maxEnvVars && d.allow(&gossh.Request{Type: "shell"}) {
				shells++
			}
			req := &gossh.Request{Type: typ, Payload: payload}
			if !d.allow(req) {
				continue
			}
			switch typ {
			case "pty-req":
				ptys++
			case "shell", "exec":
				shells++
			case "env":
				var kv envRequest
				if err := gossh.Unmarshal(payload, &kv); err != nil || !keepEnv(kv.Name) || len(kv.Value) > maxEnvValueLen {
					t.Fatalf("env %q passed (%v)", payload, err)
				}
			case "window-change":
			default:
				t.Fatalf("%q passed", typ)
			}
		}
		if ptys > 1 || shells > 1 || d.envKept > maxEnvVars {
			t.Fatalf("passed %d PTYs, %d shells, kept %d env variables", ptys, shells, d.envKept)
		}
		if d.win != nil {
			if w, h := d.win.size(); w < 0 || h < 0 || w > maxWindowDim || h > maxWindowDim {
				t.Fatalf("window %d×%d", w, h)
			}
		}
	})
}
