package ui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"hoist/uploader"
)

// formField is one metadata header the person fills in.
type formField struct {
	header  string // uploader.HeaderOrgID, …
	label   string
	hint    string
	input   textinput.Model
	err     string
	touched bool // show errors only once the person has left the field or submitted
	// remembered holds the value filled in from last time, while the field
	// still shows it: a person should know it was not typed this time.
	remembered string
}

type formModel struct {
	st   *Styles
	keys formKeys

	width, height int
	fields        []formField
	focus         int
	signed        bool   // the fields are the ones the URLs' signatures require
	optional      bool   // the source needs none of them: each may stay empty
	intro         string // what the source says above the fields; "" = the default
	about         string // what is being sent where, one line
}

// newForm asks for the headers in required (all three when nil), prefilled
// from md.
func newForm(st *Styles, md uploader.Metadata, required []string) formModel {
	signed := required != nil
	if required == nil {
		required = []string{uploader.HeaderOrgID, uploader.HeaderUserID, uploader.HeaderTTLHours}
	}
	m := formModel{st: st, keys: newFormKeys(), signed: signed}
	add := func(header, label, hint, value string) {
		if !slices.ContainsFunc(required, func(h string) bool { return strings.EqualFold(h, header) }) {
			return
		}
		in := textinput.New()
		in.Prompt = "> "
		in.CharLimit = uploader.MaxIDLength
		in.SetStyles(st.Input)
		in.SetValue(value)
		m.fields = append(m.fields, formField{header: header, label: label, hint: hint, input: in})
	}
	ttl := ""
	if md.TTLHours > 0 {
		ttl = strconv.Itoa(md.TTLHours)
	}
	add(uploader.HeaderOrgID, "Organization ID", "the organization the files belong to", md.OrgID)
	add(uploader.HeaderUserID, "User ID", "who is uploading them", md.UserID)
	add(uploader.HeaderTTLHours, "TTL (hours)", fmt.Sprintf("how long the files are kept: a whole number from 1 to %d", uploader.MaxTTLHours), ttl)
	for i := range m.fields {
		if m.fields[i].header == uploader.HeaderTTLHours {
			m.fields[i].input.CharLimit = 5
		}
	}
	// Start on the first field that still needs something.
	for i, f := range m.fields {
		if validateField(f.header, f.input.Value()) != "" {
			m.focus = i
			break
		}
	}
	if len(m.fields) > 0 {
		m.fields[m.focus].input.Focus()
	}
	return m
}

// markRemembered marks the fields whose value was filled in from last time.
func (m *formModel) markRemembered(last uploader.Metadata) {
	for i := range m.fields {
		f := &m.fields[i]
		v := ""
		switch f.header {
		case uploader.HeaderOrgID:
			v = last.OrgID
		case uploader.HeaderUserID:
			v = last.UserID
		case uploader.HeaderTTLHours:
			if last.TTLHours > 0 {
				v = strconv.Itoa(last.TTLHours)
			}
		}
		if v != "" && f.input.Value() == v {
			f.remembered = v
		}
	}
}

// empty reports whether there is nothing to ask.
func (m formModel) empty() bool { return len(m.fields) == 0 }

func (m formModel) capturesText() bool { return true }

func (m *formModel) SetSize(w, h int) {
	m.width, m.height = w, h
	for i := range m.fields {
		m.fields[i].input.SetWidth(max(min(w-4, 60), 10))
	}
}

func (m *formModel) setStyles(st *Styles) {
	m.st = st
	for i := range m.fields {
		m.fields[i].input.SetStyles(st.Input)
	}
}

// setAbout sets the line that says what is being sent where.
func (m *formModel) setAbout(s string) { m.about = s }

