package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testEnv is an environment that keeps every XDG path inside the test's temp dir.
func testEnv(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	return map[string]string{
		"HOME":            filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_DATA_HOME":   filepath.Join(dir, "data"),
		"XDG_STATE_HOME":  filepath.Join(dir, "state"),
	}
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is cut by the umask
		t.Fatal(err)
	}
	return path
}

// defaultConfig writes the file Load finds without --config.
func defaultConfig(t *testing.T, env map[string]string, content string) string {
	t.Helper()
	return writeFile(t, filepath.Join(env["XDG_CONFIG_HOME"], "hoist", "config.toml"), content, 0o600)
}

func mustLoad(t *testing.T, args []string, env map[string]string) *Config {
	t.Helper()
	c, err := Load(args, lookup(env))
	if err != nil {
		t.Fatalf("Load(%q): %v", args, err)
	}
	return c
}

func loadErr(t *testing.T, args []string, env map[string]string) string {
	t.Helper()
	c, err := Load(args, lookup(env))
	if err == nil {
		t.Fatalf("Load(%q) = %+v, want an error", args, c)
	}
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("Load(%q) error %v (%T) is not a *UsageError", args, err, err)
	}
	return err.Error()
}

func TestPrecedence(t *testing.T) {
	keys := []struct {
		name                           string
		fileLine, envValue, flagValue  string
		def, fromFile, fromEnv, fromFl any
		get                            func(*Config) any
	}{
		{"org-id", `org_id = "org-file"`, "org-env", "org-flag",
			"", "org-file", "org-env", "org-flag", func(c *Config) any { return c.OrgID }},
		{"ttl-hours", `ttl_hours = 24`, "48", "72",
			0, 24, 48, 72, func(c *Config) any { return c.TTLHours }},
		{"concurrency", `concurrency = 2`, "8", "16",
			4, 2, 8, 16, func(c *Config) any { return c.Concurrency }},
		{"limit-rate", `limit_rate = "1MiB"`, "2M", "512KiB",
			int64(0), int64(1 << 20), int64(2_000_000), int64(512 << 10), func(c *Config) any { return c.LimitRate }},
		{"multipart-threshold", `multipart_threshold = 10485760`, "32MiB", "1.5GB",
			int64(64 << 20), int64(10 << 20), int64(32 << 20), int64(1_500_000_000), func(c *Config) any { return c.MultipartThreshold }},
		{"stall-timeout", `stall_timeout = "1m"`, "45s", "2m30s",
			30 * time.Second, time.Minute, 45 * time.Second, 150 * time.Second, func(c *Config) any { return c.StallTimeout }},
		{"json", `json = true`, "false", "true",
			false, true, false, true, func(c *Config) any { return c.JSON }},
		{"s3", `s3 = "s3://file-bucket/in"`, "s3://env-bucket", "s3://flag-bucket/a/b",
			"", "s3://file-bucket/in", "s3://env-bucket", "s3://flag-bucket/a/b", func(c *Config) any { return c.S3 }},
	}
	layers := []struct {
		name   string
		origin Origin
	}{{"default", OriginDefault}, {"file", OriginFile}, {"env", OriginEnv}, {"flag", OriginFlag}}

	for _, k := range keys {
		for depth, layer := range layers {
			t.Run(k.name+"/"+layer.name, func(t *testing.T) {
				env := testEnv(t)
				var args []string
				if depth >= 1 {
					defaultConfig(t, env, "# hoist\n"+k.fileLine+"\n")
				}
				if depth >= 2 {
					env["HOIST_"+strings.ToUpper(strings.ReplaceAll(k.name, "-", "_"))] = k.envValue
				}
				if depth >= 3 {
					args = append(args, "--"+k.name+"="+k.flagValue)
				}
				c := mustLoad(t, args, env)
				want := []any{k.def, k.fromFile, k.fromEnv, k.fromFl}[depth]
				if got := k.get(c); got != want {
					t.Errorf("%s = %v (%T), want %v (%T)", k.name, got, got, want, want)
				}
				if got := c.Origins[k.name]; got != layer.origin {
					t.Errorf("Origins[%q] = %q, want %q", k.name, got, layer.origin)
				}
			})
		}
	}
}

