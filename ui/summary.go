package ui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"hoist/internal/human"
	"hoist/runreport"
	"hoist/uploader"
)

// summaryModel is the end of a run: what went where, what did not and why,
// and where the report is.
type summaryModel struct {
	st   *Styles
	keys summaryKeys

	width, height int
	target        string
	summary       uploader.Summary
	ledger        ledger  // the run's files, frozen as it finished
	order         []int32 // their ids: failed first, then canceled, then the rest, each in id order
	longest       int     // the longest name's width
	reportPath    string
	reportErr     error
	canRetry      bool // the pool is still open
	nameW         int
	win           window
}

func newSummary(st *Styles, target string, msg runFinishedMsg, canRetry bool) summaryModel {
	m := summaryModel{
		st: st, keys: newSummaryKeys(), target: target, summary: msg.summary, ledger: msg.ledger,
		order: summaryOrder(&msg.ledger), reportPath: msg.reportPath, reportErr: msg.reportErr, canRetry: canRetry,
	}
	for id := range m.ledger.rows {
		m.longest = max(m.longest, len(uploader.DisplayName(m.ledger.name(id))))
	}
	m.win.setLen(len(m.order))
	return m
}

func (m *summaryModel) SetSize(w, h int) {
	m.width, m.height = w, h
	m.win.setHeight(m.listHeight())
	m.nameW = min(max(m.longest, 12), max(w/3, 12))
}

// file is the i-th file of the summary, with where it went when it was
// uploaded (read back from the spool: only rows on screen are).
func (m summaryModel) file(i int) uploader.FileStatus {
	return m.ledger.ended(int(m.order[i]))
}

func (m *summaryModel) setStyles(st *Styles) { m.st = st }

const summaryHeaderLines = 7

func (m summaryModel) listHeight() int { return max(m.height-summaryHeaderLines, 1) }

func (m summaryModel) retryIDs() []int {
	var ids []int
	for id := range m.ledger.rows {
		if retryable(m.ledger.rows[id].state) {
			ids = append(ids, id)
		}
	}
	return ids
}

func (m summaryModel) Update(msg tea.Msg) (summaryModel, tea.Cmd) {
	switch msg := msg.(type) {
	case screenScrolledMsg:
		m.win.move(msg.delta)
		return m, nil
	case screenClickedMsg:
		if i, ok := m.win.rowAt(msg.y, summaryHeaderLines); ok {
			m.win.moveTo(i)
		}
		return m, nil
	}
	if msg, ok := msg.(tea.KeyPressMsg); ok {
		if m.win.handleKey(msg, m.keys.listKeys) {
			return m, nil
		}
		switch {
		case key.Matches(msg, m.keys.Copy):
			if m.win.cursor < len(m.order) {
				if sh, ok := m.ledger.shares[int(m.order[m.win.cursor])]; ok {
					return m, tea.SetClipboard(sh.url) // OSC 52: works over ssh
				}
			}
		case key.Matches(msg, m.keys.CopyAll):
			if links := m.links(); links != "" {
				return m, tea.SetClipboard(links)
			}
		case key.Matches(msg, m.keys.Retry):
			if ids := m.retryIDs(); m.canRetry && len(ids) > 0 {
				return m, func() tea.Msg { return retryRequestedMsg{ids: ids} }
			}
		case key.Matches(msg, m.keys.Quit):
			return m, func() tea.Msg { return quitRequestedMsg{} }
		}
	}
	return m, nil
}

// links is every share link made, one "name<TAB>link" line each, as main
// prints them after the run.
func (m summaryModel) links() string {
	var b strings.Builder
	for _, id := range slices.Sorted(maps.Keys(m.ledger.shares)) {
		b.WriteString(m.ledger.name(id) + "\t" + m.ledger.shares[id].url + "\n")
	}
	return b.String()
}

func (m summaryModel) helpKeys() help.KeyMap {
	k := m.keys
	k.Retry.SetEnabled(m.canRetry && m.summary.Failed+m.summary.Canceled > 0)
	hasLinks := len(m.ledger.shares) > 0
	k.Copy.SetEnabled(hasLinks)
	k.CopyAll.SetEnabled(hasLinks)
	return k
}

