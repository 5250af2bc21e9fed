package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion prints the module version and the VCS facts Go stamped into
// the binary: `go install ...@v1.2.3` gives the tag, a build in a checkout
// gives "(devel)" and the commit.
func runVersion(args []string, out io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments, got %q", args)
	}
	fmt.Fprint(out, versionText(debug.ReadBuildInfo()))
	return nil
}

func versionText(bi *debug.BuildInfo, ok bool) string {
	goVersion := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if !ok {
		return fmt.Sprintf("chatroom (no build information)\ngo       %s\n", goVersion)
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	s := fmt.Sprintf("chatroom %s\nmodule   %s\n", version, bi.Main.Path)
	var rev, at, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			at = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	if rev != "" {
		s += fmt.Sprintf("revision %s %s%s\n", rev, at, modified)
	}
	return s + fmt.Sprintf("go       %s\n", goVersion)
}
