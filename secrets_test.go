package main

import (
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A server that echoes the request in a well-formed S3 error (the query
// XML-escaped, the Authorization header, the credential as SigV4 spells it)
// must not make hoist print any of it, in either output mode.
func TestServerEchoNeverReachesOutput(t *testing.T) {
	const token = "tok_live_echo_9f8e7d6c5b4a"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		cred, _ := url.QueryUnescape(r.URL.Query().Get("X-Amz-Credential"))
		msg := "mismatch for " + r.URL.RawQuery + " auth " + r.Header.Get("Authorization") +
			" Credential=" + cred + " raw " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		status, code := http.StatusForbidden, "SignatureDoesNotMatch"
		if strings.HasSuffix(r.URL.Path, "busy.bin") {
			status, code = http.StatusServiceUnavailable, "SlowDown" // retried, then failed
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<Error><Code>"+code+"</Code><Message>"+html.EscapeString(msg)+"</Message></Error>")
	}))
	defer srv.Close()
	dir := t.TempDir()
	for _, name := range []string{"echo.bin", "busy.bin"} {
		p, _ := writeTemp(t, dir, name, 1000)
		u := presign(t, srv.URL, name, time.Hour)
		for _, mode := range []string{"--no-tui", "--json"} {
			r, cmd := runHoistFor(t, 30*time.Second, []string{"HOIST_TOKEN=" + token},
				append([]string{mode, "--retries", "1", "--url", u, p}, meta...)...)
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, code(name)) {
				t.Errorf("%s %s: exit %d\n%s%s", name, mode, r.code, r.stdout, r.stderr)
			}
			// The access key id and signature, whole or in part; the token
			// likewise (a 300-character cut may fall inside one).
			assertNothingLeaks(t, r, cmd, append(secretsOf(t, u), token, token[:10], "AKIATESTCRED")...)
		}
	}
}

func code(name string) string {
	if name == "busy.bin" {
		return "SlowDown"
	}
	return "SignatureDoesNotMatch"
}

// A redirect is never followed: the file and the bearer token go only to
// the host the URL names, never to the one a server points at.
func TestRedirectNeverCarriesTheToken(t *testing.T) {
	// Another host, still this machine: 127.0.0.2 is loopback too.
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.2: %v", err)
	}
	var elsewhere atomic.Int32
	other := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	})}}
	other.Start()
	defer other.Close()
	const token = "tok_live_redirect_1a2b3c4d"
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, other.URL+"/elsewhere?"+r.URL.RawQuery, status)
		}))
		p, _ := writeTemp(t, t.TempDir(), "a.bin", 1000)
		u := presign(t, srv.URL, "a.bin", time.Hour)
		r, cmd := runHoistFor(t, 30*time.Second, []string{"HOIST_TOKEN=" + token}, append([]string{"--json", "--url", u, p}, meta...)...)
		srv.Close()
		if r.code != 1 || !strings.Contains(r.stdout, "redirected") || !strings.Contains(r.stdout, "127.0.0.2") {
			t.Errorf("%d: exit %d\n%s%s", status, r.code, r.stdout, r.stderr)
		}
		if e := summaryOf(t, parseEvents(t, r.stdout)); e.Uploaded != 0 || e.Failed != 1 {
			t.Errorf("%d: summary %+v", status, e)
		}
		assertNothingLeaks(t, r, cmd, append(secretsOf(t, u), token)...)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}

// hoist config shows where the token came from, never the token.
func TestConfigNeverShowsTheToken(t *testing.T) {
	const token = "tok_live_config_5e6f7a8b"
	r, cmd := runHoistFor(t, 30*time.Second, []string{"HOIST_TOKEN=" + token}, "config")
	if r.code != 0 || !strings.Contains(r.stdout, "HOIST_TOKEN") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertNothingLeaks(t, r, cmd, token)
}
