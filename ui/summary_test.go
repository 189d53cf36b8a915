package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoist/runreport"
	"hoist/uploader"
)

func finishedRun() runFinishedMsg { return finishedRunCodes(nil) }

func finishedRunCodes(codes map[int]string) runFinishedMsg {
	res := func(id int, key string, n int64) *uploader.Result {
		return &uploader.Result{ID: id, File: key, Key: key, Bytes: n, CRC32: 0xcbf43926, ETag: `"abc"`,
			Location: "/home/ana/.local/share/hoist/local/buckets/hoist/" + key, Duration: 2 * time.Second}
	}
	msg := finishedCodes(uploader.Summary{Uploaded: 3, Failed: 1, Canceled: 1, Bytes: 42_000_000, Elapsed: 62 * time.Second},
		[]uploader.FileStatus{
			{ID: 0, Name: "a.txt", Size: 2_000_000, State: uploader.StateDone, Result: res(0, "a.txt", 2_000_000)},
			{ID: 1, Name: "b.txt", Size: 1000, State: uploader.StateFailed, Attempt: 1, Reason: "b.txt: 403 AccessDenied: the URL has expired; get a fresh URL and try again"},
			{ID: 2, Name: "photos/c.jpg", Size: 30_000_000, State: uploader.StateDone, Result: res(2, "photos/c.jpg", 30_000_000)},
			{ID: 3, Name: "d.iso", Size: 5_000_000_000, State: uploader.StateCanceled, Reason: "canceled"},
			{ID: 4, Name: "e.log", Size: 10_000_000, State: uploader.StateDone, Result: &uploader.Result{ID: 4, Key: "logs/e.log", Bytes: 10_000_000}},
		}, codes)
	msg.reportPath = "/home/ana/.local/state/hoist/reports/hoist-20250314-150926.000.json"
	return msg
}

func TestSummaryView(t *testing.T) {
	atGoldenWidths(t, func(t *testing.T, w int) string {
		m := newSummary(newStyles(true), "http://127.0.0.1:9000/hoist/", finishedRun(), true)
		m.SetSize(w, goldenHeight-4)
		return m.View()
	})
}

func TestSummaryKeys(t *testing.T) {
	m := newSummary(newStyles(true), "t", finishedRun(), true)
	m.SetSize(goldenWidth-2, goldenHeight-4)
	m2, cmd := m.Update(press("r"))
	if got := only[retryRequestedMsg](t, perform(cmd)); len(got.ids) != 2 || got.ids[0] != 1 || got.ids[1] != 3 {
		t.Errorf("retry ids %v, want the failed and the canceled file", got.ids)
	}
	_, cmd = m2.Update(press("q"))
	only[quitRequestedMsg](t, perform(cmd))

	// Once the pool is closed there is nothing to retry with.
	closed := newSummary(newStyles(true), "t", finishedRun(), false)
	if _, cmd := closed.Update(press("r")); cmd != nil {
		t.Error("r after the pool closed did something")
	}
	if closed.helpKeys().ShortHelp()[2].Enabled() {
		t.Error("help still offers retry")
	}

	msg := finishedRun()
	msg.reportPath, msg.reportErr = "", errors.New("creating the report folder /x: permission denied; check its permissions")
	bad := newSummary(newStyles(true), "t", msg, false)
	bad.SetSize(goldenWidth-2, goldenHeight-4)
	if v := plain(bad.View()); !strings.Contains(v, "Report    not written: creating the report folder /x: permission denied") {
		t.Errorf("view:\n%s", v)
	}
}

func TestReportIsWrittenWithoutSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "reports")
	path := runreport.PathFor(dir, fixedNow)
	if filepath.Base(path) != "hoist-20250314-150926.000.json" {
		t.Errorf("report name %s", path)
	}
	msg := finishedRunCodes(map[int]string{1: "AccessDenied"})
	ri := runInfo{
		target: "http://127.0.0.1:9000/hoist/", md: uploader.Metadata{OrgID: "acme", UserID: "u-1", TTLHours: 48},
		started: fixedNow, reportPath: path,
	}
	if err := writeReport(ri, msg.summary, msg.ledger, fixedNow.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", info.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	var r runreport.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary.Uploaded != 3 || r.Summary.Failed != 1 || r.Summary.Bytes != 42_000_000 || r.Summary.Seconds != 62 {
		t.Errorf("summary %+v", r.Summary)
	}
	if r.Metadata.OrgID != "acme" || r.Metadata.TTLHours != 48 {
		t.Errorf("metadata %+v", r.Metadata)
	}
	b := r.Files[1]
	if b.State != "failed" || b.Code != "AccessDenied" || b.Path != "/x/b.txt" || !strings.Contains(b.Error, "expired") {
		t.Errorf("failed file %+v", b)
	}
	a := r.Files[0]
	if a.CRC32 != "y/Q5Jg==" || a.Location == "" || a.ETag != `"abc"` || a.Seconds != 2 {
		t.Errorf("done file %+v", a)
	}
	if strings.Contains(string(data), "X-Amz") || strings.Contains(string(data), "?") {
		t.Errorf("report holds a URL query:\n%s", data)
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("report folder holds %d entries", len(entries))
	}
}

