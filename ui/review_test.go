package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"hoist/fileset"
	"hoist/uploader"
)

func reviewFiles(n int) *fileset.List {
	files := make([]uploader.File, n)
	for i := range files {
		name := fmt.Sprintf("photos/img-%04d.jpg", i)
		files[i] = uploader.File{Path: "/data/" + name, Name: name, Key: name, Size: int64(1000 * (i + 1))}
	}
	return fileset.ListOf(files)
}

func reviewPress(m reviewModel, keys ...string) (reviewModel, []tea.Msg) {
	var msgs []tea.Msg
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(press(k))
		msgs = append(msgs, perform(cmd)...)
	}
	return m, msgs
}

func TestReviewWaitsForChecksThenSends(t *testing.T) {
	md := uploader.Metadata{OrgID: "acme", UserID: "u-1", TTLHours: 48}
	m := newReview(newStyles(true), reviewFiles(3), md, "http://127.0.0.1:9000/bucket/", time.Time{}, fixedNow, true)
	m.SetSize(goldenWidth-2, goldenHeight-4)
	if !strings.Contains(plain(m.View()), "checking the files") {
		t.Errorf("no sign of the running checks:\n%s", plain(m.View()))
	}
	m, msgs := reviewPress(m, "enter")
	if len(msgs) != 0 {
		t.Fatalf("sent before the checks finished: %v", msgs)
	}
	m, _ = m.Update(preflightCheckedMsg{})
	m, _ = m.Update(reviewArmedMsg{})
	if !strings.Contains(plain(m.View()), "✓ no problems found") {
		t.Errorf("view:\n%s", plain(m.View()))
	}
	_, msgs = reviewPress(m, "enter")
	only[uploadConfirmedMsg](t, msgs)
	_, msgs = reviewPress(m, "esc")
	only[reviewCancelledMsg](t, msgs)
}

// The review has no key rule of its own: two files whose names end alike go
// to different URLs (a manifest's a/x.txt and b/x.txt) and are not
// duplicates; only the preflight, which knows the keys the source will use,
// says when two collide.
func TestReviewLeavesKeysToThePreflight(t *testing.T) {
	files := []uploader.File{
		{Path: "/a/x.txt", Name: "a/x.txt", Key: "x.txt"},
		{Path: "/b/x.txt", Name: "b/x.txt", Key: "x.txt"},
	}
	m := newReview(newStyles(true), fileset.ListOf(files), uploader.Metadata{}, "t", time.Time{}, fixedNow, true)
	m, _ = m.Update(preflightCheckedMsg{})
	m, _ = m.Update(reviewArmedMsg{})
	if len(m.problems) != 0 {
		t.Fatalf("the review found problems of its own: %+v", m.problems)
	}
	_, msgs := reviewPress(m, "enter")
	only[uploadConfirmedMsg](t, msgs)
}

// A problem that would make the upload fail, a key collision above all,
// blocks sending: it is listed once, enter does nothing, and the person goes
// back to deselect a file. There is no "send anyway".
func TestReviewBlocksSendingOnAnError(t *testing.T) {
	files := []uploader.File{
		{Path: "/dup1/x.txt", Name: "dup1/x.txt", Key: "x.txt"},
		{Path: "/dup2/x.txt", Name: "dup2/x.txt", Key: "x.txt"},
	}
	m := newReview(newStyles(true), fileset.ListOf(files), uploader.Metadata{}, "t", time.Time{}, fixedNow, true)
	m.SetSize(goldenWidth-2, goldenHeight-4)
	m, _ = m.Update(preflightCheckedMsg{problems: []Preflight{{Error: true, Message: `dup1/x.txt and dup2/x.txt would both be uploaded as "x.txt"; rename one or upload them separately`}}})
	m, _ = m.Update(reviewArmedMsg{})
	if n := strings.Count(plain(m.View()), "x.txt\""); n != 1 {
		t.Errorf("the collision is listed %d times:\n%s", n, plain(m.View()))
	}
	m, msgs := reviewPress(m, "enter", "y")
	if len(msgs) != 0 {
		t.Fatalf("sent despite the collision: %v", msgs)
	}
	for _, k := range m.helpKeys().ShortHelp() {
		if k.Enabled() && strings.Contains(k.Help().Desc, "send") {
			t.Errorf("help still offers %q", k.Help().Desc)
		}
	}
	if d := m.keys.Back.Help().Desc; d == "" {
		t.Error("no way back")
	}
	_, msgs = reviewPress(m, "esc")
	only[reviewCancelledMsg](t, msgs)
}

