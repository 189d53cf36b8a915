package ui

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/shlex"

	"hoist/fileset"
	"hoist/uploader"
)

// The picker browses folders and picks any number of files and folders. The
// bubbles filepicker picks one file, so this is its own windowed list, in the
// manner of gum's multi-select.

type entryKind int

const (
	entryFile    entryKind = iota
	entryDir               // can be opened and picked (its files, recursively)
	entryParent            // ".."
	entryBlocked           // shown, but neither opened nor picked: note says why
)

type dirEntry struct {
	name    string
	path    string
	kind    entryKind
	size    int64
	modTime time.Time
	link    string // where a symbolic link points, as written in it
	note    string // why it is blocked
}

func (e dirEntry) pickable() bool { return e.kind == entryFile || e.kind == entryDir }

// pick is one file or folder the person selected. A folder stands for every
// file under it, found by walkDir.
type pick struct {
	path    string // absolute
	name    string // as shown, and the start of the keys of its files
	dir     bool
	walking bool
	files   []uploader.File // a file picked on its own: itself
	list    *fileset.List   // a folder: its files, compactly (100,000 Files were 20 MB, issue 15)
	skipped int
	err     error
}

// size is how many files the pick stands for, and their bytes.
func (p *pick) size() (int, int64) {
	if p.dir {
		return p.list.Len(), p.list.Total()
	}
	return len(p.files), sumSize(p.files)
}

type pickerModel struct {
	st   *Styles
	keys pickerKeys

	width, height int
	dir           string
	entries       []dirEntry // as read, sorted
	shown         []int      // indexes into entries that pass the hidden and filter rules
	win           window
	now           time.Time
	loading       bool
	readErr       error
	cameFrom      string // the folder just left, to put the cursor back on it

	showHidden bool
	filter     textinput.Model
	filtering  bool

	picks map[string]*pick
	order []string // paths of picks, in the order they were made
	// excluded are files and folders unticked inside a picked folder: the
	// nearest of a path and its parents that is picked or excluded decides
	// whether it is sent, so unticking one file removes exactly it.
	excluded map[string]struct{}
	// Folders with a pick or an exclusion somewhere below them, worked out
	// by recount, so a folder row can show [-] without a walk.
	pickedBelow, excludedBelow map[string]struct{}

	files   int // distinct files in all picks
	bytes   int64
	skipped int
	walking int
	// resolving counts the path lists given or pasted not yet resolved into
	// picks: until then, nothing is picked but something will be.
	resolving int
	notice    string // last thing the person should know: why a key did nothing
}

func newPicker(st *Styles, dir string) pickerModel {
	f := textinput.New()
	f.Prompt = "/ "
	f.Placeholder = "type to filter"
	f.SetStyles(st.Input)
	return pickerModel{
		st:       st,
		keys:     newPickerKeys(),
		dir:      dir,
		loading:  true,
		filter:   f,
		picks:    map[string]*pick{},
		excluded: map[string]struct{}{},
	}
}

// Init reads the first folder and resolves the paths given on the command line.
func (m pickerModel) Init(paths []string) tea.Cmd {
	cmds := []tea.Cmd{readDir(m.dir)}
	if len(paths) > 0 {
		cmds = append(cmds, resolvePaths(paths))
	}
	return tea.Batch(cmds...)
}

func (m *pickerModel) SetSize(w, h int) {
	m.width, m.height = w, h
	m.filter.SetWidth(max(w-4, 1))
	m.win.setHeight(m.listHeight())
}

func (m *pickerModel) setStyles(st *Styles) {
	m.st = st
	m.filter.SetStyles(st.Input)
}

// listHeight leaves room for the folder line, the filter line, a notice and
// the footer.
func (m pickerModel) listHeight() int { return max(m.height-4, 1) }

// capturesText reports whether printable keys go into the filter.
func (m pickerModel) capturesText() bool { return m.filtering }

