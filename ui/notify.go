package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Telling a person who looked away that the run is over: a desktop
// notification in the escape sequence their terminal understands, and the
// bell. Sent only when the terminal reports it is not focused.

type notifyStyle int

const (
	notifyOSC9   notifyStyle = iota // iTerm2, Windows Terminal, ConEmu, WezTerm, Ghostty
	notifyOSC777                    // urxvt, foot, Konsole, VTE terminals
	notifyOSC99                     // kitty
)

// notifyStyleFor picks the notification a terminal understands from its
// environment; OSC 9 is the most widely understood.
func notifyStyleFor(getenv func(string) string) notifyStyle {
	term, program := getenv("TERM"), getenv("TERM_PROGRAM")
	switch {
	case getenv("KITTY_WINDOW_ID") != "" || term == "xterm-kitty":
		return notifyOSC99
	case strings.HasPrefix(term, "rxvt") || strings.HasPrefix(term, "foot") ||
		getenv("VTE_VERSION") != "" || getenv("KONSOLE_VERSION") != "":
		return notifyOSC777
	case program != "":
		return notifyOSC9
	}
	return notifyOSC9
}

// notification is the escape sequence for a desktop notification, and the
// bell. Control characters are taken out of the text: it must not end the
// sequence early.
func notification(style notifyStyle, title, body string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f || r == ';' && style == notifyOSC777 {
				return ' '
			}
			return r
		}, s)
	}
	title, body = clean(title), clean(body)
	var seq string
	switch style {
	case notifyOSC777:
		seq = "\x1b]777;notify;" + title + ";" + body + "\x07"
	case notifyOSC99:
		seq = "\x1b]99;i=hoist:d=0;" + title + "\x1b\\" + "\x1b]99;i=hoist:d=1:p=body;" + body + "\x1b\\"
	default:
		seq = "\x1b]9;" + title + ": " + body + "\x07"
	}
	return seq + "\a"
}

// notifyDone tells a person who looked away how the run ended.
func notifyDone(style notifyStyle, body string) tea.Cmd {
	return tea.Raw(notification(style, "hoist", body))
}
