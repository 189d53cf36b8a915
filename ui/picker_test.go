package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"hoist/uploader"
)

// pickDir makes a folder with one of each kind of entry the picker knows.
func pickDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), 1200)
	writeFile(t, filepath.Join(dir, "b.bin"), 5000)
	writeFile(t, filepath.Join(dir, ".hidden"), 10)
	writeFile(t, filepath.Join(dir, "docs", "x.md"), 100)
	writeFile(t, filepath.Join(dir, "docs", "sub", "y.md"), 200)
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(t, os.Symlink(".", filepath.Join(dir, "loop")))       // a folder that contains itself
	must(t, os.Symlink("self", filepath.Join(dir, "self")))    // a link to itself: ELOOP
	must(t, os.Symlink("nowhere", filepath.Join(dir, "gone"))) // broken
	must(t, os.Symlink("a.txt", filepath.Join(dir, "link.txt")))
	must(t, os.Symlink(filepath.Join(dir, "fifo"), filepath.Join(dir, "docs", "pipe"))) // a special file inside a folder
	old := fixedNow.Add(-3 * 24 * time.Hour)
	for _, name := range []string{"a.txt", "b.bin", ".hidden", "docs", "docs/x.md", "docs/sub/y.md"} {
		must(t, os.Chtimes(filepath.Join(dir, name), old, old))
	}
	must(t, os.Chtimes(filepath.Join(dir, "b.bin"), fixedNow.Add(-5*time.Minute), fixedNow.Add(-5*time.Minute)))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestListDirClassifiesEntries(t *testing.T) {
	dir := pickDir(t)
	entries, err := listDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]dirEntry{}
	var order []string
	for _, e := range entries {
		got[e.name] = e
		order = append(order, e.name)
	}
	want := map[string]struct {
		kind entryKind
		note string
	}{
		"a.txt":    {entryFile, ""},
		"b.bin":    {entryFile, ""},
		".hidden":  {entryFile, ""},
		"docs":     {entryDir, ""},
		"link.txt": {entryFile, ""},
		"fifo":     {entryBlocked, "a named pipe (FIFO)"},
		"loop":     {entryBlocked, "a symlink loop"},
		"self":     {entryBlocked, "a symlink loop"},
		"gone":     {entryBlocked, "a broken link"},
	}
	for name, w := range want {
		e, ok := got[name]
		if !ok {
			t.Errorf("%s missing from %v", name, order)
			continue
		}
		if e.kind != w.kind || e.note != w.note {
			t.Errorf("%s: kind %d note %q, want kind %d note %q", name, e.kind, e.note, w.kind, w.note)
		}
	}
	if got["link.txt"].size != 1200 || got["link.txt"].link != "a.txt" {
		t.Errorf("link.txt should show its target's size and where it points: %+v", got["link.txt"])
	}
	if order[0] != "docs" {
		t.Errorf("folders come first: %v", order)
	}

	dev := classify("/dev", "/dev", "null")
	if dev.kind != entryBlocked || dev.note != "a character device" {
		t.Errorf("/dev/null: %+v", dev)
	}
}

func TestCollectDirSkipsWhatCannotBeUploaded(t *testing.T) {
	dir := pickDir(t)
	list, skipped, err := collectDir(filepath.Join(dir, "docs"), "docs")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range list.Files() {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "docs/sub/y.md,docs/x.md" {
		t.Errorf("keys %v", keys)
	}
	if skipped != 1 {
		t.Errorf("the link to a FIFO should be skipped: skipped %d", skipped)
	}
	// The whole folder: links to folders are not followed, so the loop
	// does not repeat anything; the FIFO and the broken links are skipped.
	list, skipped, err = collectDir(dir, "top")
	if err != nil {
		t.Fatal(err)
	}
	files := list.Files()
	if len(files) != 6 || skipped != 5 {
		var names []string
		for _, f := range files {
			names = append(names, f.Key)
		}
		t.Errorf("got %d files %v, %d skipped; want 6 files (a, b, .hidden, link, x, y) and 5 skipped (fifo, loop, self, gone, docs/pipe)", len(files), names, skipped)
	}
}

// loadedPicker is a picker showing dir under the name /work/pick, so golden
// views do not depend on where the test runs.
func loadedPicker(t *testing.T, dir string) pickerModel {
	t.Helper()
	m := newPicker(newStyles(true), "/work/pick")
	m.SetSize(goldenWidth-2, goldenHeight-4)
	entries, err := listDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, _ = m.Update(dirReadMsg{dir: "/work/pick", entries: entries, at: fixedNow})
	return m
}

func pickerPress(t *testing.T, m pickerModel, keys ...string) (pickerModel, []tea.Msg) {
	t.Helper()
	var msgs []tea.Msg
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(press(k))
		for _, msg := range perform(cmd) {
			switch msg.(type) {
			case dirWalkedMsg, dirReadMsg, pathsResolvedMsg:
				m, _ = m.Update(msg)
			}
			msgs = append(msgs, msg)
		}
	}
	return m, msgs
}

