// Package config turns flags, HOIST_* environment variables and the config file into
// one Config, and says where every value came from.
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"hoist/uploader"
)

// Origin says which layer supplied a setting's effective value.
type Origin string

const (
	OriginDefault   Origin = "default"
	OriginFile      Origin = "file"
	OriginEnv       Origin = "env"
	OriginFlag      Origin = "flag"
	OriginTokenFile Origin = "token-file"
	// OriginState marks a value prefilled from LastUsed by PrefillLastUsed;
	// Load never sets it.
	OriginState Origin = "state"
)

// Config is every setting hoist runs with.
type Config struct {
	// Where files go: at most one of URL, Manifest, S3 and PresignURL; none means the
	// embedded local store, which keeps files under LocalDir.
	URL, Manifest, S3, EndpointURL, PresignURL, LocalDir string
	Region, Profile                                      string // for S3; the AWS chain supplies defaults

	// Konfidant: shares through its API instead (then the target settings above are unset).
	Konfidant         bool
	APIURL            string
	KonfidantProtocol string // "encrypted" or "plain"
	APIRate           int    // API calls per minute
	SaveLinks         string // file the share links are also written to; "" = none

	// Metadata, sent as x-amz-meta-*.
	OrgID, UserID string
	TTLHours      int // 0 = not set, else 1..8760

	// Engine.
	Concurrency        int
	Retries            int
	LimitRate          int64 // bytes per second, 0 = no limit
	StallTimeout       time.Duration
	MultipartThreshold int64
	PartSize           int64 // 0 = automatic

	// Many machines on one job.
	Shard        string // "i/n", "" = every file
	SkipExisting bool
	RetryFailed  string // comma-separated run reports

	// Output.
	JSON, NoTUI      bool
	ProgressInterval time.Duration // --json progress events; 0 = none

	// Token is the bearer token. It never comes from a flag value and is never printed.
	Token      string
	TokenFile  string // the --token-file path, if given
	ConfigFile string // the config file path in use, even when the default one does not exist

	Paths                 []string // positional arguments
	ShowVersion, ShowHelp bool

	// Origins maps a flag name ("org-id", plus "token" and "config") to the layer that
	// supplied its effective value.
	Origins map[string]Origin
	// Warnings are things a person should fix that do not stop hoist, one line each.
	Warnings []string

	// details says exactly where an origin is: the env var name, "path line N", or the
	// token file path. Write shows it; validation errors quote it.
	details     map[string]string
	configFound bool
}

// UsageError is a mistake in flags, environment or config file; main exits 2 on it.
type UsageError struct {
	Msg string // one line for a person: what is wrong, where, and what to do
	Err error  // the underlying cause, if any
}

func (e *UsageError) Error() string { return e.Msg }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErr(cause error, format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...), Err: cause}
}

const (
	envToken = "HOIST_TOKEN"
	// envKonfidantKey is the Konfidant SDKs' own name for the API key.
	envKonfidantKey = "KONFIDANT_API_KEY"
	envConfig       = "HOIST_CONFIG"
)

