package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"go.uber.org/goleak"

	"hoist/uploader"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// teatest waits for SIGINT for the life of the test binary.
		goleak.IgnoreAnyFunction("github.com/charmbracelet/x/exp/teatest/v2.NewTestModel.func2"),
	)
}

// Golden views are compared at this size, without colours (ansi.Strip), so
// the files show the layout and read as text.
const (
	goldenWidth  = 100
	goldenHeight = 30
)

// goldenWidths are the terminal widths people use: every screen's golden
// view is kept at each, in testdata/TestName/wNN.golden.
var goldenWidths = []int{80, 120}

// atGoldenWidths checks the view drawn for each golden width (the screen
// gets the terminal's width less the root's margin).
func atGoldenWidths(t *testing.T, view func(t *testing.T, w int) string) {
	t.Helper()
	for _, w := range goldenWidths {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			golden.RequireEqual(t, plain(view(t, w-2)))
		})
	}
}

// fixedNow is the clock of every golden view.
var fixedNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// press makes the message a key press produces.
func press(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("press: unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// perform executes a command the way the program would, without waiting on
// timers: a command that does not answer within a moment (a tick) is
// dropped. It returns the messages produced, batches flattened.
func perform(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(500 * time.Millisecond):
		go func() { <-ch }()
		return nil
	}
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, perform(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

// only returns the first message of type T among msgs.
func only[T any](t *testing.T, msgs []tea.Msg) T {
	t.Helper()
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T among %#v", zero, msgs)
	return zero
}

// plain is a view as a person reads it.
func plain(s string) string {
	lines := strings.Split(ansi.Strip(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func writeFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte('a' + i*7%26)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// store is an httptest server that keeps what is PUT to it, like a bucket.
type store struct {
	*httptest.Server
	mu      sync.Mutex
	objects map[string][]byte
	headers map[string]http.Header
	queries map[string]string
	// hold, when not nil, keeps every request waiting until it is closed
	// or the request's context ends.
	hold chan struct{}
	// deny answers 403 to keys with this prefix.
	deny     string
	requests int // requests that reached the handler
}

func newStore(t *testing.T) *store {
	t.Helper()
	s := &store{objects: map[string][]byte{}, headers: map[string]http.Header{}, queries: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *store) serve(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/bucket/")
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	if s.deny != "" && strings.HasPrefix(key, s.deny) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return
	}
	if s.hold != nil {
		select {
		case <-s.hold:
		case <-r.Context().Done():
			return
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.objects[key] = body
	s.headers[key] = r.Header.Clone()
	s.queries[key] = r.URL.RawQuery
	s.mu.Unlock()
	w.Header().Set("ETag", `"0123456789abcdef"`)
	w.WriteHeader(http.StatusOK)
}

func (s *store) object(key string) ([]byte, http.Header, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	return b, s.headers[key], ok
}

// storeSource is an uploader.Source that PUTs every file to the store.
// Its URLs carry a fake signature, which must never show anywhere.
type storeSource struct{ base string }

func (s storeSource) Describe() string                    { return s.base + "/bucket/" }
func (s storeSource) Capabilities() uploader.Capabilities { return uploader.Capabilities{} }
func (s storeSource) WantsChecksum(uploader.File) bool    { return false }
func (s storeSource) Target(_ context.Context, f uploader.File, md uploader.Metadata) (uploader.Target, error) {
	h := http.Header{}
	for k, v := range md.Values() {
		h.Set(k, v)
	}
	return uploader.Target{
		Method: http.MethodPut,
		URL:    s.base + "/bucket/" + f.Key + "?X-Amz-Signature=" + secretSignature,
		Header: h, Key: f.Key,
		Location: "bucket/" + f.Key,
	}, nil
}

const secretSignature = "5ec2e7516a7e5ec2e7516a7e"

func newStorePool(s *store, concurrency int) func(uploader.Metadata) *uploader.Pool {
	return func(md uploader.Metadata) *uploader.Pool {
		// As main builds the terminal UI's pools: files sent are forgotten,
		// failed ones kept for r.
		return uploader.New(storeSource{base: s.URL}, uploader.Options{
			Concurrency: concurrency, Metadata: md, StallTimeout: 5 * time.Second,
			ForgetFinished: true, KeepFailed: true,
		})
	}
}