// Each setting takes its own winner: one layer overriding one key leaves the others alone.
func TestPrecedenceMixed(t *testing.T) {
	env := testEnv(t)
	path := defaultConfig(t, env, "org_id = \"acme\"\nuser_id = \"u-file\"\nttl_hours = 24\nconcurrency = 9\n")
	env["HOIST_USER_ID"] = "u-env"
	env["HOIST_TTL_HOURS"] = "48"
	env["HOIST_ORG_ID"] = "" // empty counts as unset
	c := mustLoad(t, []string{"--ttl-hours", "72", "a.txt", "b.txt"}, env)

	want := map[string]struct {
		value  any
		origin Origin
	}{
		"org-id":      {"acme", OriginFile},
		"user-id":     {"u-env", OriginEnv},
		"ttl-hours":   {72, OriginFlag},
		"concurrency": {9, OriginFile},
		"retries":     {5, OriginDefault},
	}
	got := map[string]any{"org-id": c.OrgID, "user-id": c.UserID, "ttl-hours": c.TTLHours, "concurrency": c.Concurrency, "retries": c.Retries}
	for name, w := range want {
		if got[name] != w.value || c.Origins[name] != w.origin {
			t.Errorf("%s = %v from %q, want %v from %q", name, got[name], c.Origins[name], w.value, w.origin)
		}
	}
	if c.ConfigFile != path || c.Origins["config"] != OriginDefault {
		t.Errorf("ConfigFile = %q from %q, want %q from default", c.ConfigFile, c.Origins["config"], path)
	}
	if strings.Join(c.Paths, ",") != "a.txt,b.txt" {
		t.Errorf("Paths = %q", c.Paths)
	}
	for _, s := range settings {
		if c.Origins[s.name] == "" {
			t.Errorf("Origins has no entry for %q", s.name)
		}
	}
}

func TestConfigFileChoice(t *testing.T) {
	env := testEnv(t)
	defaultConfig(t, env, `org_id = "from-default"`)
	other := writeFile(t, filepath.Join(t.TempDir(), "other.toml"), `org_id = "from-other"`, 0o600)
	third := writeFile(t, filepath.Join(t.TempDir(), "third.toml"), `org_id = "from-third"`, 0o600)

	c := mustLoad(t, nil, env)
	if c.OrgID != "from-default" {
		t.Errorf("default file: OrgID = %q", c.OrgID)
	}
	env["HOIST_CONFIG"] = other
	c = mustLoad(t, nil, env)
	if c.OrgID != "from-other" || c.Origins["config"] != OriginEnv {
		t.Errorf("HOIST_CONFIG: OrgID = %q, config from %q", c.OrgID, c.Origins["config"])
	}
	c = mustLoad(t, []string{"--config", third}, env)
	if c.OrgID != "from-third" || c.Origins["config"] != OriginFlag || c.ConfigFile != third {
		t.Errorf("--config: OrgID = %q, config %q from %q", c.OrgID, c.ConfigFile, c.Origins["config"])
	}

	missing := filepath.Join(t.TempDir(), "nope.toml")
	if msg := loadErr(t, []string{"--config", missing}, env); !strings.Contains(msg, missing) {
		t.Errorf("missing --config file: %q does not name %s", msg, missing)
	}
	env["HOIST_CONFIG"] = missing
	if msg := loadErr(t, nil, env); !strings.Contains(msg, missing) {
		t.Errorf("missing HOIST_CONFIG file: %q does not name %s", msg, missing)
	}

	// No default file at all is fine.
	c = mustLoad(t, nil, testEnv(t))
	if c.OrgID != "" || c.Concurrency != 4 {
		t.Errorf("no file: OrgID %q, Concurrency %d", c.OrgID, c.Concurrency)
	}
}

func TestRelativePathsInFileAreRelativeToIt(t *testing.T) {
	env := testEnv(t)
	path := defaultConfig(t, env, "local_dir = \"store\"\n")
	c := mustLoad(t, nil, env)
	if want := filepath.Join(filepath.Dir(path), "store"); c.LocalDir != want {
		t.Errorf("LocalDir = %q, want %q", c.LocalDir, want)
	}
	c = mustLoad(t, []string{"--local-dir", "here"}, env)
	if c.LocalDir != "here" {
		t.Errorf("flag LocalDir = %q, want it as given", c.LocalDir)
	}
}

func TestMalformedFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // after "<path> "
		hidden  string   // must not appear
	}{
		{"syntax error", "org_id = \"a\"\nconcurrency = \n", []string{"line 2: ", "TOML syntax"}, ""},
		{"unterminated string", "org_id = \"a\"\n\nuser_id = \"b\n", []string{"line 3: "}, ""},
		{"unknown key", "org_id = \"a\"\n\n# typo below\ntokn = \"x\"\n", []string{`line 4: key "tokn": unknown key`}, ""},
		{"unknown table", "org_id = \"a\"\n[aws]\nregion = \"x\"\n", []string{`line 2: key "aws": unknown key`}, ""},
		{"string for integer", "concurrency = \"8\"\n", []string{`line 1: key "concurrency": got a string; want a whole number from 1 to 64`}, ""},
		{"integer for duration", "\nstall_timeout = 30\n", []string{`line 2: key "stall_timeout": got an integer; want a duration`}, ""},
		{"float for size", "part_size = 1.5\n", []string{`line 1: key "part_size": got a float`}, ""},
		{"table for string", "org_id = { a = 1 }\n", []string{`line 1: key "org_id": got a table`}, ""},
		{"string for bool", "json = \"yes\"\n", []string{`line 1: key "json": got a string; want true or false`}, ""},
		{"out of range", "org_id = \"a\"\nttl_hours = -1\n", []string{`line 2: key "ttl_hours": invalid value -1; want a whole number of hours from 1 to 8760`}, ""},
		{"bad size", "limit_rate = \"fast\"\n", []string{`line 1: key "limit_rate": invalid value "fast"`}, ""},
		{"bad s3", "s3 = \"bucket/prefix\"\n", []string{`line 1: key "s3": invalid value "bucket/prefix"; want an S3 location like s3://bucket`}, ""},
		{"token not a string", "token = 98765432123\n", []string{`line 1: key "token": got an integer; want a string`}, "98765432123"},
		{"bad url keeps its query secret", "presign_url = \"ftp://h/p?X-Amz-Signature=feedface\"\n", []string{`key "presign_url": invalid value "ftp://h/p?…"`}, "feedface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t)
			path := defaultConfig(t, env, tt.content)
			msg := loadErr(t, nil, env)
			if !strings.HasPrefix(msg, path+" ") {
				t.Errorf("error %q does not start with the file path %s", msg, path)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if tt.hidden != "" && strings.Contains(msg, tt.hidden) {
				t.Errorf("error %q shows %q", msg, tt.hidden)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is more than one line", msg)
			}
		})
	}
}

func TestBadValuesNameTheFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"negative ttl", []string{"--ttl-hours", "-1"}, nil, []string{"--ttl-hours", `"-1"`, "from 1 to 8760"}},
		{"zero ttl", []string{"--ttl-hours=0"}, nil, []string{"--ttl-hours", "from 1 to 8760"}},
		{"ttl too big", []string{"--ttl-hours=8761"}, nil, []string{"--ttl-hours", "from 1 to 8760"}},
		{"word ttl", []string{"--ttl-hours", "abc"}, nil, []string{"--ttl-hours", `"abc"`, "from 1 to 8760"}},
		{"zero concurrency", []string{"--concurrency", "0"}, nil, []string{"--concurrency", "from 1 to 64"}},
		{"too many retries", []string{"--retries", "21"}, nil, []string{"--retries", "from 0 to 20"}},
		{"word limit-rate", []string{"--limit-rate", "fast"}, nil, []string{"--limit-rate", `"fast"`, "10M"}},
		{"negative limit-rate", []string{"--limit-rate", "-5M"}, nil, []string{"--limit-rate"}},
		{"small part", []string{"--part-size", "1MiB"}, nil, []string{"--part-size", "5MiB to 5GiB"}},
		{"huge part", []string{"--part-size", "6GiB"}, nil, []string{"--part-size", "5MiB to 5GiB"}},
		{"small threshold", []string{"--multipart-threshold", "4MiB"}, nil, []string{"--multipart-threshold", "at least 5MiB"}},
		{"unitless timeout", []string{"--stall-timeout", "10"}, nil, []string{"--stall-timeout", "30s"}},
		{"tiny timeout", []string{"--stall-timeout", "10ms"}, nil, []string{"--stall-timeout", "at least 1s"}},
		{"bad bool", []string{"--json=maybe"}, nil, []string{"--json", "true or false"}},
		{"s3 without scheme", []string{"--s3", "my-bucket"}, nil, []string{"--s3", "s3://bucket/prefix"}},
		{"s3 without bucket", []string{"--s3", "s3:///prefix"}, nil, []string{"--s3"}},
		{"url not http", []string{"--url", "ftp://host/key", "f"}, nil, []string{"--url", "http:// or https://"}},
		{"endpoint without host", []string{"--endpoint-url", "https://"}, nil, []string{"--endpoint-url"}},
		{"env ttl", nil, map[string]string{"HOIST_TTL_HOURS": "abc"}, []string{"HOIST_TTL_HOURS", "from 1 to 8760"}},
		{"env concurrency", nil, map[string]string{"HOIST_CONCURRENCY": "0"}, []string{"HOIST_CONCURRENCY", "from 1 to 64"}},
		{"env limit", nil, map[string]string{"HOIST_LIMIT_RATE": "fast"}, []string{"HOIST_LIMIT_RATE"}},
		{"unknown flag", []string{"--frobnicate"}, nil, []string{"--frobnicate", "hoist --help"}},
		{"flag without value", []string{"--org-id"}, nil, []string{"--org-id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t)
			for k, v := range tt.env {
				env[k] = v
			}
			msg := loadErr(t, tt.args, env)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestURLNeverShownWithQuery(t *testing.T) {
	env := testEnv(t)
	msg := loadErr(t, []string{"--url", "ftp://h/k?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIAEXAMPLE", "f"}, env)
	if strings.Contains(msg, "deadbeef") || strings.Contains(msg, "AKIAEXAMPLE") {
		t.Errorf("error shows the query: %q", msg)
	}
}

func TestTargets(t *testing.T) {
	const signed = "https://127.0.0.1:9000/b/k?X-Amz-Signature=abc123"
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want []string // substrings of the error; nil = no error
	}{
		{"url and s3 flags", "", nil, []string{"--url", signed, "--s3", "s3://b", "f"}, []string{"--url (flag)", "--s3 (flag)", "keep only one"}},
		{"url flag and s3 from file", "\ns3 = \"s3://b/p\"\n", nil, []string{"--url", signed, "f"}, []string{"--url (flag)", "--s3 (file ", "line 2)"}},
		{"manifest env and presign flag", "", map[string]string{"HOIST_MANIFEST": "m.jsonl"}, []string{"--presign-url", "https://127.0.0.1/s3"},
			[]string{"--manifest (env HOIST_MANIFEST)", "--presign-url (flag)"}},
		{"three targets", "", nil, []string{"--url", signed, "--s3", "s3://b", "--manifest", "m"}, []string{"--url (flag), --manifest (flag) and --s3 (flag)"}},
		{"url without path", "", nil, []string{"--url", signed}, []string{"--url", "PATH"}},
		{"url with two paths", "", nil, []string{"--url", signed, "a", "b"}, []string{"--url", "exactly one", "--manifest"}},
		{"manifest with paths", "", nil, []string{"--manifest", "m.jsonl", "a"}, []string{"--manifest", "PATH"}},
		{"url with one path", "", nil, []string{"--url", signed, "a"}, nil},
		{"flag clears a file target", "s3 = \"s3://b\"\n", nil, []string{"--s3=", "--url", signed, "a"}, nil},
		{"s3 alone", "", nil, []string{"--s3", "s3://bucket/some/prefix", "a", "b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t)
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.file != "" {
				defaultConfig(t, env, tt.file)
			}
			if tt.want == nil {
				mustLoad(t, tt.args, env)
				return
			}
			msg := loadErr(t, tt.args, env)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "abc123") {
				t.Errorf("error %q shows a URL's signature", msg)
			}
		})
	}
}