// Enters typed ahead on the form must not send: the review takes enter
// only once it has been on show for a moment.
func TestReviewIgnoresEnterTypedAhead(t *testing.T) {
	m := newReview(newStyles(true), reviewFiles(1), uploader.Metadata{}, "t", time.Time{}, fixedNow, true)
	m, _ = m.Update(preflightCheckedMsg{})
	m, msgs := reviewPress(m, "enter", "enter")
	if len(msgs) != 0 {
		t.Fatalf("sent on an enter typed ahead: %v", msgs)
	}
	msgs = perform(armReview())
	m, _ = m.Update(only[reviewArmedMsg](t, msgs))
	_, msgs = reviewPress(m, "enter")
	only[uploadConfirmedMsg](t, msgs)
}

func TestCheckFilesRunsPreflightOffTheLoop(t *testing.T) {
	files := reviewFiles(2)
	md := uploader.Metadata{OrgID: "acme"}
	var seen *fileset.List
	cmd := checkFiles(func(f *fileset.List, got uploader.Metadata) []Preflight {
		seen = f
		if got != md {
			t.Errorf("metadata %+v", got)
		}
		return []Preflight{{File: f.At(0).Name, Message: "too big"}}
	}, files, md)
	msg := only[preflightCheckedMsg](t, perform(cmd))
	if len(msg.problems) != 1 || seen.At(0).Name != "photos/img-0000.jpg" {
		t.Errorf("problems %+v, files seen %+v", msg.problems, seen)
	}
	if msg := only[preflightCheckedMsg](t, perform(checkFiles(nil, files, md))); len(msg.problems) != 0 {
		t.Errorf("no preflight, problems %+v", msg.problems)
	}
}

func TestReviewView(t *testing.T) {
	md := uploader.Metadata{OrgID: "acme", UserID: "u-1", TTLHours: 48}
	atGoldenWidths(t, func(t *testing.T, w int) string {
		m := newReview(newStyles(true), reviewFiles(40), md, "https://bucket.s3.example.com/uploads/", fixedNow.Add(52*time.Minute), fixedNow, true)
		m.SetSize(w, goldenHeight-4)
		m, _ = m.Update(preflightCheckedMsg{problems: []Preflight{
			{File: "photos/img-0003.jpg", Error: true, Message: "the URL pins the CRC32 of an empty body (AAAAAA==) but the file is 4.0 KiB; R2 will answer 400: get a URL without x-amz-checksum-crc32"},
			{File: "photos/img-0007.jpg", Message: "bigger than 5 GiB minus 5 MiB: Cloudflare R2 refuses single PUTs that large"},
		}})
		m, _ = reviewPress(m, "down", "down")
		return m.View()
	})
}

func TestReviewViewExpired(t *testing.T) {
	m := newReview(newStyles(true), reviewFiles(1), uploader.Metadata{}, "https://host/k", fixedNow.Add(-3*time.Minute), fixedNow, false)
	m.SetSize(goldenWidth-2, goldenHeight-4)
	if v := plain(m.View()); !strings.Contains(v, "expired 3m00s ago: sending will fail; get fresh URLs") {
		t.Errorf("view:\n%s", v)
	}
	m, _ = m.Update(clockTickedMsg{at: fixedNow.Add(-4 * time.Minute)})
	if v := plain(m.View()); !strings.Contains(v, "expires in 1m00s: big files may not make it") {
		t.Errorf("after the clock moved, view:\n%s", v)
	}
}

