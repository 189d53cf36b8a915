package headless

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"hoist/uploader"
)

func TestHumanLines(t *testing.T) {
	var out, errb bytes.Buffer
	p := &Printer{Out: &out, Err: &errb, Redact: func(s string) string { return strings.ReplaceAll(s, "tok123", "[REDACTED]") }}
	p.Event(uploader.Event{Kind: uploader.EventQueued, File: "a.bin"})
	p.Event(uploader.Event{Kind: uploader.EventRetrying, File: "a.bin", Attempt: 1, MaxAttempts: 6, Delay: 1500 * time.Millisecond, Err: errors.New("503 SlowDown")})
	p.Event(uploader.Event{Kind: uploader.EventDone, File: "a.bin", Attempt: 2, MaxAttempts: 6, Result: &uploader.Result{Key: "in/a.bin", Bytes: 3 << 20, CRC32: 0x3610a686, Duration: time.Second}})
	p.Event(uploader.Event{Kind: uploader.EventDone, File: "tiny", Attempt: 1, MaxAttempts: 6, Result: &uploader.Result{Key: "tiny", Bytes: 17, Duration: 2 * time.Millisecond}})
	p.Event(uploader.Event{Kind: uploader.EventFailed, File: "b.bin", Attempt: 1, MaxAttempts: 6, Err: errors.New("403 AccessDenied echoing tok123")})
	p.Event(uploader.Event{Kind: uploader.EventFailed, File: "c.bin", Attempt: 6, MaxAttempts: 6, Err: errors.New("503 SlowDown")})
	p.Summary(uploader.Summary{Uploaded: 2, Failed: 1, Bytes: 3<<20 + 17, Elapsed: 2 * time.Second}, false, "")

	// Each file's line says how many retries it needed, as the TUI's summary does.
	want := "✓ a.bin → in/a.bin (3.0 MiB, crc32 NhCmhg==, 3.0 MiB/s, 1 retry)\n" +
		"✓ tiny → tiny (17 B, crc32 AAAAAA==)\n" +
		"✗ b.bin: 403 AccessDenied echoing [REDACTED]\n" +
		"✗ c.bin: 503 SlowDown (5 retries)\n" +
		"2 uploaded, 1 failed · 3.0 MiB in 2s (1.5 MiB/s)\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
	}
	if got := errb.String(); got != "… a.bin: retry 1 of 5 in 1.5s: 503 SlowDown\n" {
		t.Errorf("stderr %q", got)
	}
}

func TestJSONLines(t *testing.T) {
	var out bytes.Buffer
	p := &Printer{Out: &out, Err: &out, JSON: true}
	p.Event(uploader.Event{Kind: uploader.EventAwaiting, File: "a"})
	p.Event(uploader.Event{Kind: uploader.EventDone, File: "a", Attempt: 2, MaxAttempts: 3, Result: &uploader.Result{Key: "k", Bytes: 0, ETag: "e"}})
	p.Event(uploader.Event{Kind: uploader.EventFailed, File: "b", Attempt: 3, MaxAttempts: 3, Err: errors.New("nope"), Code: "AccessDenied"})
	p.Summary(uploader.Summary{Uploaded: 1, Failed: 1, Canceled: 1, Pending: 1}, true, "/state/reports/r.json")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines (the awaiting state is not an event of the contract): %s", len(lines), out.String())
	}
	var done, failed, summary map[string]any
	for i, dst := range []*map[string]any{&done, &failed, &summary} {
		if err := json.Unmarshal([]byte(lines[i]), dst); err != nil {
			t.Fatal(err)
		}
	}
	if done["event"] != "done" || done["bytes"] != 0.0 || done["key"] != "k" || done["etag"] != "e" || done["crc32"] != "AAAAAA==" || done["attempt"] != 2.0 || done["max_attempts"] != 3.0 {
		t.Errorf("done %v (an empty file still reports bytes: 0)", done)
	}
	if failed["event"] != "failed" || failed["error"] != "nope" || failed["code"] != "AccessDenied" || failed["attempt"] != 3.0 {
		t.Errorf("failed %v", failed)
	}
	if summary["event"] != "summary" || summary["uploaded"] != 1.0 || summary["failed"] != 1.0 || summary["canceled"] != 2.0 || summary["report"] != "/state/reports/r.json" {
		t.Errorf("summary %v", summary)
	}
}

