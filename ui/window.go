package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// window is a cursor over n rows of which only height are drawn. Screens
// render rows[offset:offset+height] and nothing else, so a list of 1,000
// files costs what a list of 30 does.
type window struct {
	n, height      int
	cursor, offset int
}

func (w *window) setLen(n int) {
	w.n = n
	w.clamp()
}

func (w *window) setHeight(h int) {
	w.height = max(h, 1)
	w.clamp()
}

func (w *window) moveTo(i int) {
	w.cursor = i
	w.clamp()
}

func (w *window) move(delta int) { w.moveTo(w.cursor + delta) }

// clamp keeps the cursor on a row and the row on screen, and never leaves
// blank rows at the bottom while there are rows above to show.
func (w *window) clamp() {
	w.cursor = min(max(w.cursor, 0), max(w.n-1, 0))
	if w.cursor < w.offset {
		w.offset = w.cursor
	}
	if w.cursor >= w.offset+w.height {
		w.offset = w.cursor - w.height + 1
	}
	w.offset = min(w.offset, max(w.n-w.height, 0))
	w.offset = max(w.offset, 0)
}

// visible is the half-open range of rows on screen.
func (w window) visible() (from, to int) {
	return w.offset, min(w.offset+w.height, w.n)
}

// handleKey moves the cursor for the list keys and reports whether the key
// was one of them.
func (w *window) handleKey(msg tea.KeyPressMsg, k listKeys) bool {
	switch {
	case key.Matches(msg, k.Up):
		w.move(-1)
	case key.Matches(msg, k.Down):
		w.move(1)
	case key.Matches(msg, k.PageUp):
		w.move(-w.height)
	case key.Matches(msg, k.PageDown):
		w.move(w.height)
	case key.Matches(msg, k.Home):
		w.moveTo(0)
	case key.Matches(msg, k.End):
		w.moveTo(w.n - 1)
	default:
		return false
	}
	return true
}

// rowAt is the row drawn at line y of a list whose first row is at line
// top, if there is one.
func (w window) rowAt(y, top int) (int, bool) {
	from, to := w.visible()
	i := from + y - top
	return i, y >= top && i < to
}

// wheelStep is how many rows one notch of the wheel moves.
const wheelStep = 3
