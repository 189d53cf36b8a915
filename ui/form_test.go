package ui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"hoist/uploader"
)

func formPress(m formModel, keys ...string) (formModel, []tea.Msg) {
	var msgs []tea.Msg
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(press(k))
		for _, msg := range perform(cmd) {
			if _, blink := msg.(formCancelledMsg); blink || isFormNews(msg) {
				msgs = append(msgs, msg)
			}
		}
	}
	return m, msgs
}

func isFormNews(msg tea.Msg) bool {
	switch msg.(type) {
	case metadataSubmittedMsg, formCancelledMsg:
		return true
	}
	return false
}

func formType(m formModel, s string) formModel {
	for _, r := range s {
		m, _ = formPress(m, string(r))
	}
	return m
}

func TestValidateField(t *testing.T) {
	cases := []struct {
		header, value, want string
	}{
		{uploader.HeaderOrgID, "acme", ""},
		{uploader.HeaderOrgID, "  ", "required"},
		{uploader.HeaderOrgID, "acmé", "letters, digits and ASCII punctuation only (no line breaks or control characters)"},
		{uploader.HeaderOrgID, strings.Repeat("x", 257), "at most 256 characters (this one has 257)"},
		{uploader.HeaderUserID, "u-1", ""},
		{uploader.HeaderTTLHours, "48", ""},
		{uploader.HeaderTTLHours, "8760", ""},
		{uploader.HeaderTTLHours, "8761", "at most 8760 hours (one year)"},
		{uploader.HeaderTTLHours, "0", "at least 1 hour"},
		{uploader.HeaderTTLHours, "-3", "at least 1 hour"},
		{uploader.HeaderTTLHours, "1.5", "a whole number of hours, like 48"},
		{uploader.HeaderTTLHours, "", "required"},
	}
	for _, c := range cases {
		if got := validateField(c.header, c.value); got != c.want {
			t.Errorf("validateField(%s, %q) = %q, want %q", c.header, c.value, got, c.want)
		}
	}
}

func TestFormFillsAndSubmits(t *testing.T) {
	m := newForm(newStyles(true), uploader.Metadata{}, nil)
	m.SetSize(goldenWidth-2, goldenHeight-4)
	if len(m.fields) != 3 || m.focus != 0 {
		t.Fatalf("fields %d focus %d", len(m.fields), m.focus)
	}
	m = formType(m, "acme")
	m, _ = formPress(m, "enter")
	if m.focus != 1 {
		t.Fatalf("enter should move to the next field, focus %d", m.focus)
	}
	m = formType(m, "u-1")
	m, _ = formPress(m, "tab")
	m = formType(m, "0")
	m, msgs := formPress(m, "enter")
	if len(msgs) != 0 {
		t.Fatalf("submitted with TTL 0: %v", msgs)
	}
	if m.fields[2].err != "at least 1 hour" || !strings.Contains(plain(m.View()), "✗ at least 1 hour") {
		t.Fatalf("inline message missing:\n%s", plain(m.View()))
	}
	m, _ = formPress(m, "backspace")
	m = formType(m, "48")
	if m.fields[2].err != "" {
		t.Errorf("error should clear as the value becomes valid: %q", m.fields[2].err)
	}
	m, msgs = formPress(m, "enter")
	got := only[metadataSubmittedMsg](t, msgs)
	if got.md != (uploader.Metadata{OrgID: "acme", UserID: "u-1", TTLHours: 48}) {
		t.Errorf("submitted %+v", got.md)
	}
}

func TestFormSubmitFocusesFirstProblem(t *testing.T) {
	m := newForm(newStyles(true), uploader.Metadata{UserID: "u-1", TTLHours: 48}, nil)
	if m.focus != 0 {
		t.Fatalf("focus should start on the empty field, at %d", m.focus)
	}
	m, _ = formPress(m, "shift+tab")
	if m.focus != 2 {
		t.Fatalf("shift+tab from the first field wraps to the last, at %d", m.focus)
	}
	m, msgs := formPress(m, "enter")
	if len(msgs) != 0 || m.focus != 0 || m.fields[0].err != "required" {
		t.Errorf("msgs %v focus %d err %q", msgs, m.focus, m.fields[0].err)
	}
	m, msgs = formPress(m, "esc")
	only[formCancelledMsg](t, msgs)
}

