package ui

import "charm.land/bubbles/v2/key"

// Every screen has its own KeyMap; help.Model renders ShortHelp as the help
// bar and FullHelp when "?" is pressed. A binding that does nothing at the
// moment is disabled, so the help bar only offers what works. When the bar
// is too narrow the root drops keys from the end of ShortHelp, keeping quit
// and "? more keys" (see fitShortHelp).

// listKeys move a cursor through a list; several screens share them.
type listKeys struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
}

func newListKeys() listKeys {
	return listKeys{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
	}
}

func (k listKeys) bindings() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}
}

// globalKeys work on every screen; the root handles them.
type globalKeys struct {
	Help      key.Binding
	Interrupt key.Binding
}

func newGlobalKeys() globalKeys {
	return globalKeys{
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

type pickerKeys struct {
	listKeys
	Open, Parent, Toggle, All, None, Filter, Hidden, Continue, Quit, Help key.Binding
	// While typing a filter.
	FilterApply, FilterClear key.Binding
}

func newPickerKeys() pickerKeys {
	return pickerKeys{
		listKeys:    newListKeys(),
		Open:        key.NewBinding(key.WithKeys("enter", "right", "l"), key.WithHelp("→/enter", "open folder")),
		Parent:      key.NewBinding(key.WithKeys("left", "h", "backspace"), key.WithHelp("←/h", "parent folder")),
		Toggle:      key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "select")),
		All:         key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "select all")),
		None:        key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "select none")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Hidden:      key.NewBinding(key.WithKeys("."), key.WithHelp(".", "hidden files")),
		Continue:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "continue")),
		Quit:        key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q", "quit")),
		Help:        newGlobalKeys().Help,
		FilterApply: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter, then space selects")),
		FilterClear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
	}
}

func (k pickerKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Toggle, k.Continue, k.Open, k.Filter, k.FilterApply, k.FilterClear, k.Quit, k.Help}
}

func (k pickerKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		k.listKeys.bindings(),
		{k.Open, k.Parent, k.Continue, k.Filter, k.FilterApply, k.FilterClear},
		{k.Toggle, k.All, k.None, k.Hidden},
		{k.Help, k.Quit},
	}
}

type formKeys struct {
	Next, Prev, Submit, Back, Quit key.Binding
}

func newFormKeys() formKeys {
	return formKeys{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/↑", "previous field")),
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next · continue")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Quit:   newGlobalKeys().Interrupt,
	}
}

func (k formKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Next, k.Prev, k.Back, k.Quit}
}

func (k formKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Submit, k.Next, k.Prev}, {k.Back, k.Quit}}
}

type reviewKeys struct {
	listKeys
	Send, Back, Quit, Help key.Binding
}

func newReviewKeys() reviewKeys {
	return reviewKeys{
		listKeys: newListKeys(),
		Send:     key.NewBinding(key.WithKeys("enter", "y"), key.WithHelp("enter", "send")),
		Back:     key.NewBinding(key.WithKeys("esc", "b"), key.WithHelp("esc", "back")),
		Quit:     key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Help:     newGlobalKeys().Help,
	}
}

func (k reviewKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Send, k.Back, k.Up, k.Down, k.Quit, k.Help}
}

func (k reviewKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.listKeys.bindings(), {k.Send, k.Back}, {k.Help, k.Quit}}
}

type progressKeys struct {
	listKeys
	Cancel, Retry, RetryAll, More, Fewer, Follow, Quit, Help key.Binding
	Pause, PauseAll                                          key.Binding
	Slower, Faster, NoLimit                                  key.Binding // the bandwidth limit
	Yes, No                                                  key.Binding // answering "quit?"
}

func newProgressKeys() progressKeys {
	return progressKeys{
		listKeys: newListKeys(),
		Cancel:   key.NewBinding(key.WithKeys("x", "delete"), key.WithHelp("x", "cancel file")),
		Retry:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry file")),
		RetryAll: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "retry all failed")),
		More:     key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+/-", "workers")),
		Fewer:    key.NewBinding(key.WithKeys("-", "_"), key.WithHelp("-", "fewer workers")),
		Follow:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow uploads")),
		Pause:    key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause file")),
		PauseAll: key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "pause all")),
		Slower:   key.NewBinding(key.WithKeys("["), key.WithHelp("[/]", "speed limit")),
		Faster:   key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "raise the limit")),
		NoLimit:  key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "no limit")),
		Quit:     key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q", "quit")),
		Help:     newGlobalKeys().Help,
		Yes:      key.NewBinding(key.WithKeys("y", "Y", "ctrl+c"), key.WithHelp("y", "quit and cancel uploads")),
		No:       key.NewBinding(key.WithKeys("n", "N", "esc", "q"), key.WithHelp("n", "keep uploading")),
	}
}

func (k progressKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Pause, k.Cancel, k.Retry, k.PauseAll, k.RetryAll, k.Slower, k.More, k.Follow, k.Quit, k.Help}
}

func (k progressKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		k.listKeys.bindings(),
		{k.Pause, k.PauseAll, k.Cancel, k.Retry, k.RetryAll},
		{k.Slower, k.Faster, k.NoLimit, k.More, k.Fewer, k.Follow},
		{k.Help, k.Quit},
	}
}

// confirmKeys is the help shown while the quit question is asked.
type confirmKeys struct{ Yes, No key.Binding }

func (k confirmKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Yes, k.No} }
func (k confirmKeys) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Yes, k.No}} }

type summaryKeys struct {
	listKeys
	Retry, Copy, CopyAll, Quit, Help key.Binding
}

func newSummaryKeys() summaryKeys {
	return summaryKeys{
		listKeys: newListKeys(),
		Retry:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry failed")),
		Copy:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy link")),
		CopyAll:  key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "copy all links")),
		Quit:     key.NewBinding(key.WithKeys("q", "enter", "esc"), key.WithHelp("q/enter", "quit")),
		Help:     newGlobalKeys().Help,
	}
}

func (k summaryKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Retry, k.Copy, k.CopyAll, k.Quit, k.Help}
}

func (k summaryKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.listKeys.bindings(), {k.Retry, k.Copy, k.CopyAll}, {k.Help, k.Quit}}
}
