package config

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// Command is one subcommand, as --help, shell completion and the man page
// list it. main dispatches them; this is their one description.
type Command struct {
	Name    string
	Args    string // after the name, e.g. "URL [FILE]"
	Summary string
}

// Commands are hoist's subcommands, in the order help shows them.
var Commands = []Command{
	{"inspect", "URL [FILE]", "explain a presigned URL; with FILE, check the file against it"},
	{"serve", "", "run the embedded local store alone and print a sample URL"},
	{"config", "", "print every setting, where it came from, and the form's prefill"},
	{"uploads", "[--abort ID|--all]", "list the multipart uploads kept for a resume, or discard them"},
	{"history", "[--retry N]", "list past runs; --retry N re-sends the files run N did not"},
	{"completion", "bash|zsh|fish", "print a shell completion script"},
	{"man", "", "print the manual page (roff): hoist man | man -l -"},
	{"version", "", "print the version and the commit it was built from"},
	{"help", "[COMMAND]", "print this help, or a command's"},
}

// helpWidth is the widest line --help prints: an 80-column terminal, minus
// the column a wrapped line's last character would push the cursor into.
const helpWidth = 79

const usageIntro = `hoist uploads files to S3-style presigned PUT URLs.

With a terminal, hoist [PATH...] opens a picker (PATHs preselected) and a
metadata form; otherwise, or with --no-tui, it uploads the PATHs headless.
`

const usageTail = `
secrets:
  The bearer token comes from --token-file FILE, else HOIST_TOKEN, else
  "token" in the config file. There is no --token flag; hoist never prints
  the token.

config:
  --config FILE, else HOIST_CONFIG, else $XDG_CONFIG_HOME/hoist/config.toml
  (usually ~/.config/hoist/config.toml). Keys are flag names in snake_case:
      org_id = "acme"
      ttl_hours = 48
      limit_rate = "10M"
  Every flag can also be set as HOIST_<NAME>: HOIST_ORG_ID, HOIST_S3, …
  Precedence: flags, then environment, then config file, then defaults.

exit codes:
  0    all files uploaded
  1    some files failed
  2    usage, config or preflight error
  130  interrupted (SIGINT, Ctrl+C); 129 SIGHUP, 143 SIGTERM: 128+signal
`

// Examples end --help and the man page: what people type first.
var Examples = []struct{ Cmd, About string }{
	{"hoist", "pick files in the terminal; they go to the embedded local store"},
	{"hoist --no-tui --org-id acme --user-id u1 --ttl-hours 48 report.pdf photos/", "upload a file and a folder without the TUI"},
	{"hoist --url \"$URL\" report.pdf", "send one file to a presigned PUT URL"},
	{"hoist --manifest uploads.jsonl --json", "many files, each to its own URL; JSON events"},
	{"hoist --s3 s3://bucket/in --endpoint-url https://s3.example.com big.iso", "presign locally with AWS credentials; big files go in parts"},
	{"hoist inspect \"$URL\" report.pdf", "what would go wrong, before sending"},
	{"hoist history --retry 1", "send again what the last run did not"},
}

// flagDoc is one flag as help, completion and the man page describe it.
type flagDoc struct {
	group, name, short, arg, usage string
	path                           bool // its value is a file or folder
	env, key                       string
}

// flagDocs lists every flag: the settings table, then the flags that are not
// settings (where the config and the token come from, help, version).
func flagDocs() []flagDoc {
	var out []flagDoc
	for _, s := range settings {
		d := flagDoc{group: s.group, name: s.name, usage: s.usage, path: s.kind == kindPath,
			env: s.envName(), key: s.fileKey()}
		if s.kind != kindBool {
			d.arg = s.arg
		}
		if s.def != "" && s.def != "0" {
			d.usage += " (default " + s.def + ")"
		}
		out = append(out, d)
	}
	return append(out,
		flagDoc{group: "other", name: "config", arg: "FILE", usage: "config file (default $XDG_CONFIG_HOME/hoist/config.toml)", path: true, env: envConfig},
		flagDoc{group: "other", name: "token-file", arg: "FILE", usage: "read the bearer token from FILE", path: true},
		flagDoc{group: "other", name: "version", usage: "print the version"},
		flagDoc{group: "other", name: "help", short: "h", usage: "print this help"},
	)
}