func TestLocalStoreIsTheDefaultTarget(t *testing.T) {
	env := testEnv(t)
	c := mustLoad(t, []string{"a"}, env)
	if want := filepath.Join(env["XDG_DATA_HOME"], "hoist", "local"); c.LocalDir != want {
		t.Errorf("LocalDir = %q, want %q", c.LocalDir, want)
	}
	if c.URL != "" || c.S3 != "" || c.Manifest != "" || c.PresignURL != "" {
		t.Errorf("a target is set: %+v", c)
	}
	if msg := loadErr(t, []string{"a"}, map[string]string{}); !strings.Contains(msg, "--local-dir") {
		t.Errorf("no home: %q does not suggest --local-dir", msg)
	}
	if c := mustLoad(t, []string{"--local-dir", "/srv/x", "a"}, map[string]string{}); c.LocalDir != "/srv/x" {
		t.Errorf("LocalDir = %q", c.LocalDir)
	}
}

func TestTokenFlagRejected(t *testing.T) {
	const secret = "s3cr3t-VALUE-991"
	for _, args := range [][]string{{"--token", secret}, {"--token=" + secret}, {"a", "--token", secret}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			msg := loadErr(t, args, testEnv(t))
			for _, w := range []string{"--token", "HOIST_TOKEN", "--token-file"} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %s", msg, w)
				}
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q shows the token", msg)
			}
		})
	}
}

func TestTokenSources(t *testing.T) {
	tests := []struct {
		name      string
		file      string // config file content
		env       string // HOIST_TOKEN
		tokenFile string // content of the --token-file file; "" = no flag
		want      string
		origin    Origin
	}{
		{"none", "", "", "", "", OriginDefault},
		{"file", "token = \"tok-file\"\n", "", "", "tok-file", OriginFile},
		{"env beats file", "token = \"tok-file\"\n", "tok-env", "", "tok-env", OriginEnv},
		{"token file beats env", "token = \"tok-file\"\n", "tok-env", "tok-tf\n", "tok-tf", OriginTokenFile},
		{"token file CRLF", "", "", "tok-crlf\r\n", "tok-crlf", OriginTokenFile},
		{"token file without newline", "", "", "tok-bare", "tok-bare", OriginTokenFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t)
			if tt.file != "" {
				defaultConfig(t, env, tt.file)
			}
			if tt.env != "" {
				env["HOIST_TOKEN"] = tt.env
			}
			var args []string
			if tt.tokenFile != "" {
				args = []string{"--token-file", writeFile(t, filepath.Join(t.TempDir(), "token"), tt.tokenFile, 0o600)}
			}
			c := mustLoad(t, args, env)
			if c.Token != tt.want || c.Origins["token"] != tt.origin {
				t.Errorf("token %q from %q, want %q from %q", c.Token, c.Origins["token"], tt.want, tt.origin)
			}
		})
	}
}

func TestTokenFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string // content "" with create=false: the file is missing
		create        bool
		want          string
	}{
		{"missing", "", false, "--token-file"},
		{"empty", "", true, "is empty"},
		{"only a newline", "\n", true, "is empty"},
		{"two lines", "tok-one\ntok-two\n", true, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if tt.create {
				writeFile(t, path, tt.content, 0o600)
			}
			msg := loadErr(t, []string{"--token-file", path}, testEnv(t))
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if tt.want != "line break" && !strings.Contains(msg, path) {
				t.Errorf("error %q does not name %s", msg, path)
			}
			if strings.Contains(msg, "tok-one") {
				t.Errorf("error %q shows the token", msg)
			}
		})
	}
}