// At 64 columns a place keeps its end: the file name and its folder.
func TestSummaryKeepsTheEndOfPaths(t *testing.T) {
	m := newSummary(newStyles(true), "t", finishedRun(), true)
	m.SetSize(62, 20)
	v := plain(m.View())
	for _, want := range []string{"→ …", "buckets/hoist/photos/c.jpg", "buckets/hoist/a.txt", "hoist-20250314-150926.000.json"} {
		if !strings.Contains(v, want) {
			t.Errorf("the summary at 64 columns lacks %q:\n%s", want, v)
		}
	}
}

// Retries show per file; the average speed counts only the time files were
// moving; "0 uploaded" is not drawn as a success.
func TestSummaryRetriesSpeedAndColours(t *testing.T) {
	msg := finishedRun()
	msg.ledger.rows[0].attempt = 2
	// 42 MB moved while files were active for 10 s of the 62 s run.
	msg.summary.Active = 10 * time.Second
	m := newSummary(newStyles(true), "t", msg, true)
	m.SetSize(118, 30)
	v := plain(m.View())
	if !strings.Contains(v, "(1 retry) → ") {
		t.Errorf("no retry count:\n%s", v)
	}
	if !strings.Contains(v, "40 MiB in 1m02s · 4.0 MiB/s average") {
		t.Errorf("the average should exclude idle time (42 MB over 10 s):\n%s", v)
	}

	none := finished(uploader.Summary{Failed: 1}, []uploader.FileStatus{{ID: 0, Name: "b.txt", Size: 1000, State: uploader.StateFailed, Reason: "b.txt: 403 AccessDenied"}})
	st := newStyles(true)
	m = newSummary(st, "t", none, true)
	m.SetSize(118, 30)
	if strings.Contains(m.View(), st.Done.Render("0 uploaded")) {
		t.Error("0 uploaded is drawn in the success colour")
	}
}

// With Konfidant, the file under the cursor shows its share link whole.
func TestSummaryShowsTheShareLink(t *testing.T) {
	msg := finished(uploader.Summary{Uploaded: 1}, []uploader.FileStatus{{
		ID: 0, Name: "a.pdf", State: uploader.StateDone,
		Result: &uploader.Result{Key: "a.pdf", ShareURL: "https://konfidant.example/s/abc#k=1"},
	}})
	m := newSummary(newStyles(true), "Konfidant", msg, true)
	m.SetSize(78, 20)
	if v := plain(m.View()); !strings.Contains(v, "share link: https://konfidant.example/s/abc#k=1") {
		t.Errorf("no share link:\n%s", v)
	}
}

func TestReportRecordsThatALinkWasMadeButNotTheLink(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	link := "https://k.example/#t=tok123&k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	msg := finished(uploader.Summary{Uploaded: 1}, []uploader.FileStatus{{ID: 0, Name: "a.pdf", State: uploader.StateDone,
		Result: &uploader.Result{File: "a.pdf", Key: "a.pdf", ShareURL: link, ShareExpires: exp}}})
	path := filepath.Join(t.TempDir(), "r.json")
	if err := writeReport(runInfo{reportPath: path}, msg.summary, msg.ledger, exp); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var r runreport.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "tok123") || strings.Contains(string(data), "AAECAwQF") {
		t.Fatalf("the link is in the report: %s", data)
	}
	if f := r.Files[0]; !f.LinkMade || f.LinkExpires == nil || !f.LinkExpires.Equal(exp) {
		t.Fatalf("report file %+v: want link_made and its expiry", f)
	}
}

func TestSummaryShowsAndCopiesShareLinks(t *testing.T) {
	links := []string{"https://k.example/#t=one&k=AAAA", "https://k.example/#t=two&k=BBBB"}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	msg := finished(finishedRun().summary, []uploader.FileStatus{
		{ID: 0, Name: "a.pdf", State: uploader.StateDone, Result: &uploader.Result{Key: "a.pdf", ShareURL: links[0], ShareExpires: exp}},
		{ID: 1, Name: "b.pdf", State: uploader.StateDone, Result: &uploader.Result{Key: "b.pdf", ShareURL: links[1], ShareExpires: exp}},
	})
	m := newSummary(newStyles(true), "Konfidant", msg, false)
	m.SetSize(goldenWidth-2, goldenHeight-4)
	v := plain(m.View())
	if !strings.Contains(v, links[0]) || strings.Count(v, "link made, expires") != 2 {
		t.Errorf("view lacks the focused link or the rows' expiry:\n%s", v)
	}
	_, cmd := m.Update(press("c"))
	if cmd == nil || fmt.Sprint(cmd()) != links[0] {
		t.Fatalf("c copied %v, want the focused link", cmd)
	}
	_, cmd = m.Update(press("C"))
	if cmd == nil || fmt.Sprint(cmd()) != "a.pdf\t"+links[0]+"\nb.pdf\t"+links[1]+"\n" {
		t.Fatalf("C copied %q", fmt.Sprint(cmd()))
	}
	if plainRun := newSummary(newStyles(true), "t", finishedRun(), false); plainRun.helpKeys().ShortHelp()[3].Enabled() {
		t.Error("copy offered with no link made")
	}
}
