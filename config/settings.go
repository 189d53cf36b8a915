package config

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

type kind int

const (
	kindText kind = iota
	kindPath
	kindURL // never shown with its query string: a presigned URL carries its signature there
	kindS3
	kindInt
	kindBytes
	kindDuration
	kindBool
	kindShard
)

// setting is one value that can come from a flag, a HOIST_* variable or the config file.
// Its name is the flag; the variable is HOIST_ plus the name in upper snake case, and the
// file key is the name in snake case.
type setting struct {
	name  string
	group string
	kind  kind
	arg   string // placeholder in help, e.g. "URL"
	usage string
	def   string // default, written as on the command line; "" = none
	want  string // the allowed form, said in every error about this setting

	choices  []string // the only texts allowed, when set
	min, max int64    // bounds for numbers and durations
	zeroOK   bool     // 0 is allowed below min: it means "off" or "automatic"
	zero     string

	field func(*Config) any // pointer to the Config field it fills
}

const (
	groupTarget    = "where files go (at most one; none = the embedded local store)"
	groupS3        = "for --s3 (the standard AWS chain fills in what is not given)"
	groupKonfidant = "for --konfidant (API key: KONFIDANT_API_KEY, HOIST_TOKEN or --token-file)"
	groupMetadata  = "metadata (sent as x-amz-meta-*)"
	groupEngine    = "engine"
	groupOutput    = "output"
	groupJob       = "many machines on one job"
)

const (
	mib = 1 << 20
	gib = 1 << 30
)