func (m summaryModel) View() string {
	st := m.st
	w := m.width
	s := m.summary
	var b strings.Builder

	total := s.Uploaded + s.Failed + s.Canceled + s.Pending
	switch {
	case total == 1 && s.Uploaded == 1:
		b.WriteString(st.OK.Render("✓ ") + st.Title.Render("The file was uploaded"))
	case total > 0 && s.Uploaded == total:
		b.WriteString(st.OK.Render("✓ ") + st.Title.Render("All "+plural(total, "file", "files")+" uploaded"))
	default:
		// Green says "went well"; none uploaded did not.
		uploaded := st.Done
		if s.Uploaded == 0 {
			uploaded = st.Subtle
		}
		parts := []string{uploaded.Render(fmt.Sprintf("%d uploaded", s.Uploaded))}
		if s.Failed > 0 {
			parts = append(parts, st.Failed.Render(fmt.Sprintf("%d failed", s.Failed)))
		}
		if s.Canceled > 0 {
			parts = append(parts, st.Canceled.Render(fmt.Sprintf("%d canceled", s.Canceled)))
		}
		if s.Pending > 0 {
			parts = append(parts, st.Queued.Render(fmt.Sprintf("%d not sent", s.Pending)))
		}
		b.WriteString(st.Title.Render("Finished: ") + strings.Join(parts, st.Faint.Render(" · ")))
	}
	if s.Skipped > 0 {
		// --skip-existing: stored before this run, nothing sent.
		b.WriteString(st.Subtle.Render(fmt.Sprintf(" · %d skipped (already on the server)", s.Skipped)))
	}
	b.WriteString("\n\n")

	fact := func(label, value string, ok bool) {
		style := st.Value
		if !ok {
			style = st.Error
		}
		b.WriteString(st.Label.Render(fit(label, 10)) + style.Render(cut(value, max(w-10, 1))) + "\n")
	}
	fact("Sent", fmt.Sprintf("%s in %s · %s average", formatBytes(s.Bytes), formatElapsed(s.Elapsed), formatSpeed(runreport.AverageSpeed(s))), true)
	fact("Target", m.target, true)
	switch {
	case m.reportErr != nil:
		fact("Report", "not written: "+oneLine(m.reportErr.Error()), false)
	case m.reportPath != "":
		// The end of a path names the file: keep it when the path is cut.
		b.WriteString(st.Label.Render(fit("Report", 10)) + st.Value.Render(hyperlink(cutLeft(m.reportPath, max(w-10, 1)), linkTarget(m.reportPath))) + "\n")
	default:
		fact("Report", "none (no report folder)", true)
	}
	// The row under the cursor gets its whole reason here; the column cuts it.
	b.WriteString("\n")
	if m.win.cursor < len(m.order) {
		switch f := m.file(m.win.cursor); {
		case f.State == uploader.StateFailed:
			b.WriteString(st.Failed.Render(cut(uploader.DisplayName(f.Name)+": "+uploader.DisplayName(reasonOf(&f)), w)))
		case f.Result != nil && f.Result.ShareURL != "":
			// A share link is shown whole or not at all: a cut one is useless.
			link := "share link: " + f.Result.ShareURL
			if !f.Result.ShareExpires.IsZero() {
				link += " (expires " + formatExpiry(f.Result.ShareExpires) + ")"
			}
			if ansi.StringWidth(link) > w {
				link = "share link: printed when you leave (too wide to show here)"
			}
			b.WriteString(st.Accent.Render(link))
		}
	}
	b.WriteString("\n")

	from, to := m.win.visible()
	nameW := m.nameW
	for i := from; i < to; i++ {
		file := m.file(i)
		f := &file
		marker := "  "
		if i == m.win.cursor {
			marker = st.Cursor.Render("› ")
		}
		mark, style, detail := "• ", st.Queued, "not sent"
		detailW := max(w-nameW-6, 1)
		retries := human.Retries(f.Attempt)
		switch f.State {
		case uploader.StateDone:
			// A place is read from its end: cut the start of it, and link
			// the whole of it.
			where := landedAt(f)
			lead := "→ "
			if retries != "" {
				lead = "(" + retries + ") → "
			}
			text := lead + cutLeft(uploader.DisplayName(where), max(detailW-ansi.StringWidth(lead), 1))
			mark, style = "✓ ", st.Done
			b.WriteString(marker + style.Render(mark) + st.Text.Render(fitName(uploader.DisplayName(f.Name), nameW)) + "  " + style.Render(hyperlink(text, linkTarget(where))))
			if i < to-1 {
				b.WriteByte('\n')
			}
			continue
		case uploader.StateFailed:
			mark, style, detail = "✗ ", st.Failed, "failed: "+reasonOf(f)
			if retries != "" {
				detail = "failed after " + retries + ": " + reasonOf(f)
			}
		case uploader.StateCanceled:
			mark, style, detail = "⊘ ", st.Canceled, "canceled"
			if f.Reason != "" && f.Reason != "canceled" {
				detail += " (" + oneLine(f.Reason) + ")"
			}
		case uploader.StateSkipped:
			mark, style, detail = "= ", st.Subtle, "skipped: "+oneLine(f.Reason)
		}
		b.WriteString(marker + style.Render(mark) + st.Text.Render(fitName(uploader.DisplayName(f.Name), nameW)) + "  " + style.Render(cut(detail, detailW)))
		if i < to-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// landedAt says where a person finds an uploaded file.
func landedAt(f *uploader.FileStatus) string {
	if f.Result == nil {
		return ""
	}
	if f.Result.ShareURL != "" {
		exp := ""
		if !f.Result.ShareExpires.IsZero() {
			exp = ", expires " + f.Result.ShareExpires.Local().Format("Jan 2 15:04")
		}
		return "share link made" + exp
	}
	if f.Result.Location != "" {
		return f.Result.Location
	}
	return f.Result.Key
}