// Load builds the Config for args (without the program name). Later layers win:
// defaults, then the config file, then HOIST_* variables, then flags. getenv is
// os.LookupEnv in production; tests pass their own. An empty variable counts as unset.
// With --help or --version, Load only parses the flags.
func Load(args []string, getenv func(string) (string, bool)) (*Config, error) {
	c, err := LoadSettings(args, getenv)
	if err != nil || c.ShowHelp || c.ShowVersion {
		return c, err
	}
	if err := c.validateTarget(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadSettings is Load for a command whose arguments are not files to upload
// (hoist inspect URL FILE): every layer is read exactly as for an upload, but
// the PATHs are not checked against where files go.
func LoadSettings(args []string, getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	env := func(name string) (string, bool) {
		v, ok := getenv(name)
		return v, ok && v != ""
	}

	cmd := newFlagSet()
	if err := cmd.fs.Parse(args); err != nil {
		var missing *pflag.NotExistError
		if errors.As(err, &missing) && missing.GetSpecifiedName() == "token" {
			return nil, usageErr(err, "there is no --token flag, so the token stays out of shell history and process lists; set HOIST_TOKEN or use --token-file FILE instead")
		}
		return nil, usageErr(err, "%v; run hoist --help to see the flags", err)
	}

	c := &Config{
		Origins: map[string]Origin{},
		details: map[string]string{},
	}
	c.ShowHelp, c.ShowVersion = *cmd.help, *cmd.version
	if c.ShowHelp || c.ShowVersion {
		return c, nil
	}
	c.Paths = cmd.fs.Args()

	for _, s := range settings {
		c.Origins[s.name] = OriginDefault
		if s.def != "" && !s.set(c, s.def) {
			panic("config: bad default for --" + s.name)
		}
	}
	if dir, err := DefaultLocalDir(getenv); err == nil {
		c.LocalDir = dir
	}

	fileToken, err := c.loadFile(cmd, env)
	if err != nil {
		return nil, err
	}

	for _, s := range settings {
		v, ok := env(s.envName())
		if !ok {
			continue
		}
		if !s.set(c, v) {
			return nil, usageErr(nil, "%s: invalid value %s; want %s", s.envName(), s.show(v), s.want)
		}
		c.from(s.name, OriginEnv, s.envName())
	}

	for _, s := range settings {
		if !cmd.fs.Changed(s.name) {
			continue
		}
		v := cmd.raw[s.name].text
		if !s.set(c, v) {
			return nil, usageErr(nil, "--%s: invalid value %s; want %s", s.name, s.show(v), s.want)
		}
		c.from(s.name, OriginFlag, "--"+s.name)
	}

	if err := c.loadToken(*cmd.tokenFile, fileToken, env); err != nil {
		return nil, err
	}
	if v, ok := env(envKonfidantKey); ok && c.Konfidant {
		// The official SDKs' variable wins: it names this key and no other.
		c.Token = v
		c.from("token", OriginEnv, envKonfidantKey)
	}
	return c, nil
}

// flagSet is the parsed command line. Setting flags keep their text as typed, so
// flags, environment and file go through one parser and one set of error messages.
type flagSet struct {
	fs            *pflag.FlagSet
	raw           map[string]*rawFlag
	configFile    *string
	tokenFile     *string
	help, version *bool
}

type rawFlag struct{ text, typ string }

func (f *rawFlag) String() string     { return f.text }
func (f *rawFlag) Set(s string) error { f.text = s; return nil }
func (f *rawFlag) Type() string       { return f.typ }

func newFlagSet() flagSet {
	fs := pflag.NewFlagSet("hoist", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	cmd := flagSet{fs: fs, raw: map[string]*rawFlag{}}
	for _, s := range settings {
		f := &rawFlag{typ: s.arg}
		cmd.raw[s.name] = f
		flag := fs.VarPF(f, s.name, "", s.usage)
		if s.kind == kindBool {
			flag.NoOptDefVal = "true"
		}
	}
	cmd.configFile = fs.String("config", "", "config file")
	cmd.tokenFile = fs.String("token-file", "", "file holding the bearer token")
	cmd.version = fs.Bool("version", false, "print the version")
	cmd.help = fs.BoolP("help", "h", false, "print this help")
	return cmd
}

// from records where the effective value of a setting came from.
func (c *Config) from(name string, o Origin, detail string) {
	c.Origins[name] = o
	c.details[name] = detail
}

// loadFile reads the config file, if there is one, into c and returns the token it
// holds. A missing default file is fine; a missing --config or HOIST_CONFIG file is not.
func (c *Config) loadFile(cmd flagSet, env func(string) (string, bool)) (token fileValue, err error) {
	path, explicit := *cmd.configFile, true
	v, inEnv := env(envConfig)
	switch {
	case path != "":
		c.from("config", OriginFlag, "--config")
	case inEnv:
		path = v
		c.from("config", OriginEnv, envConfig)
	default:
		explicit = false
		c.from("config", OriginDefault, "")
		if path, err = defaultConfigFile(env); err != nil {
			return token, nil // no home directory, so no default file to read
		}
	}
	c.ConfigFile = path

	cf, err := readConfigFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return token, nil
	}
	if err != nil {
		return token, err
	}
	c.configFound = true

	for _, fv := range cf.values {
		if fv.key == "token" {
			t, ok := fv.val.(string)
			if !ok {
				return token, usageErr(nil, "%s line %d: key \"token\": got %s; want a string", path, fv.line, tomlType(fv.val))
			}
			fv.val = t
			token = fv
			if t != "" && readableByOthers(cf.mode) {
				c.Warnings = append(c.Warnings, fmt.Sprintf("config file %s holds a token and is readable by others; run chmod 600 %s", path, path))
			}
			continue
		}
		s, ok := settingByKey(fv.key)
		if !ok {
			return token, usageErr(nil, "%s line %d: key %q: unknown key; keys are flag names in snake_case, such as org_id or ttl_hours (see hoist --help)", path, fv.line, fv.key)
		}
		text, ok := s.fileText(fv.val)
		if !ok {
			return token, usageErr(nil, "%s line %d: key %q: got %s; want %s", path, fv.line, fv.key, tomlType(fv.val), s.want)
		}
		if s.kind == kindPath && text != "" && !filepath.IsAbs(text) {
			text = filepath.Join(filepath.Dir(path), text) // relative to the file, not to wherever hoist runs
		}
		if !s.set(c, text) {
			return token, usageErr(nil, "%s line %d: key %q: invalid value %s; want %s", path, fv.line, fv.key, s.showFile(fv.val), s.want)
		}
		c.from(s.name, OriginFile, fmt.Sprintf("%s line %d", path, fv.line))
	}
	return token, nil
}

// loadToken picks the bearer token: --token-file, then HOIST_TOKEN, then the file.
func (c *Config) loadToken(tokenFile string, fileToken fileValue, env func(string) (string, bool)) error {
	c.TokenFile = tokenFile
	c.from("token", OriginDefault, "")
	var where string
	switch v, ok := env(envToken); {
	case tokenFile != "":
		f, err := os.Open(tokenFile)
		if err != nil {
			return usageErr(err, "--token-file: %v; check the path", err)
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return usageErr(err, "--token-file: %v", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, 64<<10))
		if err != nil {
			return usageErr(err, "--token-file: %v", err)
		}
		c.Token = strings.TrimRight(string(data), "\r\n")
		if c.Token == "" {
			return usageErr(nil, "--token-file %s is empty; put the token on its first line", tokenFile)
		}
		if readableByOthers(info.Mode()) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("token file %s is readable by others; run chmod 600 %s", tokenFile, tokenFile))
		}
		where = "--token-file " + tokenFile
		c.from("token", OriginTokenFile, tokenFile)
	case ok:
		c.Token = v
		where = envToken
		c.from("token", OriginEnv, envToken)
	case fileToken.val != nil && fileToken.val != "":
		c.Token = fileToken.val.(string)
		where = fmt.Sprintf("%s line %d", c.ConfigFile, fileToken.line)
		c.from("token", OriginFile, where)
	default:
		return nil
	}
	// The token goes into an Authorization header, so it must be one line of text.
	if strings.ContainsFunc(c.Token, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return usageErr(nil, "token from %s contains a line break or other control character; it must be a single line", where)
	}
	return nil
}