var settings = []setting{
	{name: "url", group: groupTarget, kind: kindURL, arg: "URL", usage: "presigned PUT URL for exactly one PATH",
		want: "an http:// or https:// URL", field: func(c *Config) any { return &c.URL }},
	{name: "manifest", group: groupTarget, kind: kindPath, arg: "FILE", usage: `JSON lines {"path":…, "url":…}, one per file`,
		want: "a file path", field: func(c *Config) any { return &c.Manifest }},
	{name: "s3", group: groupTarget, kind: kindS3, arg: "s3://BUCKET[/PREFIX]", usage: "presign locally with AWS credentials",
		want: "an S3 location like s3://bucket or s3://bucket/prefix", field: func(c *Config) any { return &c.S3 }},
	{name: "presign-url", group: groupTarget, kind: kindURL, arg: "URL", usage: "presign service (Uppy Companion S3 protocol)",
		want: "an http:// or https:// URL", field: func(c *Config) any { return &c.PresignURL }},
	{name: "konfidant", group: groupTarget, kind: kindBool, arg: "bool", usage: "share through Konfidant: each file encrypted, a one-time link out",
		want: "true or false", field: func(c *Config) any { return &c.Konfidant }},
	{name: "local-dir", group: groupTarget, kind: kindPath, arg: "DIR", usage: "embedded store folder (default $XDG_DATA_HOME/hoist/local)",
		want: "a directory path", field: func(c *Config) any { return &c.LocalDir }},

	{name: "endpoint-url", group: groupS3, kind: kindURL, arg: "URL", usage: "S3-compatible endpoint (R2, MinIO, …)",
		want: "an http:// or https:// URL", field: func(c *Config) any { return &c.EndpointURL }},
	{name: "region", group: groupS3, kind: kindText, arg: "REGION", usage: "signing region",
		want: "a region name", field: func(c *Config) any { return &c.Region }},
	{name: "profile", group: groupS3, kind: kindText, arg: "NAME", usage: "AWS shared-config profile",
		want: "a profile name", field: func(c *Config) any { return &c.Profile }},

	{name: "api-url", group: groupKonfidant, kind: kindURL, arg: "URL", usage: "Konfidant's API", def: "https://www.konfidant.app",
		want: "an http:// or https:// URL", field: func(c *Config) any { return &c.APIURL }},
	{name: "konfidant-protocol", group: groupKonfidant, kind: kindText, arg: "NAME", usage: "encrypted (KNF1 on the way up) or plain (the API page's flow)", def: "encrypted",
		want: "encrypted or plain", choices: []string{"encrypted", "plain"}, field: func(c *Config) any { return &c.KonfidantProtocol }},
	{name: "api-rate", group: groupKonfidant, kind: kindInt, arg: "N", usage: "API calls per minute, 1..240", def: "60",
		want: "a whole number from 1 to 240", min: 1, max: 240, field: func(c *Config) any { return &c.APIRate }},

	{name: "org-id", group: groupMetadata, kind: kindText, arg: "ID", usage: "organization id",
		want: "an id", field: func(c *Config) any { return &c.OrgID }},
	{name: "user-id", group: groupMetadata, kind: kindText, arg: "ID", usage: "user id",
		want: "an id", field: func(c *Config) any { return &c.UserID }},
	{name: "ttl-hours", group: groupMetadata, kind: kindInt, arg: "HOURS", usage: "how long the object is kept, 1..8760",
		want: "a whole number of hours from 1 to 8760", min: 1, max: 8760, zero: "(not set)",
		field: func(c *Config) any { return &c.TTLHours }},

	{name: "concurrency", group: groupEngine, kind: kindInt, arg: "N", usage: "files sent at once, 1..64", def: "4",
		want: "a whole number from 1 to 64", min: 1, max: 64, field: func(c *Config) any { return &c.Concurrency }},
	{name: "retries", group: groupEngine, kind: kindInt, arg: "N", usage: "retries per file, 0..20", def: "5",
		want: "a whole number from 0 to 20", min: 0, max: 20, field: func(c *Config) any { return &c.Retries }},
	{name: "limit-rate", group: groupEngine, kind: kindBytes, arg: "RATE", usage: "bytes per second in total: 10M, 512KiB (0 = no limit)", def: "0",
		want: "bytes per second such as 10M, 512KiB or 1.5MB, or 0 for no limit", min: 1, max: math.MaxInt64, zeroOK: true, zero: "0 (no limit)",
		field: func(c *Config) any { return &c.LimitRate }},
	{name: "stall-timeout", group: groupEngine, kind: kindDuration, arg: "DURATION", usage: "retry when no byte has moved for this long", def: "30s",
		want: "a duration of at least 1s, such as 30s or 2m", min: int64(time.Second), max: math.MaxInt64,
		field: func(c *Config) any { return &c.StallTimeout }},
	{name: "multipart-threshold", group: groupEngine, kind: kindBytes, arg: "SIZE", usage: "files this big go in parts, where possible", def: "64MiB",
		want: "a size of at least 5MiB, such as 64MiB", min: 5 * mib, max: math.MaxInt64,
		field: func(c *Config) any { return &c.MultipartThreshold }},
	{name: "part-size", group: groupEngine, kind: kindBytes, arg: "SIZE", usage: "multipart part size, 5MiB..5GiB (0 = automatic)", def: "0",
		want: "a size from 5MiB to 5GiB, such as 16MiB, or 0 for automatic", min: 5 * mib, max: 5 * gib, zeroOK: true, zero: "0 (automatic)",
		field: func(c *Config) any { return &c.PartSize }},

	{name: "shard", group: groupJob, kind: kindShard, arg: "I/N", usage: "send only the files whose key hashes to shard I of N",
		want: "I/N with 0 ≤ I < N, such as 0/4", field: func(c *Config) any { return &c.Shard }},
	{name: "skip-existing", group: groupJob, kind: kindBool, arg: "bool", usage: "leave alone files already stored",
		want: "true or false", field: func(c *Config) any { return &c.SkipExisting }},
	{name: "retry-failed", group: groupJob, kind: kindText, arg: "REPORTS", usage: "send only files that failed in these reports (a,b,…)",
		want: "comma-separated paths of --json run reports", field: func(c *Config) any { return &c.RetryFailed }},

	{name: "json", group: groupOutput, kind: kindBool, arg: "bool", usage: "print JSON-lines events instead of text",
		want: "true or false", field: func(c *Config) any { return &c.JSON }},
	{name: "save-links", group: groupOutput, kind: kindPath, arg: "FILE", usage: "also write each share link to FILE (mode 0600): links are secrets",
		want: "a file path", field: func(c *Config) any { return &c.SaveLinks }},
	{name: "no-tui", group: groupOutput, kind: kindBool, arg: "bool", usage: "never start the terminal UI",
		want: "true or false", field: func(c *Config) any { return &c.NoTUI }},
	{name: "progress-interval", group: groupOutput, kind: kindDuration, arg: "DURATION", usage: "--json: a progress event this often (0 = none)", def: "1s",
		want: "a duration of at least 100ms, such as 1s, or 0 for no progress events", min: int64(100 * time.Millisecond), max: math.MaxInt64, zeroOK: true, zero: "0 (none)",
		field: func(c *Config) any { return &c.ProgressInterval }},
}

func settingByName(name string) (setting, bool) {
	for _, s := range settings {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}

func settingByKey(key string) (setting, bool) {
	for _, s := range settings {
		if s.fileKey() == key {
			return s, true
		}
	}
	return setting{}, false
}

// WaysToSet names every way to set the setting called name, for a message
// that asks a person to set it: "--org-id (or HOIST_ORG_ID, or org_id in the
// config file)".
func WaysToSet(name string) string {
	s, ok := settingByName(name)
	if !ok {
		return "--" + name
	}
	return fmt.Sprintf("--%s (or %s, or %s in the config file)", s.name, s.envName(), s.fileKey())
}

func (s setting) fileKey() string { return strings.ReplaceAll(s.name, "-", "_") }
func (s setting) envName() string { return "HOIST_" + strings.ToUpper(s.fileKey()) }

// set parses text and stores it in c; false means text is not what s.want says.
// An empty string clears a text setting, so a flag or variable can undo the file.
func (s setting) set(c *Config, text string) bool {
	switch p := s.field(c).(type) {
	case *string:
		if text != "" && !s.validText(text) {
			return false
		}
		*p = text
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil || !s.inRange(int64(n)) {
			return false
		}
		*p = n
	case *int64:
		n, err := humanize.ParseBytes(strings.TrimSpace(text))
		if err != nil || n > math.MaxInt64 || !s.inRange(int64(n)) {
			return false
		}
		*p = int64(n)
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil || !s.inRange(int64(d)) {
			return false
		}
		*p = d
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return false
		}
		*p = b
	default:
		panic(fmt.Sprintf("config: --%s has an unhandled field type %T", s.name, p))
	}
	return true
}

