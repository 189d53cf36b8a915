package ui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Styles is every style the UI draws with. It is built once per background
// (light or dark) and handed to the screens; View never builds a style.
//
// Colours only ever repeat what text already says (✓, ✗, "failed", a
// marker for the cursor), so the UI reads the same under NO_COLOR, where the
// renderer drops colours and keeps bold and reverse.
type Styles struct {
	IsDark bool

	App        lipgloss.Style // outer padding of every screen
	Badge      lipgloss.Style // the "hoist" name in the header
	Step       lipgloss.Style // a step of the header that is not the current one
	StepActive lipgloss.Style
	Title      lipgloss.Style // first line of a screen
	Text       lipgloss.Style
	Subtle     lipgloss.Style // secondary information
	Faint      lipgloss.Style // tertiary information: separators, placeholders
	Label      lipgloss.Style // left column of key/value lines
	Value      lipgloss.Style
	Accent     lipgloss.Style

	Cursor    lipgloss.Style // the "›" marker of the current row
	Current   lipgloss.Style // the text of the current row
	CursorRow lipgloss.Style // the whole current row of a list: a band to follow
	Match     lipgloss.Style // the part of a name the filter matched
	Selected  lipgloss.Style // a picked entry
	Dir       lipgloss.Style
	Blocked   lipgloss.Style // an entry that cannot be picked
	Filter    lipgloss.Style

	OK    lipgloss.Style
	Warn  lipgloss.Style
	Error lipgloss.Style

	FieldLabel        lipgloss.Style
	FieldLabelFocused lipgloss.Style
	FieldHint         lipgloss.Style
	FieldError        lipgloss.Style

	// States of a file on the progress screen.
	Queued    lipgloss.Style
	Active    lipgloss.Style // hashing, uploading, awaiting response
	Retrying  lipgloss.Style
	Done      lipgloss.Style
	Failed    lipgloss.Style
	Canceled  lipgloss.Style
	Spark     lipgloss.Style
	Prompt    lipgloss.Style // a question that waits for y/n
	BarFull   color.Color
	BarEmpty  color.Color
	BarFailed color.Color

	Help  help.Styles
	Input textinput.Styles
}

// newStyles builds the styles for a dark or a light background.
func newStyles(isDark bool) *Styles {
	ld := lipgloss.LightDark(isDark)
	var (
		text    = ld(lipgloss.Color("#1F1F1F"), lipgloss.Color("#E4E4E4"))
		subtle  = ld(lipgloss.Color("#5C5C5C"), lipgloss.Color("#A8A8A8"))
		faint   = ld(lipgloss.Color("#9A9A9A"), lipgloss.Color("#6A6A6A"))
		accent  = ld(lipgloss.Color("#5A3FD6"), lipgloss.Color("#9D8CFF"))
		green   = ld(lipgloss.Color("#1B7F3B"), lipgloss.Color("#5FD38D"))
		yellow  = ld(lipgloss.Color("#8A6100"), lipgloss.Color("#F2C14E"))
		red     = ld(lipgloss.Color("#B3261E"), lipgloss.Color("#FF7B72"))
		blue    = ld(lipgloss.Color("#1F5FBF"), lipgloss.Color("#79B8FF"))
		badgeFg = ld(lipgloss.Color("#FFFFFF"), lipgloss.Color("#1A1A1A"))
	)
	s := &Styles{IsDark: isDark}
	base := lipgloss.NewStyle()
	s.App = base.Padding(0, 1)
	s.Badge = base.Bold(true).Foreground(badgeFg).Background(accent).Padding(0, 1)
	s.Step = base.Foreground(faint)
	s.StepActive = base.Foreground(accent).Bold(true)
	s.Title = base.Foreground(text).Bold(true)
	s.Text = base.Foreground(text)
	s.Subtle = base.Foreground(subtle)
	s.Faint = base.Foreground(faint)
	s.Label = base.Foreground(subtle)
	s.Value = base.Foreground(text)
	s.Accent = base.Foreground(accent)

	s.Cursor = base.Foreground(accent).Bold(true)
	s.Current = base.Foreground(text).Bold(true)
	s.CursorRow = base.Background(ld(lipgloss.Color("#ECE8FC"), lipgloss.Color("#2B2645")))
	s.Match = base.Foreground(accent).Underline(true)
	s.Selected = base.Foreground(green)
	s.Dir = base.Foreground(blue)
	s.Blocked = base.Foreground(faint)
	s.Filter = base.Foreground(accent)

	s.OK = base.Foreground(green)
	s.Warn = base.Foreground(yellow)
	s.Error = base.Foreground(red)

	s.FieldLabel = base.Foreground(subtle)
	s.FieldLabelFocused = base.Foreground(accent).Bold(true)
	s.FieldHint = base.Foreground(faint)
	s.FieldError = base.Foreground(red)

	s.Queued = base.Foreground(faint)
	s.Active = base.Foreground(blue)
	s.Retrying = base.Foreground(yellow)
	s.Done = base.Foreground(green)
	s.Failed = base.Foreground(red)
	s.Canceled = base.Foreground(subtle)
	s.Spark = base.Foreground(accent)
	s.Prompt = base.Foreground(yellow).Bold(true)
	s.BarFull = accent
	s.BarEmpty = faint
	s.BarFailed = red

	s.Help = help.DefaultStyles(isDark)

	in := textinput.DefaultStyles(isDark)
	in.Focused.Prompt = base.Foreground(accent)
	in.Focused.Text = base.Foreground(text)
	in.Blurred.Prompt = base.Foreground(faint)
	in.Blurred.Text = base.Foreground(subtle)
	// A blinking cursor would make every frame differ and wake the program
	// twice a second for nothing.
	in.Cursor.Blink = false
	in.Cursor.Shape = tea.CursorBlock
	in.Cursor.Color = accent
	s.Input = in
	return s
}