func TestPickerSelectsFilesAndFolders(t *testing.T) {
	dir := pickDir(t)
	m := loadedPicker(t, dir)
	if cur, _ := m.current(); cur.kind != entryParent {
		t.Fatalf("first row should be ..: %+v", cur)
	}

	// down to docs, then to a.txt; space picks it and moves on.
	m, _ = pickerPress(t, m, "down", "down", "space")
	if m.files != 1 || m.bytes != 1200 {
		t.Fatalf("after picking a.txt: %d files, %d bytes", m.files, m.bytes)
	}
	if !strings.Contains(plain(m.View()), "1 file selected · 1.2 KiB") {
		t.Errorf("footer:\n%s", plain(m.View()))
	}
	if cur, _ := m.current(); cur.name != "b.bin" {
		t.Errorf("space should move to the next row, at %q", cur.name)
	}

	// A FIFO cannot be picked, and says why.
	m.win.moveTo(indexOf(t, m, "fifo"))
	m, _ = pickerPress(t, m, "space")
	if _, picked := m.picks[filepath.Join(dir, "fifo")]; picked || m.files != 1 {
		t.Fatal("a FIFO was picked")
	}
	if !strings.Contains(m.notice, "named pipe") {
		t.Errorf("notice %q", m.notice)
	}

	// Space on a folder counts its files, recursively.
	m.win.moveTo(indexOf(t, m, "docs"))
	m, _ = pickerPress(t, m, "space")
	if m.files != 3 || m.bytes != 1500 || m.skipped != 1 {
		t.Errorf("after picking docs: %d files, %d bytes, %d skipped", m.files, m.bytes, m.skipped)
	}

	// Select all adds every pickable entry shown; the same file twice (a.txt
	// and link.txt are different paths) is counted by path.
	m, _ = pickerPress(t, m, "a")
	if m.files != 5 {
		t.Errorf("select all: %d files, want 5 (a, b, link, docs/x, docs/y, each once)", m.files)
	}
	m, _ = pickerPress(t, m, "n")
	if m.files != 0 || len(m.picks) != 0 {
		t.Errorf("select none left %d files", m.files)
	}

	// Hidden files appear with ".".
	if hasRow(m, ".hidden") {
		t.Error(".hidden shown before asking")
	}
	m, _ = pickerPress(t, m, ".")
	if !hasRow(m, ".hidden") {
		t.Error(".hidden not shown after .")
	}
}

func TestPickerFilterAndFinish(t *testing.T) {
	dir := pickDir(t)
	m := loadedPicker(t, dir)
	m, _ = pickerPress(t, m, "/", "b", ".")
	if !m.filtering || len(m.shown) != 1 || m.entries[m.shown[0]].name != "b.bin" {
		t.Fatalf("filter \"b.\" shows %v", rowNames(m))
	}
	// While typing, space and q are text, not commands.
	m, msgs := pickerPress(t, m, "q")
	if len(msgs) != 0 || m.filter.Value() != "b.q" {
		t.Fatalf("q while filtering: %v, filter %q", msgs, m.filter.Value())
	}
	m, _ = pickerPress(t, m, "backspace", "enter")
	if m.filtering || len(m.shown) != 1 {
		t.Fatalf("enter keeps the filter and leaves typing: filtering %v rows %v", m.filtering, rowNames(m))
	}
	m, msgs = pickerPress(t, m, "space", "enter")
	picked := only[filesPickedMsg](t, msgs).files.Files()
	if len(picked) != 1 || picked[0].Key != "b.bin" || picked[0].Size != 5000 {
		t.Errorf("picked %+v", picked)
	}
	m, _ = pickerPress(t, m, "esc")
	if m.filter.Value() != "" || !hasRow(m, "a.txt") {
		t.Errorf("esc should clear the filter: %v", rowNames(m))
	}

	// Nothing picked: enter on a file picks it and goes on; tab with
	// nothing says what to do.
	m, _ = pickerPress(t, m, "n", "tab")
	if !strings.Contains(m.notice, "nothing picked") {
		t.Errorf("notice %q", m.notice)
	}
	m.win.moveTo(indexOf(t, m, "a.txt"))
	_, msgs = pickerPress(t, m, "enter")
	if got := only[filesPickedMsg](t, msgs).files.Files(); len(got) != 1 || got[0].Name != "a.txt" {
		t.Errorf("enter on a.txt picked %+v", got)
	}
}