func (m pickerModel) Update(msg tea.Msg) (pickerModel, tea.Cmd) {
	switch msg := msg.(type) {
	case dirReadMsg:
		if msg.dir != m.dir {
			return m, nil // an answer for a folder already left
		}
		m.loading, m.readErr, m.now = false, msg.err, msg.at
		m.entries = msg.entries
		if parent := filepath.Dir(m.dir); parent != m.dir {
			m.entries = slices.Insert(m.entries, 0, dirEntry{name: "..", path: parent, kind: entryParent})
		}
		m.refilter()
		m.win.moveTo(0)
		if m.cameFrom != "" {
			for i, idx := range m.shown {
				if m.entries[idx].path == m.cameFrom {
					m.win.moveTo(i)
				}
			}
			m.cameFrom = ""
		}
		return m, nil

	case dirWalkedMsg:
		p, ok := m.picks[msg.path]
		if !ok || !p.walking {
			return m, nil // unpicked while it was being walked
		}
		p.walking, p.list, p.skipped, p.err = false, msg.files, msg.skipped, msg.err
		if msg.err != nil {
			// The error names the file inside the folder (fileset.Walk):
			// nothing of the folder is sent until it can all be read.
			m.notice = msg.err.Error() + "; untick the folder or fix it"
		}
		m.recount()
		return m, nil

	case agesTickedMsg:
		m.now = msg.at
		return m, nil

	case pathsResolvedMsg:
		m.resolving = max(m.resolving-1, 0)
		for i := range msg.picks {
			m.addPick(&msg.picks[i])
		}
		if len(msg.problems) > 0 {
			m.notice = strings.Join(msg.problems, "; ")
		}
		m.recount()
		return m, nil

	case tea.KeyPressMsg:
		if m.filtering {
			return m.updateFilter(msg)
		}
		return m.updateKey(msg)

	case screenScrolledMsg:
		m.win.move(msg.delta)
		return m, nil

	case screenClickedMsg:
		// Rows start under the folder and filter lines.
		i, ok := m.win.rowAt(msg.y, 2)
		if !ok || m.loading {
			return m, nil
		}
		m.win.moveTo(i)
		e := m.entries[m.shown[i]]
		if msg.x >= 2 && msg.x < 6 && e.pickable() {
			return m, m.toggle(e) // a click on the box ticks it
		}
		return m, nil

	case tea.PasteMsg:
		if m.filtering {
			break // text for the filter
		}
		// What terminals send when files are dropped on them: paths, shell
		// quoted or as file:// URIs, one or more a line.
		paths := pastedPaths(msg.Content)
		if len(paths) == 0 {
			m.notice = "nothing to pick in what was pasted: drop files, or paste their paths"
			return m, nil
		}
		m.resolving++
		return m, resolvePaths(paths)
	}
	if m.filtering {
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m pickerModel) updateFilter(msg tea.KeyPressMsg) (pickerModel, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.FilterClear):
		m.filtering = false
		m.filter.Blur()
		m.filter.SetValue("")
		m.refilter()
		return m, nil
	case key.Matches(msg, m.keys.FilterApply):
		m.filtering = false
		m.filter.Blur()
		return m, nil
	case key.Matches(msg, m.keys.Up, m.keys.Down):
		m.win.handleKey(msg, m.keys.listKeys)
		return m, nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.refilter()
	return m, cmd
}

