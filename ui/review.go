package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"hoist/fileset"
	"hoist/uploader"
)

// reviewModel is the last look before anything is sent: what, where, for how
// long the URLs still work, and what the preflight checks found.
type reviewModel struct {
	st   *Styles
	keys reviewKeys

	width, height int
	files         *fileset.List
	total         int64
	md            uploader.Metadata
	target        string
	expires       time.Time
	now           time.Time
	checking      bool
	// armed turns true a moment after the screen opens: Enters typed ahead
	// on the form (three quick ones) must not send.
	armed     bool
	problems  []Preflight
	lines     []problemLine
	metaLines []string // the metadata, wrapped: never cut
	win       window
	// parts[i] is how many parts file i goes up in, absent for a single
	// PUT: the engine's rule (uploader.PartsFor), given by main.
	parts    map[int]int
	inParts  int // files that go up in parts
	partsCol int // width of the parts column; 0 when every file is one PUT
}

func newReview(st *Styles, files *fileset.List, md uploader.Metadata, target string, expires, now time.Time, checking bool) reviewModel {
	m := reviewModel{
		st: st, keys: newReviewKeys(),
		files: files, total: files.Total(), md: md, target: target,
		expires: expires, now: now, checking: checking,
	}
	m.win.setLen(files.Len())
	m.layoutProblems()
	return m
}

// setParts works out, once, which files go up in parts and in how many,
// with the engine's own rule; nil means every file goes in one PUT.
func (m *reviewModel) setParts(partsFor func(size int64) int) {
	m.parts, m.inParts, m.partsCol = nil, 0, 0
	if partsFor == nil {
		return
	}
	m.parts = map[int]int{}
	for i := range m.files.Len() {
		if n := partsFor(m.files.SizeAt(i)); n > 0 {
			m.parts[i] = n
			m.inParts++
			m.partsCol = max(m.partsCol, len(partsText(n)))
		}
	}
}

func partsText(n int) string { return fmt.Sprintf("in %d parts", n) }

func (m *reviewModel) SetSize(w, h int) {
	m.width, m.height = w, h
	m.layoutProblems()
}

func (m *reviewModel) setStyles(st *Styles) { m.st = st }

func (m reviewModel) hasErrors() bool {
	return slices.ContainsFunc(m.problems, func(p Preflight) bool { return p.Error })
}

// problemLine is one line of the checks section, worked out when the
// problems or the width change so View only draws.
type problemLine struct {
	text  string
	error bool
}

// layoutProblems wraps each problem to the width, three lines at most,
// and keeps no more lines than the window can spare for them.
func (m *reviewModel) layoutProblems() {
	m.metaLines = strings.Split(lipgloss.Wrap(describeMetadata(m.md), max(m.width-10, 10), " "), "\n")
	m.lines = m.lines[:0:0]
	budget := max(4, (m.height-14)/2)
	w := max(m.width-4, 10)
	for i, p := range m.problems {
		text := oneLine(p.Message)
		if p.File != "" {
			text = uploader.DisplayName(p.File) + ": " + text
		}
		wrapped := strings.Split(lipgloss.Wrap(text, w, " "), "\n")
		if len(wrapped) > 3 {
			wrapped = wrapped[:3]
			wrapped[2] = cut(wrapped[2]+" …", w)
		}
		if len(m.lines)+len(wrapped) > budget {
			m.lines = append(m.lines, problemLine{text: fmt.Sprintf("… and %d more", len(m.problems)-i)})
			break
		}
		for j, l := range wrapped {
			mark := "    "
			if j == 0 {
				mark = "  ! "
				if p.Error {
					mark = "  ✗ "
				}
			}
			m.lines = append(m.lines, problemLine{text: mark + l, error: p.Error})
		}
	}
	m.win.setHeight(m.listHeight())
}

func (m reviewModel) listHeight() int {
	// Title and blank, four facts (the metadata on as many lines as it
	// takes) and blank, "Checks", its lines, blank, "Files".
	lines := 2 + 4 + max(len(m.metaLines), 1) + 1 + max(len(m.lines), 1) + 1 + 1
	return max(m.height-lines, 1)
}

func (m reviewModel) Update(msg tea.Msg) (reviewModel, tea.Cmd) {
	switch msg := msg.(type) {
	case preflightCheckedMsg:
		m.checking = false
		m.problems = msg.problems
		m.layoutProblems()
		return m, nil
	case reviewArmedMsg:
		m.armed = true
		return m, nil
	case screenScrolledMsg:
		m.win.move(msg.delta)
		return m, nil
	case clockTickedMsg:
		m.now = msg.at
		if m.expires.IsZero() {
			return m, nil
		}
		return m, tickClock()
	case tea.KeyPressMsg:
		if m.win.handleKey(msg, m.keys.listKeys) {
			return m, nil
		}
		switch {
		case key.Matches(msg, m.keys.Send):
			if !m.canSend() {
				return m, nil
			}
			return m, func() tea.Msg { return uploadConfirmedMsg{} }
		case key.Matches(msg, m.keys.Back):
			return m, func() tea.Msg { return reviewCancelledMsg{} }
		case key.Matches(msg, m.keys.Quit):
			return m, func() tea.Msg { return quitRequestedMsg{} }
		}
	}
	return m, nil
}