func TestPickerOpensFolders(t *testing.T) {
	dir := pickDir(t)
	m := newPicker(newStyles(true), dir)
	m.SetSize(goldenWidth, goldenHeight)
	m, _ = m.Update(only[dirReadMsg](t, perform(m.Init(nil))))
	m.win.moveTo(indexOf(t, m, "docs"))
	m, msgs := pickerPress(t, m, "enter")
	only[dirReadMsg](t, msgs)
	if m.dir != filepath.Join(dir, "docs") || !hasRow(m, "x.md") || !hasRow(m, "pipe") {
		t.Fatalf("in %s: %v", m.dir, rowNames(m))
	}
	m, _ = pickerPress(t, m, "left")
	if m.dir != dir {
		t.Fatalf("left should go up, in %s", m.dir)
	}
	if cur, _ := m.current(); cur.name != "docs" {
		t.Errorf("cursor should come back to docs, on %q", cur.name)
	}
	// A loop can be neither opened nor picked.
	m.win.moveTo(indexOf(t, m, "loop"))
	m, msgs = pickerPress(t, m, "enter")
	if len(msgs) != 0 || m.dir != dir || !strings.Contains(m.notice, "symlink loop") {
		t.Errorf("enter on a loop: msgs %v dir %s notice %q", msgs, m.dir, m.notice)
	}
}

func TestPickerPreselectsCommandLinePaths(t *testing.T) {
	dir := pickDir(t)
	t.Chdir(dir)
	m := newPicker(newStyles(true), dir)
	m.SetSize(goldenWidth, goldenHeight)
	for _, msg := range perform(m.Init([]string{"a.txt", "docs", "missing.txt", "fifo"})) {
		m, _ = m.Update(msg)
	}
	if m.files != 3 || m.bytes != 1500 {
		t.Errorf("preselected %d files, %d bytes", m.files, m.bytes)
	}
	if !strings.Contains(m.notice, "missing.txt: no such file") || !strings.Contains(m.notice, "fifo is a named pipe") {
		t.Errorf("notice %q", m.notice)
	}
	keys := map[string]bool{}
	for _, f := range m.picked().Files() {
		keys[f.Key] = true
	}
	for _, k := range []string{"a.txt", "docs/x.md", "docs/sub/y.md"} {
		if !keys[k] {
			t.Errorf("key %s missing from %v", k, keys)
		}
	}
}

func TestPickerView(t *testing.T) {
	dir := pickDir(t)
	atGoldenWidths(t, func(t *testing.T, w int) string {
		m := loadedPicker(t, dir)
		m.SetSize(w, goldenHeight-4)
		m, _ = pickerPress(t, m, "down", "space", "space", "down", "down")
		return m.View()
	})
}

func indexOf(t *testing.T, m pickerModel, name string) int {
	t.Helper()
	for i, idx := range m.shown {
		if m.entries[idx].name == name {
			return i
		}
	}
	t.Fatalf("%s not shown: %v", name, rowNames(m))
	return 0
}

func hasRow(m pickerModel, name string) bool {
	for _, idx := range m.shown {
		if m.entries[idx].name == name {
			return true
		}
	}
	return false
}

func rowNames(m pickerModel) []string {
	var out []string
	for _, idx := range m.shown {
		out = append(out, m.entries[idx].name)
	}
	return out
}

var _ = uploader.File{}