func (m pickerModel) updateKey(msg tea.KeyPressMsg) (pickerModel, tea.Cmd) {
	m.notice = ""
	if m.win.handleKey(msg, m.keys.listKeys) {
		return m, nil
	}
	if key.Matches(msg, m.keys.FilterClear) && m.filter.Value() != "" {
		m.filter.SetValue("")
		m.refilter()
		return m, nil
	}
	cur, hasCur := m.current()
	switch {
	case key.Matches(msg, m.keys.Open):
		if !hasCur {
			break
		}
		switch cur.kind {
		case entryParent:
			return m.cd(cur.path, m.dir)
		case entryDir:
			return m.cd(cur.path, "")
		case entryBlocked:
			m.notice = cur.name + " is " + cur.note + "; it cannot be opened or uploaded"
			return m, nil
		}
		if msg.String() == "enter" {
			if m.files == 0 && m.walking == 0 && cur.kind == entryFile {
				m.toggle(cur)
			}
			return m.finish()
		}
	case key.Matches(msg, m.keys.Parent):
		if parent := filepath.Dir(m.dir); parent != m.dir {
			return m.cd(parent, m.dir)
		}
	case key.Matches(msg, m.keys.Toggle):
		if !hasCur {
			break
		}
		if !cur.pickable() {
			if cur.kind == entryBlocked {
				m.notice = cur.name + " is " + cur.note + "; it cannot be uploaded"
			}
			m.win.move(1)
			break
		}
		cmd := m.toggle(cur)
		m.win.move(1)
		return m, cmd
	case key.Matches(msg, m.keys.All):
		return m, m.selectAll()
	case key.Matches(msg, m.keys.None):
		m.picks = map[string]*pick{}
		m.order = nil
		m.excluded = map[string]struct{}{}
		m.recount()
	case key.Matches(msg, m.keys.Filter):
		m.filtering = true
		return m, m.filter.Focus()
	case key.Matches(msg, m.keys.Hidden):
		m.showHidden = !m.showHidden
		m.refilter()
	case key.Matches(msg, m.keys.Continue):
		return m.finish()
	case key.Matches(msg, m.keys.Quit):
		return m, func() tea.Msg { return quitRequestedMsg{} }
	}
	return m, nil
}

func (m pickerModel) cd(dir, from string) (pickerModel, tea.Cmd) {
	m.dir, m.cameFrom = dir, from
	m.loading, m.readErr = true, nil
	m.entries, m.shown = nil, nil
	m.filter.SetValue("")
	m.win.setLen(0)
	return m, readDir(dir)
}

// toggle ticks e, or unticks it when it is ticked; a folder ticked only in
// part ([-]) gets all of it.
func (m *pickerModel) toggle(e dirEntry) tea.Cmd {
	var cmd tea.Cmd
	if m.mark(&e) == markAll {
		m.untick(e.path)
	} else {
		cmd = m.tick(&e, make([]uploader.File, 1), &pick{})
	}
	m.recount()
	return cmd
}

