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
		{"minio auth conflict", 400, nil, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidRequest</Code><Message>Invalid Request (request has multiple authentication types, please use one)</Message><Key>a.txt</Key><BucketName>uploads</BucketName><Resource>/uploads/a.txt</Resource></Error>`,
			"InvalidRequest", "", false, false, true},
		{"other invalid request", 400, nil, `<Error><Code>InvalidRequest</Code><Message>Missing required header for this request: Content-Md5.</Message></Error>`,
			"InvalidRequest", "", false, false, false},
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

// Refusals are explained against what was really signed: hoist's own
// credentials and region in --s3 mode, the file's CRC32 when a given URL
// signs it, the metadata otherwise.
func TestHintAgainstWhatWasSigned(t *testing.T) {
	signer := &Signer{Credentials: `AWS profile "dev" in /home/a/.aws/credentials`, Region: "us-east-1"}
	signs := func(headers string) string {
		return "https://s3.eu-west-1.amazonaws.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=" + headers
	}
	crcHeader := http.Header{"X-Amz-Checksum-Crc32": {"NhCmhg=="}}
	awsRegion := `<Error><Code>AuthorizationQueryParametersError</Code><Message>Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message></Error>`
	for _, c := range []struct {
		name      string
		status    int
		body      string
		target    Target
		want, not []string
	}{
		{"--s3 wrong secret", 403, `<Error><Code>SignatureDoesNotMatch</Code></Error>`, Target{Signer: signer},
			[]string{`AWS profile "dev"`, "secret access key"}, []string{"--org-id", "inspect"}},
		{"--s3 unknown key (versitygw)", 404, `<Error><Code>XAdminUserNotFound</Code></Error>`, Target{Signer: signer},
			[]string{"does not know the access key id", `AWS profile "dev"`}, nil},
		{"--s3 wrong region", 400, awsRegion, Target{Signer: signer},
			[]string{"use --region eu-west-1", "signed for us-east-1"}, []string{"ask for"}},
		{"--s3 wrong region (MinIO presigned)", 400, `<Error><Code>MissingFields</Code><Message>Missing fields in request.</Message></Error>`, Target{Signer: signer},
			[]string{"--region", "us-east-1"}, nil},
		{"given URL, wrong region", 400, awsRegion, Target{URL: signs("host")},
			[]string{"ask for a URL signed for region eu-west-1"}, []string{"--region"}},
		{"given URL signing the CRC32", 403, `<Error><Code>SignatureDoesNotMatch</Code></Error>`, Target{URL: signs("host%3Bx-amz-checksum-crc32"), Header: crcHeader},
			[]string{"CRC32", "NhCmhg==", "the file the URL was made for"}, []string{"--org-id"}},
		{"given URL signing the CRC32 and metadata", 403, `<Error><Code>SignatureDoesNotMatch</Code></Error>`,
			Target{URL: signs("host%3Bx-amz-checksum-crc32%3Bx-amz-meta-user-id"), Header: crcHeader},
			[]string{"CRC32", "if it is, check that --org-id"}, nil},
		{"given URL signing metadata only", 403, `<Error><Code>SignatureDoesNotMatch</Code></Error>`, Target{URL: signs("host%3Bx-amz-meta-user-id")},
			[]string{"--org-id"}, []string{"CRC32"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := explainServer(ParseServerError(c.status, nil, []byte(c.body)), c.target)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(msg, w) {
					t.Errorf("%q says %q", msg, w)
				}
			}
		})
	}
}
