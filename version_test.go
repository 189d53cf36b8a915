package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "hoist", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-11-30T09:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	if got, want := versionLine(bi, true), "hoist v1.2.3 (commit 0123456789ab+dirty, 2026-11-30T09:00:00Z, go1.26.0)"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	bi.Settings[2].Value = "false"
	if got := versionLine(bi, true); !strings.Contains(got, "commit 0123456789ab,") {
		t.Errorf("clean tree: %q", got)
	}
	if got := versionLine(nil, false); got != "hoist (devel)" {
		t.Errorf("no build info: %q", got)
	}
}

// version and help are commands, not file names to upload.
func TestVersionAndHelpCommands(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runHoist(t, nil, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "hoist ") || !strings.Contains(r.stdout, "go1.") {
			t.Errorf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	r := runHoist(t, nil, "help")
	if r.code != 0 || !strings.Contains(r.stdout, "hoist inspect URL") || !strings.Contains(r.stdout, "--org-id") {
		t.Errorf("help: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runHoist(t, nil, "help", "inspect")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage: hoist inspect") {
		t.Errorf("help inspect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runHoist(t, nil, "help", "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, "frobnicate") {
		t.Errorf("help frobnicate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
