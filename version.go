package main

import (
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…"; without
// it, the module version Go recorded in the binary is used.
var version = ""

// versionLine is what hoist --version and hoist version print: the version
// and the commit it was built from, "+dirty" when the tree had changes, so a
// bug report names exactly what ran.
func versionLine(bi *debug.BuildInfo, ok bool) string {
	v := version
	if v == "" && ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	line := "hoist " + v
	if !ok {
		return line
	}
	var rev, when string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var parts []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		parts = append(parts, "commit "+rev)
	}
	if when != "" {
		parts = append(parts, when)
	}
	parts = append(parts, bi.GoVersion)
	return line + " (" + strings.Join(parts, ", ") + ")"
}