// selectAll ticks every entry shown, with one recount for the lot (a
// recount per entry made it quadratic: 35 s for 20,000 entries) and one
// allocation for the files picked on their own.
func (m *pickerModel) selectAll() tea.Cmd {
	// Every entry shown is in m.dir: whether that folder is selected is
	// worked out once, not once per file.
	dirSel := m.selected(m.dir)
	todo := make([]int, 0, len(m.shown))
	for _, idx := range m.shown {
		e := &m.entries[idx]
		switch {
		case !e.pickable():
		case e.kind == entryFile:
			if !m.selectedIn(e.path, dirSel) {
				todo = append(todo, idx)
			}
		case m.mark(e) != markAll:
			todo = append(todo, idx)
		}
	}
	if len(m.picks) == 0 {
		m.picks = make(map[string]*pick, len(todo))
		m.order = make([]string, 0, len(todo))
	}
	slab := make([]uploader.File, len(todo))
	picks := make([]pick, len(todo))
	var cmds []tea.Cmd
	for i, idx := range todo {
		if cmd := m.tick(&m.entries[idx], slab[i:i+1:i+1], &picks[i]); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	m.recount()
	return tea.Batch(cmds...)
}

// tick makes e wholly selected; picking a folder starts counting its
// files. The pick is written into p, and a file picked on its own into
// one, a slice of length one, so a caller ticking many allocates once. The
// caller recounts.
func (m *pickerModel) tick(e *dirEntry, one []uploader.File, p *pick) tea.Cmd {
	if e.kind == entryDir {
		prefix := e.path + string(filepath.Separator)
		for x := range m.excluded {
			if strings.HasPrefix(x, prefix) {
				delete(m.excluded, x)
			}
		}
	}
	_, wasExcluded := m.excluded[e.path]
	delete(m.excluded, e.path)
	// tick is called for what is not wholly selected: a file that was not
	// excluded is not covered by a folder above.
	if (wasExcluded || e.kind == entryDir) && m.selected(e.path) {
		return nil // a picked folder above covers it
	}
	*p = pick{path: e.path, name: e.name, dir: e.kind == entryDir}
	if p.dir {
		p.walking = true
	} else {
		one[0] = uploader.File{Path: e.path, Name: e.name, Key: fileset.Key(e.path, ""), Size: e.size, ModTime: e.modTime}
		p.files = one
	}
	m.addPick(p)
	if p.dir {
		return walkDir(p.path, p.name)
	}
	return nil
}

// untick removes path from the selection: its own pick, and when a picked
// folder above still covers it, an exclusion. The caller recounts.
func (m *pickerModel) untick(path string) {
	if _, ok := m.picks[path]; ok {
		delete(m.picks, path)
		m.order = slices.DeleteFunc(m.order, func(p string) bool { return p == path })
	}
	if m.selected(path) {
		m.excluded[path] = struct{}{}
	}
}

func (m *pickerModel) addPick(p *pick) {
	if _, ok := m.picks[p.path]; !ok {
		m.order = append(m.order, p.path)
	}
	m.picks[p.path] = p
}

// decider is the nearest of path and its parents that is picked or
// excluded, or "" when none is: it decides whether path is sent.
func (m pickerModel) decider(path string) (string, bool) {
	for p := path; ; {
		if _, ok := m.excluded[p]; ok {
			return p, false
		}
		if _, ok := m.picks[p]; ok {
			return p, true
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", false
		}
		p = parent
	}
}

// selectedIn is selected for a path whose folder's selection is known.
func (m pickerModel) selectedIn(path string, dirSelected bool) bool {
	if _, ok := m.excluded[path]; ok {
		return false
	}
	if _, ok := m.picks[path]; ok {
		return true
	}
	return dirSelected
}

// selected reports whether path is sent.
func (m pickerModel) selected(path string) bool {
	_, sel := m.decider(path)
	return sel
}

type selMark int

const (
	markNone selMark = iota
	markSome         // a folder with some of its files selected: [-]
	markAll
)

// mark is what an entry's box shows.
func (m pickerModel) mark(e *dirEntry) selMark {
	sel := m.selected(e.path)
	if e.kind != entryDir {
		if sel {
			return markAll
		}
		return markNone
	}
	switch _, exBelow := m.excludedBelow[e.path]; {
	case sel && !exBelow:
		return markAll
	case sel:
		return markSome
	}
	if _, below := m.pickedBelow[e.path]; below {
		return markSome
	}
	return markNone
}

// counts reports whether f, found in the pick at from, is counted there:
// a file is counted once, by the pick nearest to it, unless an exclusion
// is nearer.
func (m pickerModel) counts(f uploader.File, from string) bool {
	if f.Path == from && len(m.excluded) == 0 {
		return true // a file picked on its own: the common case, kept cheap
	}
	d, sel := m.decider(f.Path)
	return sel && d == from
}

// recount sums the picks, counting a file once even when it was picked both
// on its own and inside a folder, and not at all when it was unticked.
func (m *pickerModel) recount() {
	m.files, m.bytes, m.skipped, m.walking = 0, 0, 0, 0
	clear(m.pickedBelow)
	clear(m.excludedBelow)
	if m.pickedBelow == nil {
		m.pickedBelow = make(map[string]struct{})
		m.excludedBelow = make(map[string]struct{})
	}
	lastDir := ""
	for _, path := range m.order {
		p := m.picks[path]
		if p.walking {
			m.walking++
		}
		m.skipped += p.skipped
		if dir := filepath.Dir(path); dir != lastDir {
			markParents(m.pickedBelow, path)
			lastDir = dir // siblings share their parents: mark them once
		}
	}
	for x := range m.excluded {
		markParents(m.excludedBelow, x)
	}
	for _, path := range m.order {
		p := m.picks[path]
		if m.whole(p) {
			n, bytes := p.size()
			m.files += n
			m.bytes += bytes
			continue
		}
		m.eachCounted(p, func(f uploader.File) {
			m.files++
			m.bytes += f.Size
		})
	}
}

// whole reports whether every file of folder pick p counts there: nothing
// picked or unticked lies inside it. Its files are then counted without
// looking at each (a folder of 100,000: issue 15). recount makes the sets
// it reads.
func (m *pickerModel) whole(p *pick) bool {
	if !p.dir {
		return false
	}
	_, below := m.pickedBelow[p.path]
	_, excluded := m.excludedBelow[p.path]
	return !below && !excluded
}

// eachCounted calls fn with each file of p that counts there.
func (m *pickerModel) eachCounted(p *pick, fn func(uploader.File)) {
	if !p.dir {
		for _, f := range p.files {
			if m.counts(f, p.path) {
				fn(f)
			}
		}
		return
	}
	for i := range p.list.Len() {
		if f := p.list.At(i); m.counts(f, p.path) {
			fn(f)
		}
	}
}

// markParents adds every folder above path to set, stopping at one already
// there: its parents are too, so siblings cost one step each.
func markParents(set map[string]struct{}, path string) {
	for p := filepath.Dir(path); ; p = filepath.Dir(p) {
		if _, ok := set[p]; ok {
			return
		}
		set[p] = struct{}{}
		if filepath.Dir(p) == p {
			return
		}
	}
}

// picked is every selected file once, in the order picked, as a compact
// list: a folder wholly picked is appended whole.
func (m pickerModel) picked() *fileset.List {
	out := &fileset.List{} // whole reads the sets the last recount made
	for _, path := range m.order {
		p := m.picks[path]
		switch {
		case m.whole(p):
			out.AppendList(p.list, nil)
		case p.dir:
			out.AppendList(p.list, func(i int) bool { return m.counts(p.list.At(i), path) })
		default:
			m.eachCounted(p, out.Append)
		}
	}
	out.Trim()
	return out
}

func (m pickerModel) finish() (pickerModel, tea.Cmd) {
	switch {
	case m.walking > 0 || m.resolving > 0:
		m.notice = "still counting the files in the picked folders; a moment"
		return m, nil
	case m.files == 0:
		m.notice = "nothing picked yet: space picks the file or folder under the cursor"
		return m, nil
	}
	files := m.picked()
	return m, func() tea.Msg { return filesPickedMsg{files: files} }
}

func (m pickerModel) current() (dirEntry, bool) {
	if len(m.shown) == 0 {
		return dirEntry{}, false
	}
	return m.entries[m.shown[m.win.cursor]], true
}

func (m *pickerModel) refilter() {
	q := strings.ToLower(m.filter.Value())
	m.shown = make([]int, 0, len(m.entries))
	for i, e := range m.entries {
		switch {
		case e.kind == entryParent && q != "":
			continue
		case e.kind != entryParent && !m.showHidden && strings.HasPrefix(e.name, "."):
			continue
		case q != "" && !strings.Contains(strings.ToLower(e.name), q):
			continue
		}
		m.shown = append(m.shown, i)
	}
	m.win.setLen(len(m.shown))
}

func (m pickerModel) helpKeys() help.KeyMap {
	k := m.keys
	k.FilterApply.SetEnabled(m.filtering)
	k.FilterClear.SetEnabled(m.filtering)
	for _, b := range []*key.Binding{&k.Open, &k.Toggle, &k.Continue, &k.Filter, &k.Quit, &k.Help, &k.All, &k.None, &k.Hidden, &k.Parent} {
		b.SetEnabled(!m.filtering)
	}
	return k
}

func (m pickerModel) View() string {
	st := m.st
	var b strings.Builder
	w := m.width

	hidden := ". shows hidden files"
	if m.showHidden {
		hidden = ". hides hidden files"
	}
	dir := cutLeft(m.dir, max(w-len(hidden)-2, 10))
	b.WriteString(st.Title.Render(dir))
	if pad := w - ansi.StringWidth(dir) - len(hidden); pad > 0 {
		b.WriteString(strings.Repeat(" ", pad) + st.Faint.Render(hidden))
	}
	b.WriteByte('\n')

	var filterLine string
	switch {
	case m.filtering:
		filterLine = m.filter.View()
	case m.filter.Value() != "":
		filterLine = st.Filter.Render("/ "+m.filter.Value()) + st.Faint.Render("  (esc clears)")
	default:
		filterLine = st.Faint.Render("/ to filter")
	}
	// Rows out of sight are counted, so a long folder does not look short.
	from, to := m.win.visible()
	var more []string
	if from > 0 {
		more = append(more, fmt.Sprintf("↑ %d more", from))
	}
	if below := len(m.shown) - to; below > 0 {
		more = append(more, fmt.Sprintf("↓ %d more", below))
	}
	moreText := strings.Join(more, "  ")
	b.WriteString(filterLine)
	if pad := w - ansi.StringWidth(filterLine) - ansi.StringWidth(moreText); moreText != "" && pad > 0 {
		b.WriteString(strings.Repeat(" ", pad) + st.Subtle.Render(moreText))
	}
	b.WriteByte('\n')

	rows := m.listHeight()
	switch {
	case m.loading:
		b.WriteString(st.Subtle.Render("reading…"))
		rows--
	case m.readErr != nil && len(m.shown) <= 1:
		b.WriteString(st.Error.Render(cut(oneLine("cannot read this folder: "+m.readErr.Error()), w)))
		b.WriteByte('\n')
		rows--
	}
	for i := from; i < to && rows > 0; i++ {
		b.WriteString(m.entryView(m.entries[m.shown[i]], i == m.win.cursor))
		b.WriteByte('\n')
		rows--
	}
	if !m.loading && m.readErr == nil && len(m.shown) == to && (to == 0 || (to == 1 && m.entries[m.shown[0]].kind == entryParent)) && rows > 0 {
		msg := "    (empty folder)"
		if m.filter.Value() != "" {
			msg = "    (nothing matches the filter)"
		}
		b.WriteString(st.Subtle.Render(msg) + "\n")
		rows--
	}
	b.WriteString(strings.Repeat("\n", max(rows, 0)))

	if m.notice != "" {
		b.WriteString(st.Warn.Render(cut(oneLine(m.notice), w)))
	}
	b.WriteByte('\n')
	b.WriteString(m.footerView())
	return b.String()
}

const (
	pickSizeWidth = 9
	pickAgeWidth  = 18
)

func (m pickerModel) entryView(e dirEntry, isCursor bool) string {
	st := m.st
	marker := "  "
	if isCursor {
		marker = st.Cursor.Render("› ")
	}
	p, picked := m.picks[e.path]
	box := "[ ] "
	switch {
	case !e.pickable():
		box = "    "
	case m.mark(&e) == markAll:
		box = "[x] "
	case m.mark(&e) == markSome:
		box = "[-] "
	}

	infoWidth := pickSizeWidth + 2 + pickAgeWidth
	nameWidth := max(m.width-2-4-2-infoWidth, 8)
	name := uploader.DisplayName(e.name)
	switch e.kind {
	case entryDir, entryParent:
		name += "/"
	}
	if e.link != "" {
		name = fit(name+" → "+uploader.DisplayName(e.link), nameWidth)
	} else {
		name = fitName(name, nameWidth)
	}
	styledName := style(m, e, box).Render(box) + m.highlightMatch(name, style(m, e, box))

	var info string
	switch {
	case e.kind == entryParent:
		info = ""
	case e.kind == entryBlocked:
		info = fit("⊘ "+e.note, infoWidth)
	case picked && p.dir && p.walking:
		info = fitRight("counting…", pickSizeWidth) + "  " + fit(formatAge(e.modTime, m.now), pickAgeWidth)
	case picked && p.dir:
		n, bytes := p.size()
		info = fitRight(formatBytes(bytes), pickSizeWidth) + "  " + fit(plural(n, "file", "files"), pickAgeWidth)
	case e.kind == entryDir:
		info = fitRight("", pickSizeWidth) + "  " + fit(formatAge(e.modTime, m.now), pickAgeWidth)
	default:
		info = fitRight(formatBytes(e.size), pickSizeWidth) + "  " + fit(formatAge(e.modTime, m.now), pickAgeWidth)
	}

	infoStyle := st.Subtle
	if e.kind == entryBlocked {
		infoStyle = st.Blocked
	}
	row := marker + styledName + "  " + infoStyle.Render(info)
	if isCursor {
		// The band carries the row; the styles inside keep their colours.
		return st.CursorRow.Render(row)
	}
	return row
}

// style is how an entry's box and name are drawn.
func style(m pickerModel, e dirEntry, box string) lipgloss.Style {
	st := m.st
	switch {
	case e.kind == entryBlocked:
		return st.Blocked
	case box == "[x] ":
		return st.Selected
	case e.kind == entryDir || e.kind == entryParent:
		return st.Dir
	}
	return st.Text
}

// highlightMatch draws name with the part the filter matched marked.
func (m pickerModel) highlightMatch(name string, base lipgloss.Style) string {
	q := m.filter.Value()
	if q == "" {
		return base.Render(name)
	}
	lower := strings.ToLower(name)
	i := strings.Index(lower, strings.ToLower(q))
	if i < 0 || len(lower) != len(name) {
		return base.Render(name) // the match was cut off by fit
	}
	j := i + len(q)
	return base.Render(name[:i]) + m.st.Match.Inherit(base).Render(name[i:j]) + base.Render(name[j:])
}

func (m pickerModel) footerView() string {
	st := m.st
	parts := []string{plural(m.files, "file", "files") + " selected", formatBytes(m.bytes)}
	if m.skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped (special files, links to folders, unreadable)", m.skipped))
	}
	if m.walking > 0 || m.resolving > 0 {
		parts = append(parts, "counting files…")
	}
	return st.Accent.Render(cut(strings.Join(parts, " · "), m.width))
}

