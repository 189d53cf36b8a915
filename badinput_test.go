package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// contactLog is a server that must not be contacted: it counts every
// request, except those to paths a case says it expects.
type contactLog struct {
	*httptest.Server
	mu         sync.Mutex
	unexpected map[string]int // path → requests
	handlers   map[string]http.HandlerFunc
}

func newContactLog(t *testing.T) *contactLog {
	t.Helper()
	c := &contactLog{unexpected: map[string]int{}, handlers: map[string]http.HandlerFunc{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path
		if r.URL.Host != "" {
			key = r.URL.Host + key // a proxy request names its host
		}
		if r.Method == http.MethodConnect {
			key = "CONNECT " + r.Host
		}
		c.mu.Lock()
		h, ok := c.handlers[r.URL.Path]
		if !ok {
			c.unexpected[key]++
		}
		c.mu.Unlock()
		if ok {
			h(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *contactLog) handle(path string, h http.HandlerFunc) {
	c.mu.Lock()
	c.handlers[path] = h
	c.mu.Unlock()
}

func (c *contactLog) contacts(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.unexpected {
		if strings.Contains(k, prefix) {
			n += v
		}
	}
	return n
}

// badCase is one thing a person can get wrong, and what hoist must say.
type badCase struct {
	name string
	args []string
	env  []string
	code int
	want []string // each in stdout+stderr
	// otherUser runs hoist as an unprivileged user when the tests run as
	// root, for whom no file is unreadable.
	otherUser bool
	check     func(t *testing.T, r result)
}

// TestBadInput: each mistake gets its exit code and a message naming what
// is wrong; nothing is reported uploaded, no server is contacted unless the
// case needs it, and no secret is shown.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // for the case run as another user
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	file, _ := writeTemp(t, dir, "ok.txt", 10)
	empty, _ := writeTemp(t, dir, "empty.txt", 0)
	folder := filepath.Join(dir, "folder")
	writeTemp(t, folder, "a.txt", 3)
	writeTemp(t, folder, "sub/b.txt", 3)
	longName, _ := writeTemp(t, dir, strings.Repeat("l", 226)+".bin", 10) // 230 bytes: too long for the local store's metadata file
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	unreadable, _ := writeTemp(t, dir, "secret-plans.txt", 10)
	if err := os.Chmod(unreadable, 0o000); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.iso")
	if f, err := os.Create(huge); err != nil {
		t.Fatal(err)
	} else {
		_ = f.Truncate(5<<30 + 1) // sparse: 5 GiB and a byte, no disk used
		f.Close()
	}
	giant := filepath.Join(dir, "giant.img")
	if f, err := os.Create(giant); err != nil {
		t.Fatal(err)
	} else {
		if err := f.Truncate(5<<40 + 1); err != nil { // sparse: 5 TiB and a byte
			t.Fatal(err)
		}
		f.Close()
	}
	growing, _ := writeTemp(t, dir, "growing.log", 10)
	shrinking, _ := writeTemp(t, dir, "shrinking.bin", 32<<20)

	// Loopback servers that record any contact; the tripwire stands in as
	// the HTTP proxy, so a request to any other host reaches it instead of
	// the network.
	srv := newContactLog(t)
	tripwire := newContactLog(t)
	var emptyBody atomic.Value
	srv.handle("/uploads/empty.txt", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		emptyBody.Store(struct {
			n      int
			length int64
			te     []string
		}{len(b), r.ContentLength, r.TransferEncoding})
		w.Header().Set("ETag", `"empty"`)
	})
	srv.handle("/uploads/growing.log", func(w http.ResponseWriter, r *http.Request) {
		f, _ := os.OpenFile(growing, os.O_APPEND|os.O_WRONLY, 0)
		_, _ = f.WriteString("one more line\n")
		f.Close()
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"grown"`)
	})
	srv.handle("/uploads/shrinking.bin", func(w http.ResponseWriter, r *http.Request) {
		_ = os.Truncate(shrinking, 1<<20)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"shrunk"`)
	})
	urlFor := func(key string) string { return presign(t, srv.URL, key, time.Hour) }
	okURL := urlFor("ok.txt")
	withQuery := func(raw string, edit func(q url.Values)) string {
		u, _ := url.Parse(raw)
		q := u.Query()
		edit(q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	expired := presignAt(t, srv.URL, "ok.txt", time.Second, time.Now().Add(-time.Minute))
	unsigned := withQuery(okURL, func(q url.Values) { q.Del("X-Amz-Signature") })
	tooLong := withQuery(okURL, func(q url.Values) { q.Set("X-Amz-Expires", "604801") })
	badEscape := okURL + "&x-id=Put%zzObject"
	otherCRC := withQuery(okURL, func(q url.Values) { q.Set("x-amz-checksum-crc32", "AAAAAQ==") })
	remoteHTTP := strings.Replace(urlFor("remote.txt"), srv.URL, "http://uploads.example", 1)

	manifest := func(name string, lines ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	line := func(path, u string) string {
		b, _ := json.Marshal(map[string]string{"path": path, "url": u})
		return string(b)
	}
	config := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := config("token-empty", "")
	const token = "tok_badinput_7c1e0d9a2b"
	const knfKey = "kf_badinput_3f9a1c77e0"
	const knfLinkKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

	meta3 := func(args ...string) []string { return append(args, meta...) }
	cases := []badCase{
		// What is not a mistake, for contrast.
		{name: "help", args: []string{"--help"}, code: 0, want: []string{"hoist inspect URL", "--url"}},
		{name: "version", args: []string{"--version"}, code: 0, want: []string{"hoist"}},

		// Flags and settings.
		{name: "unknown flag", args: []string{"--no-tui", "--frobnicate", file}, code: 2, want: []string{"frobnicate", "--help"}},
		{name: "token as a flag", args: []string{"--token", "abc", file}, code: 2, want: []string{"--token", "HOIST_TOKEN", "--token-file"}},
		{name: "non-numeric ttl", args: []string{"--no-tui", "--ttl-hours", "abc", file}, code: 2, want: []string{"--ttl-hours", `"abc"`, "1 to 8760"}},
		{name: "negative ttl", args: []string{"--no-tui", "--ttl-hours", "-3", file}, code: 2, want: []string{"--ttl-hours", `"-3"`, "1 to 8760"}},
		{name: "ttl over a year", args: []string{"--no-tui", "--ttl-hours", "9000", file}, code: 2, want: []string{"--ttl-hours", "8760"}},
		{name: "zero concurrency", args: []string{"--no-tui", "--concurrency", "0", file}, code: 2, want: []string{"--concurrency", "1 to 64"}},
		{name: "too many retries", args: []string{"--no-tui", "--retries", "99", file}, code: 2, want: []string{"--retries", "0 to 20"}},
		{name: "rate not a size", args: []string{"--no-tui", "--limit-rate", "fast", file}, code: 2, want: []string{"--limit-rate", `"fast"`}},
		{name: "stall timeout too short", args: []string{"--no-tui", "--stall-timeout", "10ms", file}, code: 2, want: []string{"--stall-timeout", "at least 1s"}},
		{name: "part size too small", args: []string{"--no-tui", "--part-size", "1KiB", file}, code: 2, want: []string{"--part-size", "5MiB"}},
		{name: "bool flag not a bool", args: []string{"--json=maybe", file}, code: 2, want: []string{"--json", "true or false"}},
		{name: "bad environment value", args: []string{"--no-tui", file}, env: []string{"HOIST_CONCURRENCY=lots"}, code: 2, want: []string{"HOIST_CONCURRENCY", `"lots"`}},
		{name: "token with a line break", args: []string{"--no-tui", file}, env: []string{"HOIST_TOKEN=" + token + "\nX-Evil: 1"}, code: 2, want: []string{"HOIST_TOKEN", "single line"}},
		{name: "empty token file", args: []string{"--no-tui", "--token-file", tokenFile, file}, code: 2, want: []string{"--token-file", "empty"}},
		{name: "missing token file", args: []string{"--no-tui", "--token-file", filepath.Join(dir, "no-token"), file}, code: 2, want: []string{"--token-file", "no-token"}},
		{name: "malformed config", args: []string{"--no-tui", "--config", config("broken.toml", "org_id = \"acme\"\nttl_hours = = 3\n"), file}, code: 2, want: []string{"broken.toml line 2", "TOML"}},
		{name: "config unknown key", args: []string{"--no-tui", "--config", config("unknown.toml", "org_id = \"acme\"\nspeed = 3\n"), file}, code: 2, want: []string{"unknown.toml line 2", `"speed"`, "unknown key"}},
		{name: "config wrong type", args: []string{"--no-tui", "--config", config("type.toml", "ttl_hours = \"two days\"\n"), file}, code: 2, want: []string{"type.toml line 1", "ttl_hours", "want a whole number"}},
		{name: "missing config file", args: []string{"--no-tui", "--config", filepath.Join(dir, "none.toml"), file}, code: 2, want: []string{"none.toml", "does not exist"}},
		{name: "nothing to upload", args: []string{"--no-tui"}, code: 2, want: []string{"nothing to upload"}},
		{name: "two destinations", args: []string{"--no-tui", "--url", okURL, "--s3", "s3://bucket", file}, code: 2, want: []string{"--url", "--s3", "keep only one"}},
		{name: "s3 location without scheme", args: []string{"--no-tui", "--s3", "bucket-without-scheme", file}, code: 2, want: []string{"s3://"}},

		// Files.
		{name: "missing file", args: []string{"--no-tui", filepath.Join(dir, "nope.txt")}, code: 2, want: []string{"nope.txt", "no such file"}},
		{name: "missing file for a URL", args: meta3("--no-tui", "--url", okURL, filepath.Join(dir, "nope.txt")), code: 2, want: []string{"nope.txt", "no such file"}},
		{name: "directory for a URL", args: meta3("--no-tui", "--url", okURL, folder), code: 2, want: []string{"folder", "directory", "one file"}},
		{name: "unreadable file", args: meta3("--no-tui", "--manifest", manifest("unreadable.jsonl", line(file, okURL), line(unreadable, urlFor("secret-plans.txt")))),
			otherUser: true, code: 2, want: []string{"secret-plans.txt", "permission denied"}},
		{name: "fifo", args: []string{"--no-tui", fifo}, code: 2, want: []string{"pipe", "FIFO"}},
		{name: "fifo for a URL", args: meta3("--no-tui", "--url", okURL, fifo), code: 2, want: []string{"pipe", "FIFO"}},
		{name: "name too long for the local store", args: []string{"--no-tui", longName}, code: 2, want: []string{"230 bytes long", "local store"}},
		{name: "size unknown to the kernel", args: []string{"--no-tui", "/proc/cpuinfo"}, code: 2, want: []string{"/proc/cpuinfo", "size is not known"}},
		{name: "size unknown for a URL", args: meta3("--no-tui", "--url", okURL, "/proc/cpuinfo"), code: 2, want: []string{"/proc/cpuinfo", "size is not known"}},
		{name: "empty file", args: meta3("--no-tui", "--url", urlFor("empty.txt"), empty), code: 0, want: []string{"empty.txt", "1 uploaded"},
			check: func(t *testing.T, r result) {
				got, _ := emptyBody.Load().(struct {
					n      int
					length int64
					te     []string
				})
				if got.n != 0 || got.length != 0 || len(got.te) != 0 {
					t.Errorf("the server got %+v, want an empty body with Content-Length: 0", got)
				}
			}},
		{name: "file grows during upload", args: meta3("--no-tui", "--url", urlFor("growing.log"), growing), code: 1, want: []string{"growing.log", "changed while it was being uploaded", "0 uploaded, 1 failed"}},
		{name: "file shrinks during upload", args: meta3("--no-tui", "--url", urlFor("shrinking.bin"), shrinking), code: 1, want: []string{"shrinking.bin", "changed while it was being uploaded", "0 uploaded, 1 failed"}},
		{name: "over 5 TiB for --s3", args: meta3("--no-tui", "--s3", "s3://uploads", "--endpoint-url", srv.URL, giant),
			env:  []string{"AWS_ACCESS_KEY_ID=AKIATESTCREDENTIAL01", "AWS_SECRET_ACCESS_KEY=secretkeysecretkeysecretkey", "AWS_REGION=auto"},
			code: 2, want: []string{"giant.img", "5.0 TiB", "S3 stores in one object", "split", "nothing was uploaded"}},
		{name: "over 5 GiB for one URL", args: meta3("--no-tui", "--url", urlFor("huge.iso"), huge), code: 2, want: []string{"huge.iso", "5.0 GiB", "--s3"}},

		// URLs.
		{name: "malformed URL", args: meta3("--no-tui", "--url", "http://exa mple.com/b/k", file), code: 2, want: []string{"--url", "http:// or https://"}},
		{name: "not an http URL", args: meta3("--no-tui", "--url", "ftp://files.example/b/k", file), code: 2, want: []string{"--url", "http:// or https://"}},
		{name: "URL missing X-Amz-Signature", args: meta3("--no-tui", "--url", unsigned, file), code: 2, want: []string{"ok.txt", "X-Amz-Signature", "nothing was uploaded"}},
		{name: "expired URL", args: meta3("--no-tui", "--url", expired, file), code: 2, want: []string{"ok.txt", "expired", "new URL", "nothing was uploaded"}},
		{name: "URL valid over 7 days", args: meta3("--no-tui", "--url", tooLong, file), code: 2, want: []string{"ok.txt", "604800", "nothing was uploaded"}},
		{name: "URL with a broken escape", args: meta3("--no-tui", "--url", badEscape, file), code: 2, want: []string{"ok.txt", "%-escape", "copy it again"}},
		{name: "missing org id", args: []string{"--no-tui", "--url", okURL, "--user-id", "user-2", "--ttl-hours", "48", file}, code: 2, want: []string{"ok.txt", "x-amz-meta-organization-id", "--org-id"}},
		{name: "URL pins another checksum", args: meta3("--no-tui", "--url", otherCRC, file), code: 2, want: []string{"ok.txt", "different content", "nothing was uploaded"}},
		{name: "http to another machine with a token", args: meta3("--no-tui", "--url", remoteHTTP, file), env: []string{"HOIST_TOKEN=" + token}, code: 2, want: []string{"ok.txt", "plain http", "uploads.example", "https://", "nothing was uploaded"}},
		{name: "URL without a file", args: []string{"--no-tui", "--url", okURL}, code: 2, want: []string{"--url", "PATH"}},
		{name: "URL with two files", args: meta3("--no-tui", "--url", okURL, file, empty), code: 2, want: []string{"--url", "exactly one file", "--manifest"}},

		// Manifests.
		{name: "manifest line not JSON", args: meta3("--no-tui", "--manifest", manifest("notjson.jsonl", line(file, okURL), "not json")), code: 2, want: []string{"notjson.jsonl line 2", "not a JSON object"}},
		{name: "manifest bare URL", args: meta3("--no-tui", "--manifest", manifest("bare.jsonl", okURL)), code: 2, want: []string{"bare.jsonl line 1", "bare URL"}},
		{name: "manifest unknown field", args: meta3("--no-tui", "--manifest", manifest("field.jsonl", `{"path":"ok.txt","url":"`+okURL+`","size":10}`)), code: 2, want: []string{"field.jsonl line 1", `"size"`}},
		{name: "manifest line without url", args: meta3("--no-tui", "--manifest", manifest("nourl.jsonl", `{"path":"ok.txt"}`)), code: 2, want: []string{"nourl.jsonl line 1", `"url" is missing`}},
		{name: "manifest names a file twice", args: meta3("--no-tui", "--manifest", manifest("twice.jsonl", line(file, okURL), line(file, okURL))), code: 2, want: []string{"twice.jsonl line 2", "already on line 1"}},
		{name: "manifest names a missing file", args: meta3("--no-tui", "--manifest", manifest("gone.jsonl", line(filepath.Join(dir, "gone.txt"), okURL))), code: 2, want: []string{"gone.txt", "no such file"}},
		{name: "manifest names a directory", args: meta3("--no-tui", "--manifest", manifest("dir.jsonl", line(folder, okURL))), code: 2, want: []string{"folder", "directory", "one file"}},
		{name: "missing manifest", args: []string{"--no-tui", "--manifest", filepath.Join(dir, "none.jsonl")}, code: 2, want: []string{"none.jsonl", "no such file"}},

		// Konfidant: the API key, the API's address, the TTL, the link.
		{name: "konfidant without a key", args: []string{"--no-tui", "--konfidant", file}, code: 2, want: []string{"API key", "KONFIDANT_API_KEY", "HOIST_TOKEN", "--token-file"}},
		{name: "konfidant api-url not http", args: []string{"--no-tui", "--konfidant", "--api-url", "ftp://konfidant.example", file}, env: []string{"KONFIDANT_API_KEY=" + knfKey}, code: 2, want: []string{"--api-url", "http"}},
		{name: "konfidant api-url plain http to another host", args: []string{"--no-tui", "--konfidant", "--api-url", "http://konfidant.example", file}, env: []string{"KONFIDANT_API_KEY=" + knfKey}, code: 2, want: []string{"plain http", "unencrypted", "https://"}},
		{name: "konfidant ttl 0", args: []string{"--no-tui", "--konfidant", "--ttl-hours", "0", file}, env: []string{"KONFIDANT_API_KEY=" + knfKey}, code: 2, want: []string{"--ttl-hours", "1 to 8760"}},
		{name: "konfidant ttl above 8760", args: []string{"--no-tui", "--konfidant", "--ttl-hours", "8761", file}, env: []string{"KONFIDANT_API_KEY=" + knfKey}, code: 2, want: []string{"--ttl-hours", "1 to 8760"}},
		{name: "konfidant unknown protocol", args: []string{"--no-tui", "--konfidant", "--konfidant-protocol", "rot13", file}, env: []string{"KONFIDANT_API_KEY=" + knfKey}, code: 2, want: []string{"--konfidant-protocol", "encrypted or plain"}},
		{name: "konfidant and another target", args: []string{"--no-tui", "--konfidant", "--s3", "s3://bucket", file}, env: []string{"KONFIDANT_API_KEY=" + knfKey}, code: 2, want: []string{"--konfidant", "--s3", "keep only one"}},
		{name: "konfidant api-rate above the API's maximum", args: []string{"--no-tui", "--konfidant", "--api-rate", "241", file}, env: []string{"KONFIDANT_API_KEY=" + knfKey}, code: 2, want: []string{"--api-rate", "1 to 240"}},
		{name: "save-links into a missing folder", args: []string{"--no-tui", "--konfidant", "--save-links", filepath.Join(dir, "no", "links.txt"), file}, env: []string{"KONFIDANT_API_KEY=" + knfKey}, code: 2, want: []string{"--save-links", "no such file"}},
		{name: "open a link without #t=", args: []string{"open", "https://konfidant.example/#k=" + knfLinkKey}, code: 2, want: []string{"no #t="}},
		{name: "open a link without k=", args: []string{"open", "https://konfidant.example/#t=tok"}, code: 2, want: []string{"no k="}},
		{name: "open a link with a malformed key", args: []string{"open", "https://konfidant.example/#t=tok&k=" + knfLinkKey[:40]}, code: 2, want: []string{"key (k=) is malformed"}},
		{name: "open into a missing folder", args: []string{"open", "-o", filepath.Join(dir, "nowhere"), "https://konfidant.example/#t=tok&k=" + knfLinkKey}, code: 2, want: []string{"nowhere", "no such file", "the link was not used"}},

		// hoist inspect.
		{name: "inspect without a URL", args: []string{"inspect"}, code: 2, want: []string{"URL"}},
		{name: "inspect an expired URL", args: []string{"inspect", expired}, code: 1, want: []string{"expired"}},
		{name: "inspect not a URL", args: []string{"inspect", "ftp://x/y"}, code: 2, want: []string{"http"}},
		{name: "inspect with a directory", args: []string{"inspect", okURL, folder}, code: 2, want: []string{"folder", "directory", "one file"}},
	}
	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}
	secrets := append(secretsOf(t, okURL), append(secretsOf(t, remoteHTTP), token, "s3cr3tsig", knfKey, knfLinkKey)...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := append([]string{"HTTP_PROXY=" + tripwire.URL, "HTTPS_PROXY=" + tripwire.URL, "NO_PROXY="}, c.env...)
			cmd := hoistCmd(t, env, c.args...)
			if c.otherUser {
				asOtherUser(t, cmd)
			}
			before := srv.contacts("")
			r := runCmd(t, cmd)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stdout+r.stderr, w) {
					t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", w, r.stdout, r.stderr)
				}
			}
			if c.code != 0 {
				if strings.Contains(r.stdout, "✓") || strings.Contains(r.stdout, `"event":"done"`) ||
					(strings.Contains(r.stdout, "uploaded") && !strings.Contains(r.stdout, "0 uploaded")) {
					t.Errorf("partial success reported: %s", r.stdout)
				}
				if n := srv.contacts("") - before; n > 0 {
					t.Errorf("the server was contacted %d times", n)
				}
			}
			if n := tripwire.contacts(""); n > 0 {
				t.Errorf("hoist reached for the network: %d requests via the proxy", n)
			}
			assertClean(t, r, secrets...)
			if strings.Contains(r.stdout+r.stderr, "X-Evil") {
				t.Errorf("a line of the token was echoed")
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// asOtherUser makes cmd run as nobody when the tests run as root: root reads
// any file, so "permission denied" needs another user. The test binary is
// copied where that user may run it, and hoist's home opened to it.
func asOtherUser(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	bin := t.TempDir()
	for _, d := range []string{filepath.Dir(bin), bin} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, os.Args[0], filepath.Join(bin, "hoist"), 0o755)
	cmd.Path = filepath.Join(bin, "hoist")
	cmd.Args[0] = cmd.Path
	home := envValue(cmd, "HOME")
	for _, d := range []string{filepath.Dir(home), home} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, NoSetGroups: true}}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