func TestFormAsksOnlySignedHeaders(t *testing.T) {
	prefill := uploader.Metadata{OrgID: "acme", UserID: "u-1", TTLHours: 48}
	m := newForm(newStyles(true), prefill, []string{uploader.HeaderOrgID, "X-Amz-Meta-TTL-Hours"})
	m.SetSize(goldenWidth-2, goldenHeight-4)
	if len(m.fields) != 2 || m.fields[0].header != uploader.HeaderOrgID || m.fields[1].header != uploader.HeaderTTLHours {
		t.Fatalf("fields %+v", m.fields)
	}
	if !strings.Contains(plain(m.View()), "The upload URLs were signed with these headers") {
		t.Errorf("the form should say the values are fixed by the URLs:\n%s", plain(m.View()))
	}
	m, msgs := formPress(m, "enter", "enter")
	got := only[metadataSubmittedMsg](t, msgs)
	// The user id was not signed: sending it would be refused.
	if got.md != (uploader.Metadata{OrgID: "acme", TTLHours: 48}) {
		t.Errorf("submitted %+v", got.md)
	}
	if merged := mergeMetadata(prefill, got.md); merged != prefill {
		t.Errorf("remembered %+v, want the unasked user id kept", merged)
	}

	if e := newForm(newStyles(true), prefill, []string{}); !e.empty() {
		t.Error("no signed metadata headers: nothing to ask")
	}
}

func TestFormView(t *testing.T) {
	atGoldenWidths(t, func(t *testing.T, w int) string {
		m := newForm(newStyles(true), uploader.Metadata{OrgID: "acme", TTLHours: 9000}, nil)
		m.markRemembered(uploader.Metadata{OrgID: "acme"})
		m.SetSize(w, goldenHeight-4)
		m.setAbout("2 files · 6.1 KiB → http://127.0.0.1:9000/bucket/")
		m, _ = formPress(m, "tab", "tab") // leave user id empty, land on TTL
		return m.View()
	})
}

// The form opens on the first empty field, marks what last time filled
// in, and three quick Enters do not carry an empty field through.
func TestFormOpensOnFirstEmptyAndMarksRemembered(t *testing.T) {
	last := uploader.Metadata{OrgID: "acme", UserID: "u-1"}
	m := newForm(newStyles(true), last, nil)
	m.markRemembered(last)
	m.SetSize(goldenWidth-2, goldenHeight-4)
	if m.focus != 2 {
		t.Fatalf("focus on field %d, want the empty TTL (2)", m.focus)
	}
	if n := strings.Count(plain(m.View()), "from last time"); n != 2 {
		t.Errorf("%d fields marked as from last time, want 2:\n%s", n, plain(m.View()))
	}
	m, msgs := formPress(m, "enter", "enter", "enter")
	for _, msg := range msgs {
		if _, ok := msg.(metadataSubmittedMsg); ok {
			t.Fatal("three Enters submitted an empty TTL")
		}
	}
	// Editing a remembered value drops its mark.
	m, _ = formPress(m, "shift+tab", "shift+tab")
	m = formType(m, "x")
	if n := strings.Count(plain(m.View()), "from last time"); n != 1 {
		t.Errorf("after editing the org id, %d marks remain, want 1", n)
	}
}

// For a source that needs no metadata (the local store), the form still
// asks, but empty fields are fine and send nothing; what is typed is still
// checked.
func TestOptionalFormAcceptsEmptyFields(t *testing.T) {
	m := newForm(newStyles(true), uploader.Metadata{}, nil)
	m.optional = true
	m, cmd := m.submit()
	if cmd == nil {
		t.Fatalf("submit refused empty optional fields: %+v", m.fields)
	}
	if msg, ok := cmd().(metadataSubmittedMsg); !ok || msg.md != (uploader.Metadata{}) {
		t.Errorf("submitted %#v, want empty metadata", cmd())
	}
	m.fields[2].input.SetValue("forever")
	m, cmd = m.submit()
	sent := false
	if cmd != nil {
		_, sent = cmd().(metadataSubmittedMsg)
	}
	if sent || m.fields[2].err == "" {
		t.Errorf("a bad TTL passed an optional form (err %q)", m.fields[2].err)
	}
	m.SetSize(120, 30)
	if !strings.Contains(m.View(), "Optional") {
		t.Errorf("the form does not say the fields are optional:\n%s", m.View())
	}
}

func TestFormSaysTheSourcesReason(t *testing.T) {
	m := newModel(context.Background(), Options{Required: []string{uploader.HeaderTTLHours},
		FormIntro: "Konfidant knows who you are from the API key: only the links' lifetime is asked."})
	m.form.SetSize(goldenWidth-2, goldenHeight-4)
	v := plain(m.form.View())
	if !strings.Contains(v, "only the links' lifetime is asked") || strings.Contains(v, "Organization ID") || strings.Contains(v, "were signed") {
		t.Fatalf("form:\n%s", v)
	}
}