func sumSize(files []uploader.File) int64 {
	var n int64
	for _, f := range files {
		n += f.Size
	}
	return n
}

// agesEvery is how often "3 minutes ago" is worked out again (Run sends
// agesTickedMsg).
const agesEvery = 30 * time.Second

// readDir lists a folder and says for each entry whether it can be picked.
func readDir(dir string) tea.Cmd {
	return func() tea.Msg {
		entries, err := listDir(dir)
		return dirReadMsg{dir: dir, entries: entries, err: err, at: time.Now()}
	}
}

func listDir(dir string) ([]dirEntry, error) {
	des, err := os.ReadDir(dir)
	if err != nil && len(des) == 0 {
		return nil, err
	}
	realDir, rerr := filepath.EvalSymlinks(dir)
	if rerr != nil {
		realDir = dir
	}
	// A stat and an access check per entry are system calls: 100,000 of
	// them take a core most of a second, so every core takes a share.
	out := make([]dirEntry, len(des))
	workers := max(min(runtime.GOMAXPROCS(0), len(des)/256), 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(des); i += workers {
				out[i] = classify(dir, realDir, des[i].Name())
			}
		})
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b dirEntry) int {
		if ad, bd := a.kind == entryDir, b.kind == entryDir; ad != bd {
			if ad {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)), cmp.Compare(a.name, b.name))
	})
	return out, err
}