func TestPermissionWarnings(t *testing.T) {
	if isWindows {
		t.Fatal("permission bits are not meaningful on Windows; this test assumes Unix")
	}
	tests := []struct {
		name       string
		fileMode   os.FileMode // config file, 0 = none
		fileToken  bool
		tokenMode  os.FileMode // --token-file, 0 = none
		wantWarned string      // "" = no warning
	}{
		{"config with token 0644", 0o644, true, 0, "config.toml"},
		{"config with token 0640", 0o640, true, 0, "config.toml"},
		{"config with token 0600", 0o600, true, 0, ""},
		{"config without token 0644", 0o644, false, 0, ""},
		{"token file 0644", 0, false, 0o644, "token.txt"},
		{"token file 0600", 0, false, 0o600, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t)
			var args []string
			if tt.fileMode != 0 {
				content := "org_id = \"a\"\n"
				if tt.fileToken {
					content += "token = \"tok-in-file\"\n"
				}
				writeFile(t, filepath.Join(env["XDG_CONFIG_HOME"], "hoist", "config.toml"), content, tt.fileMode)
			}
			if tt.tokenMode != 0 {
				args = []string{"--token-file", writeFile(t, filepath.Join(t.TempDir(), "token.txt"), "tok\n", tt.tokenMode)}
			}
			c := mustLoad(t, args, env)
			if tt.wantWarned == "" {
				if len(c.Warnings) != 0 {
					t.Errorf("Warnings = %q, want none", c.Warnings)
				}
				return
			}
			if len(c.Warnings) != 1 {
				t.Fatalf("Warnings = %q, want one", c.Warnings)
			}
			w := c.Warnings[0]
			if !strings.Contains(w, tt.wantWarned) || !strings.Contains(w, "readable by others") || !strings.Contains(w, "chmod 600 ") {
				t.Errorf("warning %q does not name %s and say to chmod 600", w, tt.wantWarned)
			}
			if strings.Contains(w, "tok") && !strings.Contains(w, "token") {
				t.Errorf("warning %q shows the token", w)
			}
		})
	}
}

func TestWriteShowsOriginsNotSecrets(t *testing.T) {
	const secret = "hoist-test-token-Zq81xWv"
	tests := []struct {
		name      string
		setup     func(t *testing.T, env map[string]string) []string
		tokenLine string
	}{
		{"env", func(t *testing.T, env map[string]string) []string {
			env["HOIST_TOKEN"] = secret
			return nil
		}, "(set, from env HOIST_TOKEN)"},
		{"config file", func(t *testing.T, env map[string]string) []string {
			defaultConfig(t, env, "org_id = \"acme\"\ntoken = \""+secret+"\"\n")
			return nil
		}, "(set, from file "},
		{"token file", func(t *testing.T, env map[string]string) []string {
			return []string{"--token-file", writeFile(t, filepath.Join(t.TempDir(), "tok"), secret+"\n", 0o600)}
		}, "(set, from --token-file "},
		{"none", func(t *testing.T, env map[string]string) []string { return nil }, "(not set)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t)
			path := defaultConfig(t, env, "org_id = \"acme\"\n")
			args := tt.setup(t, env)
			env["HOIST_CONCURRENCY"] = "7"
			args = append(args, "--ttl-hours", "48", "--url", "https://127.0.0.1/b/k?X-Amz-Signature=cafef00d", "f.bin")
			c := mustLoad(t, args, env)

			var b strings.Builder
			c.Write(&b)
			out := b.String()
			if strings.Contains(out, secret) {
				t.Fatalf("Write shows the token:\n%s", out)
			}
			if strings.Contains(out, "cafef00d") {
				t.Errorf("Write shows a URL's signature:\n%s", out)
			}
			for _, want := range []string{
				"token ", tt.tokenLine,
				"acme", "file " + path + " line 1",
				"env HOIST_CONCURRENCY",
				"48", "flag",
				"retries", "default",
				"https://127.0.0.1/b/k?…",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("Write output lacks %q:\n%s", want, out)
				}
			}
			for _, s := range settings {
				if !strings.Contains(out, "\n"+s.name+" ") {
					t.Errorf("Write output has no row for %s", s.name)
				}
			}
		})
	}
}

func TestRedact(t *testing.T) {
	c := &Config{Token: "tok-Zq81"}
	if got := c.Redact("401: bad token tok-Zq81 (tok-Zq81)"); strings.Contains(got, "tok-Zq81") || !strings.Contains(got, "401: bad token") {
		t.Errorf("Redact = %q", got)
	}
	if got := (&Config{}).Redact("nothing to hide"); got != "nothing to hide" {
		t.Errorf("Redact without a token = %q", got)
	}
	var nilConfig *Config
	if got := nilConfig.Redact("x"); got != "x" {
		t.Errorf("nil Redact = %q", got)
	}
}

func TestHelpAndVersionSkipTheFile(t *testing.T) {
	env := testEnv(t)
	defaultConfig(t, env, "this is not toml")
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--version"}, {"--url", "x", "--help"}} {
		c := mustLoad(t, args, env)
		if c.ShowHelp == c.ShowVersion {
			t.Errorf("Load(%q): ShowHelp %v, ShowVersion %v", args, c.ShowHelp, c.ShowVersion)
		}
	}
}

