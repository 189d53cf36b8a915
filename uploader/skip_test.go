package uploader

import (
	"context"
	"net/http"
	"testing"
)

// With SkipExisting, a single PUT carries If-None-Match: *, and a store's
// 412 (the object is there) ends the file as skipped, never uploaded.
func TestSkipExistingOnPreconditionFailed(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Header.Get("If-None-Match") == "*" && r.URL.Path == "/stored" {
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = w.Write([]byte(`<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`))
			return true
		}
		return false
	})
	dir := t.TempDir()
	stored, _ := writeFile(t, dir, "stored", 100)
	fresh, _ := writeFile(t, dir, "fresh", 100)
	events, p := run(t, &testSource{base: rec.URL}, Options{SkipExisting: true}, stored, fresh)
	if last := lastOf(events, 0); last.Kind != EventSkipped {
		t.Errorf("stored file ended %v (%v), want skipped", last.Kind, last.Err)
	}
	if last := lastOf(events, 1); last.Kind != EventDone {
		t.Errorf("fresh file ended %v (%v), want done", last.Kind, last.Err)
	}
	if s := p.Summary(); s.Uploaded != 1 || s.Skipped != 1 || s.Failed != 0 {
		t.Errorf("summary %+v, want 1 uploaded, 1 skipped", s)
	}
	for _, r := range rec.requests() {
		if r.Header.Get("If-None-Match") != "*" {
			t.Errorf("PUT %s without If-None-Match: *", r.Path)
		}
	}
}

// existsSource says every file is stored, as a HEAD would.
type existsSource struct {
	testSource
	asked int
}

func (s *existsSource) Exists(context.Context, File) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	return true, nil
}

// A source that can look is asked first, and nothing is sent.
func TestSkipExistingAsksExisterFirst(t *testing.T) {
	rec := newRecorder(t, nil)
	f, _ := writeFile(t, t.TempDir(), "a", 100)
	src := &existsSource{testSource: testSource{base: rec.URL}}
	events, _ := run(t, src, Options{SkipExisting: true}, f)
	if last := lastOf(events, 0); last.Kind != EventSkipped {
		t.Errorf("file ended %v, want skipped", last.Kind)
	}
	if src.asked != 1 || len(rec.requests()) != 0 {
		t.Errorf("asked %d times, sent %d requests; want 1 and 0", src.asked, len(rec.requests()))
	}
}