// classify looks at one entry: what it is, or why it cannot be picked.
func classify(dir, realDir, name string) dirEntry {
	p := filepath.Join(dir, name)
	e := dirEntry{name: name, path: p}
	block := func(note string) dirEntry {
		e.kind, e.note = entryBlocked, note
		return e
	}
	info, err := os.Lstat(p)
	if err != nil {
		return block("unreadable")
	}
	e.size, e.modTime = info.Size(), info.ModTime()
	if info.Mode()&fs.ModeSymlink != 0 {
		e.link, _ = os.Readlink(p)
		info, err = os.Stat(p)
		switch {
		case errors.Is(err, syscall.ELOOP):
			return block("a symlink loop")
		case errors.Is(err, fs.ErrNotExist):
			return block("a broken link")
		case err != nil:
			return block("unreadable")
		}
		if info.IsDir() {
			// A link to a folder that contains it would be walked forever.
			if target, err := filepath.EvalSymlinks(p); err == nil && isWithin(realDir, target) {
				return block("a symlink loop")
			}
		}
		e.size, e.modTime = info.Size(), info.ModTime()
	}
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		e.kind = entryFile
	case mode.IsDir():
		e.kind = entryDir
	default:
		return block(fileset.Kind(mode))
	}
	// Only regular files and folders are checked: a FIFO is blocked above.
	if !fileset.MayRead(p) {
		return block("unreadable (no permission)")
	}
	return e
}