func TestUsage(t *testing.T) {
	var b strings.Builder
	Usage(&b)
	out := b.String()
	want := []string{
		"hoist [flags] [PATH...]", "hoist inspect URL", "hoist serve", "hoist config",
		"--config FILE", "--token-file FILE", "--version", "-h, --help",
		"HOIST_TOKEN", "config.toml", "HOIST_ORG_ID",
		"0 ", "1 ", "2 ", "130 ",
	}
	for _, s := range settings {
		want = append(want, "--"+s.name)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("Usage lacks %q", w)
		}
	}
	if strings.Contains(out, "\n  --token ") {
		t.Errorf("Usage offers a --token flag:\n%s", out)
	}
}

func TestDirs(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		local string // "" = error
		state string
	}{
		{"xdg", map[string]string{"XDG_DATA_HOME": "/x/data", "XDG_STATE_HOME": "/x/state", "HOME": "/h"}, "/x/data/hoist/local", "/x/state/hoist"},
		{"home", map[string]string{"HOME": "/h"}, "/h/.local/share/hoist/local", "/h/.local/state/hoist"},
		{"relative xdg ignored", map[string]string{"XDG_DATA_HOME": "rel", "XDG_STATE_HOME": "rel", "HOME": "/h"}, "/h/.local/share/hoist/local", "/h/.local/state/hoist"},
		{"nothing", map[string]string{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local, err := DefaultLocalDir(lookup(tt.env))
			if local != filepath.FromSlash(tt.local) || (err != nil) != (tt.local == "") {
				t.Errorf("DefaultLocalDir = %q, %v; want %q", local, err, tt.local)
			}
			state, err := StateDir(lookup(tt.env))
			if state != filepath.FromSlash(tt.state) || (err != nil) != (tt.state == "") {
				t.Errorf("StateDir = %q, %v; want %q", state, err, tt.state)
			}
		})
	}
}

func TestLastUsedRoundTrip(t *testing.T) {
	env := testEnv(t)
	getenv := lookup(env)

	lu, err := LoadLastUsed(getenv)
	if err != nil || lu != (LastUsed{}) {
		t.Fatalf("before any save: %+v, %v; want zero, nil", lu, err)
	}
	for _, want := range []LastUsed{
		{OrgID: "acme", UserID: "u-1", TTLHours: 48},
		{OrgID: "other \"quoted\" org", UserID: "", TTLHours: 8760},
	} {
		if err := SaveLastUsed(getenv, want); err != nil {
			t.Fatal(err)
		}
		got, err := LoadLastUsed(getenv)
		if err != nil || got != want {
			t.Errorf("LoadLastUsed = %+v, %v; want %+v", got, err, want)
		}
	}

	dir := filepath.Join(env["XDG_STATE_HOME"], "hoist")
	info, err := os.Stat(filepath.Join(dir, "last.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !isWindows && info.Mode().Perm() != 0o600 {
		t.Errorf("last.toml mode %v, want 0600", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only last.toml (no temp files left)", len(entries))
	}

	// Without XDG_STATE_HOME it lives under ~/.local/state.
	delete(env, "XDG_STATE_HOME")
	if err := SaveLastUsed(lookup(env), LastUsed{OrgID: "home"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(env["HOME"], ".local", "state", "hoist", "last.toml")); err != nil {
		t.Errorf("fallback location: %v", err)
	}
}

func TestLastUsedBadFile(t *testing.T) {
	env := testEnv(t)
	path := filepath.Join(env["XDG_STATE_HOME"], "hoist", "last.toml")

	writeFile(t, path, "org_id = \"a\"\nttl_hours = 99999\n", 0o600)
	lu, err := LoadLastUsed(lookup(env))
	if err != nil || lu.OrgID != "a" || lu.TTLHours != 0 {
		t.Errorf("out-of-range TTL: %+v, %v; want OrgID a and TTL dropped", lu, err)
	}

	writeFile(t, path, "org_id = \n", 0o600)
	if _, err := LoadLastUsed(lookup(env)); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("malformed file: error %v does not name %s", err, path)
	}
}

// The key-line probe depends on how BurntSushi/toml reports Unmarshaler errors; if an
// upgrade changes that, errors would lose their line numbers, so pin it here.
func TestKeyLinesFollowTheFile(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(dir, "c.toml"), "# comment\n\norg_id = \"a\"\nuser_id = \"b\"\n\n\nttl_hours = 5\n", 0o600)
	cf, err := readConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range cf.values {
		got = append(got, fmt.Sprintf("%s:%d", v.key, v.line))
	}
	if want := "org_id:3 user_id:4 ttl_hours:7"; strings.Join(got, " ") != want {
		t.Errorf("keys and lines = %q, want %q", strings.Join(got, " "), want)
	}
}

// Metadata is checked by the engine's one rule at load time, naming the
// setting and where it came from: a value no request could carry is a usage
// error, not three "network" retries later.
func TestMetadataValidatedAtLoad(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--org-id", "acme\nx", "a.txt"}, nil, "--org-id (from flag): letters, digits and ASCII punctuation only"},
		{[]string{"--user-id", strings.Repeat("u", 300), "a.txt"}, nil, "--user-id (from flag): at most 256 characters"},
		{[]string{"a.txt"}, map[string]string{"HOIST_ORG_ID": "tab\there"}, "--org-id (from env HOIST_ORG_ID)"},
	}
	for _, c := range cases {
		env := testEnv(t)
		for k, v := range c.env {
			env[k] = v
		}
		_, err := Load(c.args, lookup(env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.args, err, c.want)
		}
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %T is not a usage error (exit 2)", c.args, err)
		}
	}
	if _, err := Load([]string{"--org-id", "acme-1", "--user-id", "u.7@x", "--ttl-hours", "48", "a.txt"}, lookup(testEnv(t))); err != nil {
		t.Errorf("valid metadata refused: %v", err)
	}
}

