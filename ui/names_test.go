package ui

import (
	"strings"
	"testing"
	"time"

	"hoist/fileset"
	"hoist/uploader"
)

// evilName would clear the screen, recolour it and break the row if it
// reached the terminal as it is.
const evilName = "\x1b[2J\x1b[31mred\nfake.txt"

func assertNoRawName(t *testing.T, screen, view string) {
	t.Helper()
	if strings.Contains(view, "\x1b[2J") || strings.Contains(view, "red\nfake") {
		t.Errorf("%s shows the raw name: %q", screen, view)
	}
	// A long name is cut from its start (fitName), so look for its end.
	if !strings.Contains(plain(view), `red\nfake.txt`) {
		t.Errorf("%s does not show the escaped name:\n%s", screen, plain(view))
	}
}

// TestScreensEscapeFileNames: every screen shows names through
// uploader.DisplayName, the rule headless output follows too.
func TestScreensEscapeFileNames(t *testing.T) {
	files := []uploader.File{{Path: "/tmp/x", Name: evilName, Key: "x", Size: 10}}

	r := newReview(newStyles(true), fileset.ListOf(files), uploader.Metadata{}, "t", time.Time{}, fixedNow, false)
	r.SetSize(goldenWidth-2, goldenHeight-4)
	assertNoRawName(t, "review", r.View())

	p := newProgress(newStyles(true), "t")
	p.SetSize(goldenWidth-2, goldenHeight-4)
	p.begin(fileset.ListOf(files), nil, fixedNow, 1)
	assertNoRawName(t, "progress", p.View())

	run := finished(uploader.Summary{Failed: 1}, []uploader.FileStatus{{ID: 0, Name: evilName, Size: 10, State: uploader.StateFailed, Reason: "boom"}})
	s := newSummary(newStyles(true), "t", run, false)
	s.SetSize(goldenWidth-2, goldenHeight-4)
	assertNoRawName(t, "summary", s.View())

	// A file that landed shows where, beside its name: escaped too.
	run = finished(uploader.Summary{Uploaded: 1}, []uploader.FileStatus{{ID: 0, Name: evilName, Size: 10, State: uploader.StateDone}})
	s = newSummary(newStyles(true), "t", run, false)
	s.SetSize(goldenWidth-2, goldenHeight-4)
	assertNoRawName(t, "summary of an uploaded file", s.View())
}