// isWithin reports whether path is dir or inside it.
func isWithin(path, dir string) bool {
	if path == dir {
		return true
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// walkDir finds every regular file under root. Links to files are followed;
// links to folders are not (they are how loops happen), nor are special
// files: both are counted as skipped.
func walkDir(root, name string) tea.Cmd {
	return func() tea.Msg {
		files, skipped, err := collectDir(root, name)
		return dirWalkedMsg{path: root, files: files, skipped: skipped, err: err}
	}
}

// collectDir is the one file-set rule (fileset.List.Add) for a picked
// folder, its files kept compactly.
func collectDir(root, name string) (*fileset.List, int, error) {
	l := &fileset.List{}
	special, err := l.Add(fileset.Root{Path: root, Name: name})
	if err != nil {
		return nil, 0, err
	}
	l.Trim()
	return l, special, nil
}

// pastedPaths reads the paths out of pasted text: each line is either a
// file:// URI or one or more paths quoted as a shell would (what terminals
// write for a drag and drop).
func pastedPaths(text string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		words, err := shlex.Split(line)
		if err != nil {
			words = []string{line} // an unmatched quote: take the line as it is
		}
		for _, w := range words {
			if strings.HasPrefix(w, "file://") {
				u, err := url.Parse(w)
				if err != nil || (u.Host != "" && u.Host != "localhost") {
					continue // a file on another machine is not ours to read
				}
				w = u.Path
			}
			if w != "" {
				out = append(out, w)
			}
		}
	}
	return out
}

// resolvePaths turns the paths given on the command line, or pasted, into
// picks.
func resolvePaths(paths []string) tea.Cmd {
	paths = slices.Clone(paths)
	return func() tea.Msg {
		var msg pathsResolvedMsg
		for _, given := range paths {
			abs, err := filepath.Abs(given)
			if err != nil {
				msg.problems = append(msg.problems, fmt.Sprintf("%s: %v", given, err))
				continue
			}
			e := classify(filepath.Dir(abs), filepath.Dir(abs), filepath.Base(abs))
			switch e.kind {
			case entryFile:
				name := filepath.Clean(given)
				if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
					name = filepath.Base(abs)
				}
				name = filepath.ToSlash(name)
				msg.picks = append(msg.picks, pick{path: abs, name: name, files: []uploader.File{{
					Path: abs, Name: name, Key: fileset.Key(abs, ""), Size: e.size, ModTime: e.modTime,
				}}})
			case entryDir:
				files, skipped, err := collectDir(abs, filepath.Clean(given))
				if err != nil {
					msg.problems = append(msg.problems, err.Error())
					continue
				}
				msg.picks = append(msg.picks, pick{path: abs, name: filepath.Base(abs), dir: true, list: files, skipped: skipped})
			default:
				if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
					msg.problems = append(msg.problems, given+": no such file or folder")
					continue
				}
				msg.problems = append(msg.problems, given+" is "+e.note+"; it cannot be uploaded")
			}
		}
		return msg
	}
}
