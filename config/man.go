package config

import (
	"fmt"
	"io"
	"strings"
)

// roff escapes text for a man page line: backslashes, hyphens (so they
// are minus signs people can copy), characters beyond ASCII (as \[uXXXX],
// which every troff reads) and a leading dot or quote.
func roff(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 127:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	s = b.String()
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// Man writes hoist's manual page in roff (man(7)), from the same settings
// table, commands and examples as --help; version goes in the footer.
func Man(w io.Writer, version string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p(`.TH HOIST 1 "" %q "User Commands"`, "hoist "+version)
	p(".SH NAME")
	p(`hoist \- upload files to S3\-style presigned PUT URLs`)
	p(".SH SYNOPSIS")
	p(`.B hoist
[\fIflags\fR] [\fIPATH\fR...]`)
	for _, c := range Commands {
		p(".br")
		p(".B hoist %s", c.Name)
		if c.Args != "" {
			p(`\fI%s\fR`, roff(c.Args))
		}
	}
	p(".SH DESCRIPTION")
	for _, para := range strings.Split(strings.TrimSpace(usageIntro), "\n\n") {
		p(".PP")
		p("%s", roff(strings.Join(strings.Fields(para), " ")))
	}
	p(".SH COMMANDS")
	for _, c := range Commands {
		p(".TP")
		p(`.B %s`, roff(strings.TrimSpace(c.Name+" "+c.Args)))
		p("%s", roff(c.Summary))
	}
	p(".SH OPTIONS")
	p("Every flag can also be set as an environment variable and a config file key, shown with each.")
	p("Precedence: flags, then environment, then config file, then defaults.")
	group := ""
	for _, d := range flagDocs() {
		if d.group != group {
			group = d.group
			p(".SS %s", roff(group))
		}
		p(".TP")
		flag := `\fB\-\-` + roff(d.name) + `\fR`
		if d.short != "" {
			flag = `\fB\-` + d.short + `\fR, ` + flag
		}
		if d.arg != "" {
			flag += ` \fI` + roff(d.arg) + `\fR`
		}
		p("%s", flag)
		text := roff(d.usage)
		var also []string
		if d.env != "" {
			also = append(also, `\fB`+roff(d.env)+`\fR`)
		}
		if d.key != "" {
			also = append(also, "config key "+`\fB`+roff(d.key)+`\fR`)
		}
		if len(also) > 0 {
			text += ". Also " + strings.Join(also, ", ") + "."
		}
		p("%s", text)
	}
	for _, sec := range strings.Split(strings.TrimSpace(usageTail), "\n\n") {
		head, body, _ := strings.Cut(sec, "\n")
		p(".SH %s", roff(strings.ToUpper(strings.TrimSuffix(head, ":"))))
		if strings.HasPrefix(head, "exit codes") {
			for _, line := range strings.Split(body, "\n") {
				code, what, _ := strings.Cut(strings.TrimSpace(line), " ")
				p(".TP\n.B %s\n%s", code, roff(strings.TrimSpace(what)))
			}
			continue
		}
		p(".PP")
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "      ") {
				p(".RS\n.nf\n%s\n.fi\n.RE", roff(strings.TrimSpace(line)))
				continue
			}
			p("%s", roff(strings.TrimSpace(line)))
		}
	}
	p(".SH EXAMPLES")
	for _, e := range Examples {
		p(".PP\n%s", roff(e.About)+":")
		p(".RS\n.nf\n%s\n.fi\n.RE", roff(e.Cmd))
	}
	p(".SH FILES")
	p(".TP\n.I $XDG_CONFIG_HOME/hoist/config.toml\nthe config file")
	p(".TP\n.I $XDG_STATE_HOME/hoist/reports/\none JSON report per run, read by \\fBhoist history\\fR")
	p(".TP\n.I $XDG_STATE_HOME/hoist/last.toml\nthe metadata of the last upload, the form's prefill")
	p(".TP\n.I $XDG_DATA_HOME/hoist/local/\nthe embedded local store's files")
}
