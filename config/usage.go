package config

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

const usageHead = `hoist uploads files to S3-style presigned PUT URLs.

usage:
  hoist [flags] [PATH...]   upload PATHs; with a terminal, first pick files and fill in
                            the metadata (PATHs preselected), unless --no-tui
  hoist inspect URL         explain a presigned URL: host, key, expiry, signed headers
  hoist serve               run the embedded local store alone and print a sample URL
  hoist config              print every effective setting and where it came from
  hoist uploads [--abort ID|--all]
                            list the multipart uploads kept for a resume, or discard them
`

const usageTail = `
secrets:
  The bearer token comes from --token-file FILE, else HOIST_TOKEN, else "token" in the
  config file. There is no --token flag, and hoist never prints the token.

config:
  --config FILE, else HOIST_CONFIG, else $XDG_CONFIG_HOME/hoist/config.toml (usually
  ~/.config/hoist/config.toml). Keys are the flag names in snake_case, for example:
      org_id = "acme"
      ttl_hours = 48
      limit_rate = "10M"
      stall_timeout = "1m"
  Every flag can also be set as HOIST_<NAME>: HOIST_ORG_ID, HOIST_S3, HOIST_NO_TUI, …
  Precedence: flags, then environment, then config file, then defaults.

exit codes:
  0    all files uploaded
  1    some files failed
  2    usage, config or preflight error
  130  interrupted (SIGINT, Ctrl+C); 129 SIGHUP, 143 SIGTERM: 128+signal
`

// Usage writes the help text for hoist --help.
func Usage(w io.Writer) {
	type flagRow struct{ flag, usage string }
	var rows []flagRow
	group := ""
	for _, s := range settings {
		if s.group != group {
			group = s.group
			rows = append(rows, flagRow{usage: group})
		}
		flag := "--" + s.name
		if s.kind != kindBool {
			flag += " " + s.arg
		}
		usage := s.usage
		if s.def != "" && s.zero == "" {
			usage += fmt.Sprintf(" (default %s)", s.def)
		}
		rows = append(rows, flagRow{flag, usage})
	}
	rows = append(rows,
		flagRow{usage: "other"},
		flagRow{"--config FILE", "config file (default $XDG_CONFIG_HOME/hoist/config.toml)"},
		flagRow{"--token-file FILE", "read the bearer token from FILE"},
		flagRow{"--version", "print the version"},
		flagRow{"-h, --help", "print this help"},
	)
	width := 0
	for _, r := range rows {
		width = max(width, len(r.flag))
	}

	fmt.Fprint(w, usageHead)
	for _, r := range rows {
		if r.flag == "" {
			fmt.Fprintf(w, "\n%s:\n", r.usage)
			continue
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.flag, r.usage)
	}
	fmt.Fprint(w, usageTail)
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