// canSend: the checks are done and found nothing that would fail (a key
// collision, an expired URL): there is no "send anyway", the person goes
// back and fixes it.
func (m reviewModel) canSend() bool { return m.armed && !m.checking && !m.hasErrors() }

func (m reviewModel) helpKeys() help.KeyMap {
	k := m.keys
	k.Send.SetEnabled(m.canSend())
	if m.hasErrors() {
		k.Back.SetHelp("esc", "back, to fix the problems")
	}
	return k
}

func (m reviewModel) View() string {
	st := m.st
	w := m.width
	var b strings.Builder
	b.WriteString(st.Title.Render("Review before sending") + "\n\n")

	fact := func(label, value string, style lipgloss.Style) {
		b.WriteString(st.Label.Render(fit(label, 10)) + style.Render(cut(value, max(w-10, 1))) + "\n")
	}
	files := plural(m.files.Len(), "file", "files") + " · " + formatBytes(m.total)
	if m.inParts > 0 {
		files += " · " + fmt.Sprint(m.inParts) + " sent in parts (multipart)"
	}
	fact("Files", files, st.Value)
	fact("Target", m.target, st.Value)
	for i, l := range m.metaLines {
		label := ""
		if i == 0 {
			label = "Metadata"
		}
		b.WriteString(st.Label.Render(fit(label, 10)) + st.Value.Render(l) + "\n")
	}
	switch {
	case m.expires.IsZero():
		fact("URL", "signed fresh as each file is sent", st.Subtle)
	case !m.expires.After(m.now):
		fact("URL", "expired "+formatDuration(m.now.Sub(m.expires))+" ago: sending will fail; get fresh URLs", st.Error)
	case m.expires.Sub(m.now) < 5*time.Minute:
		fact("URL", "expires in "+formatDuration(m.expires.Sub(m.now))+": big files may not make it", st.Warn)
	default:
		fact("URL", "expires in "+formatDuration(m.expires.Sub(m.now)), st.Value)
	}
	b.WriteString("\n")

	b.WriteString(st.Title.Render("Checks") + "\n")
	switch {
	case m.checking:
		b.WriteString(st.Subtle.Render("  ⋯ checking the files…") + "\n")
	case len(m.problems) == 0:
		b.WriteString(st.OK.Render("  ✓ no problems found") + "\n")
	default:
		for _, l := range m.lines {
			style := st.Warn
			if l.error {
				style = st.Error
			}
			b.WriteString(style.Render(l.text) + "\n")
		}
	}
	b.WriteString("\n")

	b.WriteString(st.Title.Render("Files") + "\n")
	from, to := m.win.visible()
	sizeW := 10
	for i := from; i < to; i++ {
		f := m.files.At(i)
		marker := "  "
		if i == m.win.cursor {
			marker = st.Cursor.Render("› ")
		}
		partsW := 0
		if m.partsCol > 0 {
			partsW = m.partsCol + 2
		}
		b.WriteString(marker + st.Text.Render(fitName(uploader.DisplayName(f.Name), max(w-2-sizeW-2-partsW, 8))) + "  " + st.Subtle.Render(fitRight(formatBytes(f.Size), sizeW)))
		if partsW > 0 {
			parts := ""
			if m.parts[i] > 0 {
				parts = partsText(m.parts[i])
			}
			b.WriteString("  " + st.Subtle.Render(fit(parts, m.partsCol)))
		}
		if i < to-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// describeMetadata lists what is set, by header name without its prefix,
// each text value quoted so spaces and look-alike characters show.
func describeMetadata(md uploader.Metadata) string {
	var parts []string
	if md.OrgID != "" {
		parts = append(parts, fmt.Sprintf("organization-id %q", md.OrgID))
	}
	if md.UserID != "" {
		parts = append(parts, fmt.Sprintf("user-id %q", md.UserID))
	}
	if md.TTLHours > 0 {
		parts = append(parts, fmt.Sprintf("ttl-hours %d", md.TTLHours))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}

// checkFiles runs the preflight checks off the update loop; they may hash
// files.
func checkFiles(preflight func(*fileset.List, uploader.Metadata) []Preflight, files *fileset.List, md uploader.Metadata) tea.Cmd {
	if preflight == nil {
		return func() tea.Msg { return preflightCheckedMsg{} }
	}
	return func() tea.Msg { return preflightCheckedMsg{problems: preflight(files, md)} }
}

// armDelay is longer than a key repeat and shorter than reading the screen.
const armDelay = 400 * time.Millisecond

func armReview() tea.Cmd {
	return tea.Tick(armDelay, func(time.Time) tea.Msg { return reviewArmedMsg{} })
}

func tickClock() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return clockTickedMsg{at: t} })
}