func (m formModel) Update(msg tea.Msg) (formModel, tea.Cmd) {
	if m.empty() {
		return m, nil
	}
	if msg, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(msg, m.keys.Back):
			return m, func() tea.Msg { return formCancelledMsg{} }
		case key.Matches(msg, m.keys.Next):
			m.touch(m.focus)
			return m, m.focusOn((m.focus + 1) % len(m.fields))
		case key.Matches(msg, m.keys.Prev):
			m.touch(m.focus)
			return m, m.focusOn((m.focus - 1 + len(m.fields)) % len(m.fields))
		case key.Matches(msg, m.keys.Submit):
			m.touch(m.focus)
			if m.focus < len(m.fields)-1 {
				return m, m.focusOn(m.focus + 1)
			}
			return m.submit()
		}
	}
	var cmd tea.Cmd
	f := &m.fields[m.focus]
	f.input, cmd = f.input.Update(msg)
	if f.touched {
		f.err = m.check(*f)
	}
	return m, cmd
}

func (m *formModel) touch(i int) {
	m.fields[i].touched = true
	m.fields[i].err = m.check(m.fields[i])
}

// check is validateField, except that an empty field is fine when the
// source needs no metadata.
func (m formModel) check(f formField) string {
	if m.optional && strings.TrimSpace(f.input.Value()) == "" {
		return ""
	}
	return validateField(f.header, f.input.Value())
}

func (m *formModel) focusOn(i int) tea.Cmd {
	m.fields[m.focus].input.Blur()
	m.focus = i
	return m.fields[i].input.Focus()
}

func (m formModel) submit() (formModel, tea.Cmd) {
	first := -1
	for i := range m.fields {
		m.touch(i)
		if m.fields[i].err != "" && first < 0 {
			first = i
		}
	}
	if first >= 0 {
		return m, m.focusOn(first)
	}
	md := m.metadata()
	return m, func() tea.Msg { return metadataSubmittedMsg{md: md} }
}

// metadata holds the asked fields only: a header the URLs did not sign must
// not be sent at all.
func (m formModel) metadata() uploader.Metadata {
	var md uploader.Metadata
	for _, f := range m.fields {
		v := strings.TrimSpace(f.input.Value())
		switch f.header {
		case uploader.HeaderOrgID:
			md.OrgID = v
		case uploader.HeaderUserID:
			md.UserID = v
		case uploader.HeaderTTLHours:
			md.TTLHours, _ = strconv.Atoi(v)
		}
	}
	return md
}

// validateField says what is wrong with a value, or "" when it is fine:
// the engine's rule, the same one the settings are checked with.
func validateField(header, value string) string { return uploader.ValidateField(header, value) }

func (m formModel) View() string {
	st := m.st
	var b strings.Builder
	b.WriteString(st.Title.Render("Upload details") + "\n")
	intro := "These travel with every file as x-amz-meta-* headers."
	switch {
	case m.signed:
		intro = "The upload URLs were signed with these headers: the values must match what the URLs were made for."
	case m.optional:
		intro = "Optional: these travel with every file as x-amz-meta-* headers; leave a field empty to send none."
	}
	if m.intro != "" {
		intro = m.intro
	}
	b.WriteString(st.Subtle.Render(cut(intro, m.width)) + "\n")
	// Drop the blank line between fields when the window is short.
	gap := m.height >= 4+len(m.fields)*4+2
	for i, f := range m.fields {
		if gap || i == 0 {
			b.WriteByte('\n')
		}
		label := st.FieldLabel
		if i == m.focus {
			label = st.FieldLabelFocused
		}
		from := ""
		if f.remembered != "" && f.input.Value() == f.remembered {
			from = " · from last time"
		}
		b.WriteString(label.Render(f.label) + st.Faint.Render("  "+f.header) + st.Accent.Render(from) + "\n")
		b.WriteString(f.input.View() + "\n")
		if f.err != "" {
			b.WriteString(st.FieldError.Render(cut("  ✗ "+f.err, m.width)) + "\n")
		} else {
			b.WriteString(st.FieldHint.Render(cut("  "+f.hint, m.width)) + "\n")
		}
	}
	if m.about != "" {
		b.WriteString("\n" + st.Subtle.Render(cut(m.about, m.width)))
	}
	return b.String()
}