func (s setting) inRange(n int64) bool {
	return (n == 0 && s.zeroOK) || (n >= s.min && n <= s.max)
}

func (s setting) validText(text string) bool {
	if s.choices != nil {
		return slices.Contains(s.choices, text)
	}
	switch s.kind {
	case kindURL:
		u, err := url.Parse(text)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	case kindShard:
		_, _, ok := ParseShard(text)
		return ok
	case kindS3:
		rest, ok := strings.CutPrefix(text, "s3://")
		bucket, _, _ := strings.Cut(rest, "/")
		return ok && bucket != "" && !strings.ContainsFunc(bucket, func(r rune) bool {
			return r <= ' ' || strings.ContainsRune(`\?#%*`, r)
		})
	}
	return true
}

// fileText turns a TOML value into the text set parses, refusing TOML types that do not
// fit: a size may be written as a string or an integer, a duration only as a string.
func (s setting) fileText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, s.kind != kindInt && s.kind != kindBool
	case int64:
		return strconv.FormatInt(v, 10), s.kind == kindInt || s.kind == kindBytes
	case bool:
		return strconv.FormatBool(v), s.kind == kindBool
	}
	return "", false
}

// show quotes a rejected value for an error message, without a URL's query string.
func (s setting) show(text string) string {
	if s.kind == kindURL {
		text = safeURL(text)
	}
	return strconv.Quote(text)
}

func (s setting) showFile(v any) string {
	if text, ok := v.(string); ok {
		return s.show(text)
	}
	return fmt.Sprint(v)
}

// display is the effective value as Write prints it.
func (s setting) display(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		switch {
		case *p == "":
			return "(not set)"
		case s.kind == kindURL:
			return safeURL(*p)
		}
		return *p
	case *int:
		if *p == 0 && s.zero != "" {
			return s.zero
		}
		return strconv.Itoa(*p)
	case *int64:
		if *p == 0 && s.zero != "" {
			return s.zero
		}
		unit := ""
		if s.name == "limit-rate" {
			unit = "/s"
		}
		short := humanize.Bytes(uint64(*p)) // "10M" was meant in SI units, "64MiB" in binary ones
		if *p%1024 == 0 {
			short = humanize.IBytes(uint64(*p))
		}
		return fmt.Sprintf("%s%s (%d bytes%s)", short, unit, *p, unit)
	case *time.Duration:
		if *p == 0 && s.zero != "" {
			return s.zero
		}
		return p.String()
	case *bool:
		return strconv.FormatBool(*p)
	}
	return fmt.Sprint(s.field(c))
}

// safeURL drops what may be secret in a URL: the query (a presigned URL's signature and
// credential), the fragment and any user:password.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		before, _, _ := strings.Cut(raw, "?")
		return before
	}
	hadQuery := u.RawQuery != "" || u.ForceQuery
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	if hadQuery {
		return u.String() + "?…"
	}
	return u.String()
}

// ParseShard reads --shard's "i/n" (0 ≤ i < n).
func ParseShard(text string) (i, n int, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(text), "/")
	i, erri := strconv.Atoi(a)
	n, errn := strconv.Atoi(b)
	return i, n, found && erri == nil && errn == nil && n >= 1 && i >= 0 && i < n
}

// text is the effective value written so set parses it back: what a rerun
// passes as the flag's value.
func (s setting) text(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *time.Duration:
		return p.String()
	case *bool:
		return strconv.FormatBool(*p)
	}
	panic(fmt.Sprintf("config: --%s has an unhandled field type %T", s.name, s.field(c)))
}

// Rerun is what a run report records so hoist history --retry sends the
// failed files the same way: where they went (even a default, which depends
// on the environment) and every other setting not at its default, as flag
// name → value. Output and job settings and metadata are left out (the report keeps
// the metadata the files were actually sent with). A URL with a query is
// recorded as "" (set, value withheld): a presigned URL's signature is a
// secret and expires anyway.
func (c *Config) Rerun() map[string]string {
	out := map[string]string{}
	for _, s := range settings {
		// Which files to send is the report's to say, so the settings that
		// choose files (--shard, --retry-failed, --skip-existing) stay out.
		if s.group == groupOutput || s.group == groupMetadata || s.group == groupJob {
			continue
		}
		v := s.text(c)
		where := s.group == groupTarget || s.group == groupS3
		if (where && (v == "" || v == "false")) || (!where && c.Origins[s.name] == OriginDefault) {
			continue
		}
		if s.kind == kindURL && safeURL(v) != v {
			v = ""
		}
		if s.kind == kindPath {
			// A rerun may start in another folder.
			if abs, err := filepath.Abs(v); err == nil {
				v = abs
			}
		}
		out[s.name] = v
	}
	return out
}
