package ui

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"hoist/uploader"
)

// What stays on the terminal after the TUI ends: uploaded N of M and where,
// each failure with its reason, retries, and the report's path as a link.
func TestOutcomePrintsWhatStays(t *testing.T) {
	msg := finishedRun()
	msg.ledger.rows[1].attempt = 3
	out := Outcome{Summary: msg.summary, ReportPath: msg.reportPath, Target: "http://127.0.0.1:9000/hoist/"}
	out.Total, out.NotSent, out.Files = outcomeFiles(msg.ledger)
	var b bytes.Buffer
	out.Print(&b, func(s string) string { return strings.ReplaceAll(s, "expired", "[REDACTED]") })
	got := b.String()
	text := ansi.Strip(got)
	for _, want := range []string{
		"hoist: uploaded 3 of 5 files (40 MiB) to http://127.0.0.1:9000/hoist/\n",
		"  ✗ b.txt: 403 AccessDenied: the URL has [REDACTED]; get a fresh URL and try again (2 retries)\n",
		"  ⊘ d.iso: canceled\n",
		"  ✓ photos/c.jpg → /home/ana/.local/share/hoist/local/buckets/hoist/photos/c.jpg\n",
		"Report: /home/ana/.local/state/hoist/reports/hoist-20250314-150926.000.json\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("printed summary lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "✗ b.txt") > strings.Index(text, "✓ a.txt") {
		t.Errorf("failures should come first:\n%s", text)
	}
	if !strings.Contains(got, ansi.SetHyperlink("file:///home/ana/.local/state/hoist/reports/hoist-20250314-150926.000.json")) {
		t.Errorf("the report path is not a hyperlink: %q", got)
	}
}

func TestOutcomePrintsShareLinksAndInterruptions(t *testing.T) {
	expires := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	files := []uploader.FileStatus{{ID: 0, Name: "a.pdf", State: uploader.StateDone, Attempt: 1,
		Result: &uploader.Result{Key: "a.pdf", ShareURL: "https://konfidant.example/s/abc#k=secret", ShareExpires: expires}}}
	var b bytes.Buffer
	Outcome{Summary: uploader.Summary{Uploaded: 1}, Total: 1, Files: files, Target: "Konfidant"}.Print(&b, nil)
	if want := "    share link: https://konfidant.example/s/abc#k=secret (expires " + formatExpiry(expires) + ")"; !strings.Contains(b.String(), want) {
		t.Errorf("no share link %q in:\n%s", want, b.String())
	}

	b.Reset()
	Outcome{Interrupted: true}.Print(&b, nil)
	if b.String() != "hoist: interrupted; nothing was sent\n" {
		t.Errorf("interrupted before sending: %q", b.String())
	}
	b.Reset()
	Outcome{}.Print(&b, nil)
	if b.String() != "" {
		t.Errorf("left before sending, printed %q", b.String())
	}
	b.Reset()
	Outcome{Files: files[:0:0], ReportErr: errors.New("x")}.Print(&b, nil)
	if b.String() != "" {
		t.Errorf("nothing sent, printed %q", b.String())
	}
}

func TestLinksNeverCarryAQuery(t *testing.T) {
	for in, want := range map[string]string{
		"https://h.example/b/k.txt?X-Amz-Signature=abc&X-Amz-Credential=x": "https://h.example/b/k.txt",
		"/home/ana/a b.txt": "file:///home/ana/a%20b.txt",
		"bucket/key.txt":    "",
	} {
		if got := linkTarget(in); got != want {
			t.Errorf("linkTarget(%q) = %q, want %q", in, got, want)
		}
	}
}

// Ctrl+C before anything is sent is an interruption (exit 130); q is not.
func TestCtrlCBeforeSendingIsAnInterruption(t *testing.T) {
	m := sized(newModel(context.Background(), Options{StartDir: t.TempDir()}), 120, 40)
	m, seen := step(t, m, press("ctrl+c"), nil)
	only[tea.QuitMsg](t, seen)
	if !m.interrupted {
		t.Error("ctrl+c on the picker is not an interruption")
	}
	m = sized(newModel(context.Background(), Options{StartDir: t.TempDir()}), 120, 40)
	m, seen = step(t, m, press("q"), nil)
	only[tea.QuitMsg](t, seen)
	if m.interrupted {
		t.Error("q on the picker reads as an interruption")
	}
}

// Quitting with files paused says what became of them: a multipart upload's
// parts stay for the next run; a single PUT was not sent.
func TestOutcomeSaysWhatPausedFilesLeft(t *testing.T) {
	files := []uploader.FileStatus{
		{ID: 0, Name: "big.iso", State: uploader.StatePaused, Parts: 7, Attempt: 1},
		{ID: 1, Name: "small.txt", State: uploader.StatePaused, Attempt: 1},
	}
	var b bytes.Buffer
	Outcome{Summary: uploader.Summary{Pending: 2}, Total: 2, NotSent: 2, Files: files, Target: "s3://bucket/", Interrupted: true}.Print(&b, nil)
	text := ansi.Strip(b.String())
	for _, want := range []string{
		"  ‖ big.iso: paused, its parts kept on the server; run the same command again to resume, or `hoist uploads --abort` to discard it\n",
		"  ‖ small.txt: paused, not sent\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("printed summary lacks %q:\n%s", want, text)
		}
	}
}
