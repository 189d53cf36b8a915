package uploader

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseServerError(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name        string
		status      int
		header      http.Header
		body        string
		code, msg   string
		retryable   bool
		expired     bool
		authConflit bool
	}{
		{"versitygw expired", 403, nil, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Request has expired.</Message><Resource></Resource><RequestId></RequestId><HostId></HostId></Error>`,
			"AccessDenied", "Request has expired.", false, true, false},
		{"slowdown", 503, nil, `<Error><Code>SlowDown</Code><Message>Please reduce
   your request rate.</Message></Error>`, "SlowDown", "Please reduce your request rate.", true, false, false},
		{"aws auth conflict", 400, nil, `<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>`,
			"InvalidArgument", "", false, false, true},
		{"versitygw 411", 411, nil, `<Error><Code>MissingContentLength</Code><Message>You must provide the Content-Length HTTP header.</Message></Error>`,
			"MissingContentLength", "You must provide the Content-Length HTTP header.", false, false, false},
		{"json error (Companion)", 500, nil, `{"error":"could not sign"}`, "", "could not sign", true, false, false},
		{"json error and message (Konfidant)", 409, nil, `{"error":"upload_incomplete","message":"The upload has not completed"}`, "upload_incomplete", "The upload has not completed", false, false, false},
		{"empty 502", 502, nil, ``, "", "", true, false, false},
		{"html 404", 404, nil, `<html><body>nope</body></html>`, "", "", false, false, false},
		{"header code", 403, http.Header{"X-Amz-Error-Code": {"AccessDenied"}}, ``, "AccessDenied", "", false, false, false},
		{"request timeout 400", 400, nil, `<Error><Code>RequestTimeout</Code><Message>x</Message></Error>`, "RequestTimeout", "x", true, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := ParseServerError(c.status, c.header, []byte(c.body))
			if e.Code != c.code || (c.msg != "" && e.Message != c.msg) {
				t.Errorf("got code %q msg %q", e.Code, e.Message)
			}
			if e.Retryable() != c.retryable || e.expired() != c.expired || e.authConflict() != c.authConflit {
				t.Errorf("retryable=%v expired=%v authConflict=%v", e.Retryable(), e.expired(), e.authConflict())
			}
		})
	}
	if d := parseRetryAfter("7", now); d != 7*time.Second {
		t.Errorf("Retry-After 7 → %v", d)
	}
	if d := parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now); d != 90*time.Second {
		t.Errorf("Retry-After date → %v", d)
	}
	if d := parseRetryAfter("soon", now); d != 0 {
		t.Errorf("Retry-After soon → %v", d)
	}
}

func TestExplain411(t *testing.T) {
	e := ParseServerError(411, nil, []byte(`<Error><Code>MissingContentLength</Code><Message>You must provide the Content-Length HTTP header.</Message></Error>`))
	msg := explain(e, Target{}, 0).Error()
	if !strings.Contains(msg, "Content-Length") || !strings.Contains(msg, "411") {
		t.Errorf("explanation %q", msg)
	}
}

func TestExplainEmptyBodyChecksum(t *testing.T) {
	e := ParseServerError(400, nil, []byte(`<Error><Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated checksum.</Message></Error>`))
	msg := explain(e, Target{PinnedCRC32: "AAAAAA=="}, 0).Error()
	if !strings.Contains(msg, "EMPTY body") || !strings.Contains(msg, "presigned without a checksum") {
		t.Errorf("explanation %q", msg)
	}
}

func FuzzParseServerError(f *testing.F) {
	f.Add(403, `<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>`)
	f.Add(503, `<Error><Code>SlowDown</Code></Error>`)
	f.Add(500, `{"error": "boom"}`)
	f.Add(400, `<Error><Code>`+strings.Repeat("A", 500)+`</Code><Message>`+strings.Repeat("é", 400)+`</Message></Error>`)
	f.Add(200, "<")
	f.Add(403, `<Error><Code>SignatureDoesNotMatch</Code><Message>for X-Amz-Signature=0123abcd&amp;X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fauto%2Fs3%2Faws4_request auth Bearer tok_1</Message></Error>`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		e := ParseServerError(status, nil, []byte(body))
		s := e.Error()
		if strings.ContainsAny(s, "\n\r") {
			t.Fatalf("multi-line error %q", s)
		}
		if len(e.Code) > 70 || len(e.Message) > 310 {
			t.Fatalf("unbounded code/message: %d/%d", len(e.Code), len(e.Message))
		}
		if utf8.ValidString(body) && !utf8.ValidString(s) {
			t.Fatalf("truncation broke UTF-8: %q", s)
		}
		_ = explain(e, Target{}, 0).Error()
		assertEchoScrubbed(t, s)
	})
}