// validateTarget checks what no single setting can: that the settings saying
// where files go agree with each other and with the PATHs.
func (c *Config) validateTarget() error {
	var targets []string
	for _, name := range []string{"url", "manifest", "s3", "presign-url"} {
		s, _ := settingByName(name)
		if *s.field(c).(*string) != "" {
			targets = append(targets, fmt.Sprintf("--%s (%s)", name, c.describe(name)))
		}
	}
	if c.Konfidant {
		targets = append(targets, fmt.Sprintf("--konfidant (%s)", c.describe("konfidant")))
	}
	if len(targets) > 1 {
		return usageErr(nil, "%s each say where files go; keep only one", joinAnd(targets))
	}
	if c.Konfidant && c.Token == "" {
		return usageErr(nil, "--konfidant needs an API key, and none was found in KONFIDANT_API_KEY, HOIST_TOKEN, --token-file or the config file's token; set KONFIDANT_API_KEY")
	}
	switch {
	case c.URL != "" && len(c.Paths) == 0:
		return usageErr(nil, "--url needs the file to upload: hoist --url URL PATH")
	case c.URL != "" && len(c.Paths) > 1:
		return usageErr(nil, "--url uploads exactly one file, but %d PATHs were given; use --manifest for several files", len(c.Paths))
	case c.Manifest != "" && len(c.Paths) > 0:
		return usageErr(nil, "--manifest names its own files; drop the %d PATH argument(s)", len(c.Paths))
	case len(targets) == 0 && c.LocalDir == "":
		return usageErr(nil, "cannot find a home directory for the local store; set --local-dir, XDG_DATA_HOME or HOME")
	}
	return c.validateMetadata()
}

// metadataFlags names the setting each metadata header comes from.
var metadataFlags = map[string]string{
	uploader.HeaderOrgID: "org-id", uploader.HeaderUserID: "user-id", uploader.HeaderTTLHours: "ttl-hours",
}

// validateMetadata applies the engine's metadata rule to the settings, so a
// value no request could carry is refused here, naming the setting, not
// retried as a network error later.
func (c *Config) validateMetadata() error {
	err := uploader.Metadata{OrgID: c.OrgID, UserID: c.UserID, TTLHours: c.TTLHours}.Validate()
	var me *uploader.MetadataError
	if !errors.As(err, &me) {
		return err
	}
	name := metadataFlags[me.Header]
	return usageErr(nil, "--%s (from %s): %s", name, c.describe(name), me.Problem)
}

// TokenSource says where the token (or Konfidant API key) came from, for an
// error that must say which key was refused: "env KONFIDANT_API_KEY",
// "--token-file PATH", "file PATH line N". Never the token itself.
func (c *Config) TokenSource() string { return c.describe("token") }

// describe says where a setting's value came from, for errors and Write.
func (c *Config) describe(name string) string {
	o, d := c.Origins[name], c.details[name]
	switch o {
	case "":
		return string(OriginDefault)
	case OriginEnv:
		return "env " + d
	case OriginFile:
		return "file " + d
	case OriginTokenFile:
		return "--token-file " + d
	case OriginState:
		return "last upload " + d + " (the form's prefill)"
	}
	return string(o)
}

func readableByOthers(mode fs.FileMode) bool {
	return mode.Perm()&0o044 != 0 && !isWindows
}

func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