// A ticked folder ticks what is inside it, unticking one file removes
// exactly it, and the folder then reads [-]: the count is always what is
// sent.
func TestPickerFolderTicksAreTriState(t *testing.T) {
	dir := pickDir(t)
	m := newPicker(newStyles(true), dir)
	m.SetSize(goldenWidth, goldenHeight)
	m, _ = m.Update(only[dirReadMsg](t, perform(m.Init(nil))))
	m.win.moveTo(indexOf(t, m, "docs"))
	m, _ = pickerPress(t, m, "space")
	if m.files != 2 {
		t.Fatalf("docs holds 2 files, %d counted", m.files)
	}
	m.win.moveTo(indexOf(t, m, "docs"))
	m, _ = pickerPress(t, m, "enter")
	view := plain(m.View())
	for _, want := range []string{"[x] sub/", "[x] x.md"} {
		if !strings.Contains(view, want) {
			t.Errorf("inside a ticked folder, %q is not shown:\n%s", want, view)
		}
	}
	m.win.moveTo(indexOf(t, m, "x.md"))
	m, _ = pickerPress(t, m, "space")
	if m.files != 1 || m.bytes != 200 {
		t.Errorf("after unticking x.md: %d files, %d bytes; want 1, 200", m.files, m.bytes)
	}
	if got := m.picked().Files(); len(got) != 1 || got[0].Key != "docs/sub/y.md" {
		t.Errorf("sent %+v, want only docs/sub/y.md", got)
	}
	if view := plain(m.View()); !strings.Contains(view, "[ ] x.md") {
		t.Errorf("x.md still ticked:\n%s", view)
	}
	m, _ = pickerPress(t, m, "left")
	if view := plain(m.View()); !strings.Contains(view, "[-] docs/") {
		t.Errorf("a folder ticked in part should read [-]:\n%s", view)
	}
	// Space on [-] takes the whole folder again.
	m.win.moveTo(indexOf(t, m, "docs"))
	m, _ = pickerPress(t, m, "space")
	if m.files != 2 || !strings.Contains(plain(m.View()), "[x] docs/") {
		t.Errorf("after ticking docs again: %d files\n%s", m.files, plain(m.View()))
	}
	// A file picked on its own inside a folder marks the folder [-].
	m, _ = pickerPress(t, m, "n")
	m.win.moveTo(indexOf(t, m, "docs"))
	m, _ = pickerPress(t, m, "enter")
	m.win.moveTo(indexOf(t, m, "x.md"))
	m, _ = pickerPress(t, m, "space", "left")
	if m.files != 1 || !strings.Contains(plain(m.View()), "[-] docs/") {
		t.Errorf("one file inside docs: %d files\n%s", m.files, plain(m.View()))
	}
}

// A long folder says how many rows are out of sight, and the filter's
// match is marked in each name.
func TestPickerShowsRowsOutOfSightAndMatches(t *testing.T) {
	entries := make([]dirEntry, 100)
	for i := range entries {
		name := fmt.Sprintf("photo-%03d.jpg", i)
		entries[i] = dirEntry{name: name, path: "/p/" + name, kind: entryFile, size: 10, modTime: fixedNow}
	}
	m := newPicker(newStyles(true), "/p")
	m.SetSize(78, 20)
	m, _ = m.Update(dirReadMsg{dir: "/p", entries: entries, at: fixedNow})
	if v := plain(m.View()); !strings.Contains(v, "↓ 85 more") || strings.Contains(v, "↑") {
		t.Errorf("at the top of 101 rows:\n%s", v)
	}
	m, _ = pickerPress(t, m, "end")
	if v := plain(m.View()); !strings.Contains(v, "↑ 85 more") || strings.Contains(v, "↓") {
		t.Errorf("at the bottom:\n%s", v)
	}
	m.filter.SetValue("-05")
	m.refilter()
	name := fit("photo-050.jpg", 20)
	got := m.highlightMatch(name, m.st.Text)
	if ansi.Strip(got) != name || got == m.st.Text.Render(name) {
		t.Errorf("the match is not marked: %q", got)
	}
}

// Relative ages are worked out again as time passes.
func TestPickerAgesRefresh(t *testing.T) {
	m := loadedPicker(t, pickDir(t))
	if !strings.Contains(plain(m.View()), "5 minutes ago") {
		t.Fatalf("b.bin should read 5 minutes ago:\n%s", plain(m.View()))
	}
	m, _ = m.Update(agesTickedMsg{at: fixedNow.Add(30 * time.Minute)})
	if !strings.Contains(plain(m.View()), "35 minutes ago") {
		t.Errorf("after 30 minutes b.bin should read 35 minutes ago:\n%s", plain(m.View()))
	}
}