func TestRerunRecordsWhereFilesWentWithoutSecrets(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	home := t.TempDir()
	c, err := Load([]string{"--s3", "s3://bkt/in", "--endpoint-url", "http://127.0.0.1:9000", "--concurrency", "4", "--retries", "2",
		"--org-id", "acme", "--json", "--shard", "1/4", "a.txt"}, env(map[string]string{"HOME": home, "HOIST_LIMIT_RATE": "1M"}))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Rerun()
	want := map[string]string{"s3": "s3://bkt/in", "endpoint-url": "http://127.0.0.1:9000", "local-dir": filepath.Join(home, ".local/share/hoist/local"),
		"concurrency": "4", "retries": "2", "limit-rate": "1000000"}
	if !maps.Equal(got, want) {
		t.Errorf("Rerun() = %v\nwant %v", got, want)
	}

	c, err = Load([]string{"--url", "https://b.example/k?X-Amz-Signature=abc", "a.txt"}, env(map[string]string{"HOME": home}))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Rerun()["url"]; !ok || v != "" {
		t.Errorf("a presigned URL is recorded as set but withheld, got %q %v", v, ok)
	}
}

// hoist config shows what the TUI's form will offer: last time's metadata
// where nothing else set it, marked as such; what the person set wins.
func TestPrefillLastUsedShowsInWrite(t *testing.T) {
	env := testEnv(t)
	getenv := lookup(env)
	if err := SaveLastUsed(getenv, LastUsed{OrgID: "acme", UserID: "u-1", TTLHours: 48}); err != nil {
		t.Fatal(err)
	}
	env["HOIST_USER_ID"] = "env-user"
	c, err := Load([]string{"--ttl-hours", "2"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PrefillLastUsed(getenv); err != nil {
		t.Fatal(err)
	}
	if c.OrgID != "acme" || c.UserID != "env-user" || c.TTLHours != 2 || c.Origins["org-id"] != OriginState {
		t.Errorf("prefilled %q %q %d, origins %v", c.OrgID, c.UserID, c.TTLHours, c.Origins)
	}
	var b strings.Builder
	c.Write(&b)
	out := b.String()
	last := filepath.Join(env["XDG_STATE_HOME"], "hoist", "last.toml")
	for _, want := range []string{"acme", "last upload " + last + " (the form's prefill)", "env-user", "env HOIST_USER_ID"} {
		if !strings.Contains(out, want) {
			t.Errorf("hoist config lacks %q:\n%s", want, out)
		}
	}
}