func TestProblemsAsEvents(t *testing.T) {
	var out, errb bytes.Buffer
	p := &Printer{Out: &out, Err: &errb, JSON: true}
	p.Warn("", "config file is readable by others")
	p.Error("a.bin", "the URL has expired")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if errb.Len() != 0 || len(lines) != 2 {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
	var w, e map[string]any
	if json.Unmarshal([]byte(lines[0]), &w) != nil || json.Unmarshal([]byte(lines[1]), &e) != nil {
		t.Fatalf("not JSON: %q", out.String())
	}
	if w["event"] != "warning" || w["file"] != nil || w["message"] != "config file is readable by others" {
		t.Errorf("warning %v", w)
	}
	if e["event"] != "error" || e["file"] != "a.bin" || e["message"] != "the URL has expired" {
		t.Errorf("error %v", e)
	}

	out.Reset()
	p = &Printer{Out: &out, Err: &errb}
	p.Warn("a.bin", "pinned")
	p.Error("", "nothing to send")
	if got := errb.String(); got != "hoist: warning: a.bin: pinned\nhoist: nothing to send\n" || out.Len() != 0 {
		t.Errorf("human: stderr %q stdout %q", got, out.String())
	}
}

// TestHumanLinesEscapeNames: a name is text from outside; an ESC sequence in
// it must not recolour the terminal, nor a newline break the line.
func TestHumanLinesEscapeNames(t *testing.T) {
	var out, errb bytes.Buffer
	p := &Printer{Out: &out, Err: &errb}
	evil := "\x1b[2J\x1b[31mred\nfake ✓ line.txt"
	p.Event(uploader.Event{Kind: uploader.EventRetrying, File: evil, Attempt: 1, MaxAttempts: 2, Err: errors.New("503 SlowDown")})
	p.Event(uploader.Event{Kind: uploader.EventDone, File: evil, Result: &uploader.Result{Key: "k\x1b]0;title\x07", Bytes: 1}})
	p.Event(uploader.Event{Kind: uploader.EventFailed, File: evil, Err: errors.New("boom")})
	p.Event(uploader.Event{Kind: uploader.EventCanceled, File: evil, Err: errors.New("canceled")})
	p.Warn(evil, "warned")
	for _, s := range []string{out.String(), errb.String()} {
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("raw control bytes reached the terminal: %q", s)
		}
		for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			if !strings.Contains(line, `\x1b[2J\x1b[31mred\nfake ✓ line.txt`) {
				t.Errorf("line %q does not show the escaped name", line)
			}
		}
	}
}

func TestShareLinksInHumanAndJSONLines(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	done := uploader.Event{Kind: uploader.EventDone, File: "a.pdf", Result: &uploader.Result{Key: "a.pdf", Bytes: 2048,
		ShareURL: "https://k.example/#t=tok&k=KEY", ShareExpires: exp}}
	var out bytes.Buffer
	(&Printer{Out: &out, Err: &out}).Event(done)
	if want := "✓ a.pdf → https://k.example/#t=tok&k=KEY (2.0 KiB, expires 2030-01-02T03:04:05Z)\n"; out.String() != want {
		t.Errorf("human line %q, want %q", out.String(), want)
	}
	out.Reset()
	(&Printer{Out: &out, Err: &out, JSON: true}).Event(done)
	var j map[string]any
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j["share_url"] != "https://k.example/#t=tok&k=KEY" || j["expires_at"] != "2030-01-02T03:04:05Z" {
		t.Errorf("done event %v", j)
	}
}
