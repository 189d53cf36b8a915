package ui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"hoist/fileset"
	"hoist/uploader"
)

// A run that ends while the terminal is not focused sends a desktop
// notification and rings the bell; one that ends in view does not.
func TestNotifiesWhenDoneUnfocused(t *testing.T) {
	m := sized(newModel(context.Background(), Options{StartDir: t.TempDir()}), 120, 40)
	if !m.View().ReportFocus {
		t.Fatal("focus reports are not asked for")
	}
	finish := func(m model) []tea.Msg {
		m.screen = screenProgress
		_, cmd := m.Update(finishedRun())
		return perform(cmd)
	}
	for _, msg := range finish(m) {
		if _, ok := msg.(tea.RawMsg); ok {
			t.Errorf("notified while focused: %q", msg)
		}
	}
	next, _ := m.Update(tea.BlurMsg{})
	m = next.(model)
	raw := only[tea.RawMsg](t, finish(m))
	seq := raw.Msg.(string)
	if !strings.HasPrefix(seq, "\x1b]9;hoist: 3 of 5 uploaded, 2 failed\x07") || !strings.HasSuffix(seq, "\a") {
		t.Errorf("notification %q", seq)
	}
	next, _ = m.Update(tea.FocusMsg{})
	if next.(model).blurred {
		t.Error("focus back is not noticed")
	}
}

func TestNotificationFitsTheTerminal(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	if got := notification(notifyStyleFor(env("TERM", "xterm-kitty")), "hoist", "done"); !strings.HasPrefix(got, "\x1b]99;") {
		t.Errorf("kitty: %q", got)
	}
	if got := notification(notifyStyleFor(env("TERM", "foot")), "hoist", "a;b\x07c"); got != "\x1b]777;notify;hoist;a b c\x07\a" {
		t.Errorf("foot, with a ; and a BEL in the text: %q", got)
	}
	if got := notification(notifyStyleFor(env("TERM_PROGRAM", "iTerm.app")), "hoist", "done"); got != "\x1b]9;hoist: done\x07\a" {
		t.Errorf("iTerm2: %q", got)
	}
}

// The terminal's progress indicator: busy while hashing, a warning while
// retrying, an error once a file failed.
func TestProgressBarStates(t *testing.T) {
	files := progressFiles(3)
	m := sized(newModel(context.Background(), Options{StartDir: t.TempDir()}), 120, 40)
	m.screen = screenProgress
	m.progress.begin(fileset.ListOf(files), nil, fixedNow, 4)
	for _, c := range []struct {
		state uploader.State
		want  tea.ProgressBarState
	}{
		{uploader.StateHashing, tea.ProgressBarIndeterminate},
		{uploader.StateUploading, tea.ProgressBarDefault},
		{uploader.StateRetrying, tea.ProgressBarWarning},
		{uploader.StateFailed, tea.ProgressBarError},
	} {
		m.progress, _ = m.progress.Update(sampleAt(files, fixedNow, func(i int) uploader.State {
			if i == 0 {
				return c.state
			}
			return uploader.StateQueued
		}, func(int) int64 { return 0 }))
		if got := m.View().ProgressBar; got == nil || got.State != c.want {
			t.Errorf("with a file %v: progress bar %+v, want state %v", c.state, got, c.want)
		}
	}
}