// Usage writes the help text for hoist --help: at most helpWidth columns,
// ending with examples.
func Usage(w io.Writer) {
	fmt.Fprint(w, usageIntro)
	fmt.Fprint(w, "\nusage:\n")
	cmds := [][2]string{{"hoist [flags] [PATH...]", "upload PATHs (a terminal: pick them first)"}}
	for _, c := range Commands {
		cmds = append(cmds, [2]string{strings.TrimSpace("hoist " + c.Name + " " + c.Args), c.Summary})
	}
	writeColumns(w, cmds, columnWidth(cmds))

	// One column for every group, so the flags line up down the page.
	var rows [][2]string
	docs := flagDocs()
	for _, d := range docs {
		flag := "--" + d.name
		if d.short != "" {
			flag = "-" + d.short + ", " + flag
		}
		if d.arg != "" {
			flag += " " + d.arg
		}
		rows = append(rows, [2]string{flag, d.usage})
	}
	left := columnWidth(rows)
	for i := 0; i < len(docs); {
		j := i
		for j < len(docs) && docs[j].group == docs[i].group {
			j++
		}
		fmt.Fprintf(w, "\n%s:\n", docs[i].group)
		writeColumns(w, rows[i:j], left)
		i = j
	}
	fmt.Fprint(w, usageTail)

	fmt.Fprint(w, "\nexamples:\n")
	for _, e := range Examples {
		for _, line := range wrap("# "+e.About, helpWidth-2) {
			fmt.Fprintf(w, "  %s\n", line)
		}
		fmt.Fprintf(w, "  %s\n", e.Cmd)
	}
}

// columnWidth is the width of the left column for rows: the widest cell up
// to 28 runes, so the right column keeps room for words.
func columnWidth(rows [][2]string) int {
	const maxLeft = 28
	left := 0
	for _, r := range rows {
		if n := utf8.RuneCountInString(r[0]); n <= maxLeft {
			left = max(left, n)
		}
	}
	return left
}

// writeColumns writes rows of (left, right) in two columns, the right one
// word-wrapped to helpWidth; a left cell wider than left gets a line of its
// own.
func writeColumns(w io.Writer, rows [][2]string, left int) {
	indent := strings.Repeat(" ", 2+left+2)
	for _, r := range rows {
		lines := wrap(r[1], helpWidth-len(indent))
		if utf8.RuneCountInString(r[0]) > left {
			fmt.Fprintf(w, "  %s\n", r[0])
		} else {
			fmt.Fprintf(w, "  %-*s  %s\n", left+len(r[0])-utf8.RuneCountInString(r[0]), r[0], lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%s%s\n", indent, l)
		}
	}
}

// wrap breaks text into lines of at most width runes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// Write prints what hoist config shows: every effective setting and where it came from.
// The token appears only as whether it is set and from where.
func (c *Config) Write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, value, from string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, c.Redact(value), c.Redact(from))
	}

	switch {
	case c.ConfigFile == "":
		row("config", "(none: no home directory)", c.describe("config"))
	case c.configFound:
		row("config", c.ConfigFile, c.describe("config"))
	default:
		row("config", c.ConfigFile+" (not found)", c.describe("config"))
	}
	for _, s := range settings {
		row(s.name, s.display(c), c.describe(s.name))
	}
	if len(c.Paths) > 0 {
		row("paths", strings.Join(c.Paths, " "), "arguments")
	}
	tw.Flush()

	// Outside the table, so its long status does not widen the value column.
	token := "(not set)"
	if c.Token != "" {
		token = fmt.Sprintf("(set, from %s)", c.describe("token"))
	}
	width := 0
	for _, s := range settings {
		width = max(width, len(s.name))
	}
	fmt.Fprintf(w, "%-*s  %s\n", width, "token", c.Redact(token))
}

// Redact replaces every occurrence of the token in s, for text that may echo a
// request back (error bodies, logs).
func (c *Config) Redact(s string) string {
	if c == nil || c.Token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.Token, "[REDACTED]")
}