// Values are quoted, so a trailing space shows, and a long metadata line
// wraps instead of being cut.
func TestReviewQuotesAndWrapsMetadata(t *testing.T) {
	md := uploader.Metadata{OrgID: "acme ", UserID: strings.Repeat("u", 90), TTLHours: 48}
	m := newReview(newStyles(true), reviewFiles(2), md, "t", time.Time{}, fixedNow, false)
	m.SetSize(78, 24)
	v := plain(m.View())
	for _, want := range []string{`organization-id "acme "`, `"` + strings.Repeat("u", 60), "ttl-hours 48"} {
		if !strings.Contains(v, want) {
			t.Errorf("review lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "…") {
		t.Errorf("the metadata was cut:\n%s", v)
	}
}

// multipartStore is a source that says it can send in parts, as --s3 does.
// Only its capabilities are read here (by uploader.PartsFor); nothing is
// sent through it.
type multipartStore struct{ storeSource }

func (multipartStore) Capabilities() uploader.Capabilities {
	return uploader.Capabilities{Resign: true, Multipart: true}
}
func (multipartStore) CreateMultipart(context.Context, uploader.File, uploader.Metadata) (uploader.Upload, error) {
	return uploader.Upload{}, errors.New("not sent in a review test")
}
func (multipartStore) PartTarget(context.Context, uploader.Upload, int, int64, uint32) (uploader.Target, error) {
	return uploader.Target{}, errors.New("not sent in a review test")
}
func (multipartStore) ListParts(context.Context, uploader.Upload) ([]uploader.Part, error) {
	return nil, errors.New("not sent in a review test")
}
func (multipartStore) CompleteMultipart(context.Context, uploader.Upload, []uploader.Part) (string, error) {
	return "", errors.New("not sent in a review test")
}
func (multipartStore) AbortMultipart(context.Context, uploader.Upload) error {
	return errors.New("not sent in a review test")
}

// bigFiles are a small file, one just over the default multipart threshold
// (64 MiB) and a large one.
func bigFiles() *fileset.List {
	return fileset.ListOf([]uploader.File{
		{Path: "/data/notes.txt", Name: "notes.txt", Key: "notes.txt", Size: 12 << 10},
		{Path: "/data/scan.tiff", Name: "scan.tiff", Key: "scan.tiff", Size: 100 << 20},
		{Path: "/data/backup.tar", Name: "backup.tar", Key: "backup.tar", Size: 5 << 30},
	})
}

// The review says which files go up in parts and in how many, with the
// engine's rule and the engine's options: what the engine will do.
func TestReviewSaysWhichFilesGoInParts(t *testing.T) {
	partsFor := func(src uploader.Source, o uploader.Options) func(int64) int {
		return func(size int64) int { return uploader.PartsFor(src, o, size) }
	}
	m := newReview(newStyles(true), bigFiles(), uploader.Metadata{}, "s3://bucket/", time.Time{}, fixedNow, false)
	m.setParts(partsFor(multipartStore{}, uploader.Options{}))
	m.SetSize(118, 26)
	v := plain(m.View())
	for _, want := range []string{"3 files · 5.1 GiB · 2 sent in parts (multipart)", "scan.tiff", "in 7 parts", "in 320 parts"} {
		if !strings.Contains(v, want) {
			t.Errorf("review lacks %q:\n%s", want, v)
		}
	}
	if line := lineWith(v, "notes.txt"); strings.Contains(line, "parts") {
		t.Errorf("a small file said to go in parts: %q", line)
	}
	// --part-size is the engine's too.
	m.setParts(partsFor(multipartStore{}, uploader.Options{PartSize: 64 << 20}))
	if v := plain(m.View()); !strings.Contains(lineWith(v, "scan.tiff"), "in 2 parts") || !strings.Contains(lineWith(v, "backup.tar"), "in 80 parts") {
		t.Errorf("with 64 MiB parts:\n%s", v)
	}
	// Given URLs and the local store send every file in one PUT: the review
	// says nothing about parts.
	for _, pf := range []func(int64) int{nil, partsFor(storeSource{}, uploader.Options{})} {
		m.setParts(pf)
		if v := plain(m.View()); strings.Contains(v, "parts") {
			t.Errorf("a single-PUT source, yet the review speaks of parts:\n%s", v)
		}
	}
}

func lineWith(v, s string) string {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestReviewViewMultipart(t *testing.T) {
	atGoldenWidths(t, func(t *testing.T, w int) string {
		m := newReview(newStyles(true), bigFiles(), uploader.Metadata{OrgID: "acme"}, "s3://bucket/uploads/", time.Time{}, fixedNow, false)
		m.setParts(func(size int64) int { return uploader.PartsFor(multipartStore{}, uploader.Options{}, size) })
		m.SetSize(w, goldenHeight-4)
		m, _ = reviewPress(m, "down")
		return m.View()
	})
}