// Dropping files on the terminal pastes their paths (shell quoted, or
// file:// URIs, one or more a line): they join the selection.
func TestPickerTakesPastedPaths(t *testing.T) {
	dir := pickDir(t)
	writeFile(t, filepath.Join(dir, "with space.txt"), 42)
	if got := pastedPaths("'/a/b c.txt' /d\\ e.txt\r\nfile:///f/g%20h.txt\nfile://elsewhere/x\n\n"); fmt.Sprint(got) != "[/a/b c.txt /d e.txt /f/g h.txt]" {
		t.Errorf("pastedPaths = %q", got)
	}
	m := loadedPicker(t, dir)
	paste := "'" + filepath.Join(dir, "with space.txt") + "'\nfile://" + filepath.Join(dir, "b.bin") + "\n"
	m, cmd := m.Update(tea.PasteMsg{Content: paste})
	for _, msg := range perform(cmd) {
		m, _ = m.Update(msg)
	}
	if m.files != 2 || m.bytes != 42+5000 {
		t.Errorf("after the paste: %d files, %d bytes; want 2, 5042", m.files, m.bytes)
	}
	if !strings.Contains(plain(m.View()), "[x] b.bin") {
		t.Errorf("b.bin not ticked:\n%s", plain(m.View()))
	}
}

// A long name keeps its end in the picker at 64 columns, as everywhere else:
// the version and the extension tell "report-final-v2.pdf" from "-v3.pdf".
func TestPickerLongNamesKeepTheirEnd(t *testing.T) {
	var entries []dirEntry
	for _, name := range []string{"quarterly-report-final-v2.pdf", "quarterly-report-final-v3.pdf"} {
		entries = append(entries, dirEntry{name: name, path: "/p/" + name, kind: entryFile, size: 10, modTime: fixedNow})
	}
	m := newPicker(newStyles(true), "/p")
	m.SetSize(62, 14)
	m, _ = m.Update(dirReadMsg{dir: "/p", entries: entries, at: fixedNow})
	v := plain(m.View())
	for _, end := range []string{"final-v2.pdf", "final-v3.pdf"} {
		if !strings.Contains(v, end) {
			t.Errorf("no %q at 64 columns:\n%s", end, v)
		}
	}
}

// Paths given on the command line are being read when the picker opens: a
// tab then says to wait, not that nothing is picked.
func TestPickerWaitsForTheGivenPaths(t *testing.T) {
	dir := pickDir(t)
	t.Chdir(dir)
	m := sized(newModel(context.Background(), Options{StartDir: dir, Paths: []string{"a.txt"}}), goldenWidth, goldenHeight)
	m, _ = step(t, m, press("tab"), nil)
	if m.screen != screenPicker || !strings.Contains(m.picker.notice, "still counting") {
		t.Fatalf("tab before the paths were read: screen %d, notice %q", m.screen, m.picker.notice)
	}
	for _, msg := range perform(resolvePaths([]string{"a.txt"})) {
		m, _ = step(t, m, msg, nil)
	}
	if _, seen := step(t, m, press("tab"), nil); len(seen) < 2 {
		t.Fatalf("tab once the paths were read did nothing: %v", seen)
	} else if _, ok := seen[1].(filesPickedMsg); !ok {
		t.Errorf("tab once the paths were read: %T, want the files picked", seen[1])
	}
}

// A folder picked in the terminal UI is handed on as a compact list: a
// folder of 100,000 files as a slice of Files (and a second slice for the
// pick) was 30 MB, half the TUI's memory for the run (issue 15).
func TestPickedFolderStaysCompact(t *testing.T) {
	const files = 5000
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	for i := range files {
		if err := os.MkdirAll(big, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(big, fmt.Sprintf("f%06d.bin", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := loadedPicker(t, dir)
	before := uiLiveHeap()
	m.win.moveTo(indexOf(t, m, "big"))
	m, msgs := pickerPress(t, m, "space")
	for _, msg := range msgs {
		m, _ = m.Update(msg)
	}
	got := m.picked()
	perFile := float64(uiLiveHeap()-before) / files
	t.Logf("%.0f bytes a file, for the pick and the list handed on", perFile)
	if m.files != files || got.Len() != files || got.At(files-1).Key != fmt.Sprintf("big/f%06d.bin", files-1) {
		t.Fatalf("%d counted, %d handed on, last %+v", m.files, got.Len(), got.At(files-1))
	}
	if perFile > 120 {
		t.Errorf("%.0f bytes a file; a File alone is about 180", perFile)
	}
	runtime.KeepAlive(&m)
	runtime.KeepAlive(got)
}

func uiLiveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
