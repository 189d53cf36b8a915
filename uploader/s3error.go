package uploader

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"hoist/inspect"
)

// ServerError is a non-2xx answer from the server, with the S3 error code and
// message when the body held an S3 XML error (or a JSON {"error": …}).
type ServerError struct {
	Status     int
	Code       string // S3 error code: AccessDenied, SignatureDoesNotMatch, …
	Message    string
	RetryAfter time.Duration // from a Retry-After header, 0 when none
}

func (e *ServerError) Error() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// NewServerError is an answer already parsed by someone else (an SDK), held
// to the same rules as ParseServerError's: one line, no secret, bounded.
func NewServerError(status int, code, message string) *ServerError {
	return &ServerError{
		Status:  status,
		Code:    truncate(scrubSecrets(oneLine(code)), 64),
		Message: truncate(scrubSecrets(oneLine(message)), 300),
	}
}

// ExplainServerError phrases a permanent answer to a request for t as the
// engine does for its own requests: what happened and what to do next. The
// error unwraps to e.
func ExplainServerError(e *ServerError, t Target) error {
	return &explained{msg: redactTarget(explainServer(e, t), t), err: e}
}

// maxErrorBody bounds what is read of an error body: S3 errors are small, and a
// misbehaving server must not make us hold a large body.
const maxErrorBody = 64 << 10

// ParseServerError reads an S3 error document (or a JSON error) from body.
// It never fails: what cannot be parsed leaves Code and Message empty, and the
// status alone speaks.
func ParseServerError(status int, header http.Header, body []byte) *ServerError {
	e := &ServerError{Status: status}
	if header != nil {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
		if e.Code == "" {
			// HEAD-style answers carry no body; some servers put the code in a header.
			e.Code = oneLine(header.Get("x-amz-error-code"))
			e.Message = oneLine(header.Get("x-amz-error-message"))
		}
	}
	trimmed := strings.TrimSpace(string(body))
	switch {
	case strings.HasPrefix(trimmed, "<"):
		var doc struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		if xml.Unmarshal([]byte(trimmed), &doc) == nil && doc.Code != "" {
			e.Code, e.Message = oneLine(doc.Code), oneLine(doc.Message)
		}
	case strings.HasPrefix(trimmed, "{"):
		var doc struct {
			Error   json.RawMessage `json:"error"`
			Message string          `json:"message"`
		}
		if json.Unmarshal([]byte(trimmed), &doc) == nil {
			var s string
			switch {
			case json.Unmarshal(doc.Error, &s) == nil && s != "" && doc.Message != "":
				// {"error": code, "message": text}, as Konfidant's API answers.
				e.Code, e.Message = oneLine(s), oneLine(doc.Message)
			case s != "":
				e.Message = oneLine(s)
			case doc.Message != "":
				e.Message = oneLine(doc.Message)
			}
		}
	}
	// Scrubbed before truncation, so no secret is cut in two with its
	// first half kept.
	e.Code = truncate(scrubSecrets(e.Code), 64)
	e.Message = truncate(scrubSecrets(e.Message), 300)
	return e
}

// Some servers (and proxies, and firewalls' error pages) echo the request in
// their error messages: its query with the signature and credential, or its
// Authorization header. These patterns find such echoes whatever the URL.
var (
	secretParam = regexp.MustCompile(`(?i)\b(x-amz-signature|x-amz-credential|x-amz-security-token|signature|awsaccesskeyid|credential)(=|%3D)[^&\s<>"',;]*`)
	bearerToken = regexp.MustCompile(`(?i)\bbearer\s+[^\s<>"',;]{8,}`)
	accessKeyID = regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b`)
)

// scrubSecrets blanks what looks like a signature, credential, access key
// id or bearer token in text a server sent.
func scrubSecrets(s string) string {
	return bearerToken.ReplaceAllString(scrubSigning(s), "Bearer [REDACTED]")
}

// scrubSigning blanks signature and credential parameters, name and value
// (no query is ever shown, even emptied), and access key ids: never words
// hoist uses in its own messages, so it is safe on them.
func scrubSigning(s string) string {
	s = secretParam.ReplaceAllString(s, "[REDACTED]")
	return accessKeyID.ReplaceAllString(s, "[REDACTED]")
}

// parseRetryAfter accepts delta-seconds or an HTTP date; nonsense gives 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			return 0
		}
		return min(d, time.Hour)
	}
	return 0
}

// oneLine folds whitespace so a server's message stays on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// RetryAfterDelay is how long the server asked to wait (Retry-After), 0 when
// it did not say.
func (e *ServerError) RetryAfterDelay() time.Duration { return e.RetryAfter }

// Retryable reports whether the answer may succeed if sent again.
func (e *ServerError) Retryable() bool {
	switch e.Code {
	case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable":
		return true
	case "InsufficientStorage", "XMinioStorageFull":
		return false // a full disk stays full
	}
	if e.Status == http.StatusInsufficientStorage {
		return false
	}
	switch {
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooEarly,
		e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	}
	return false
}

// expired reports the answer S3 gives to a presigned URL past its expiry.
func (e *ServerError) expired() bool {
	return e.Code == "AccessDenied" && strings.Contains(strings.ToLower(e.Message), "expired") ||
		e.Code == "ExpiredToken"
}

// authConflict is a server's answer to a presigned URL sent with an
// Authorization header as well: AWS's InvalidArgument "Only one auth
// mechanism allowed", MinIO's InvalidRequest "request has multiple
// authentication types, please use one".
func (e *ServerError) authConflict() bool {
	return e.Status == http.StatusBadRequest &&
		(strings.Contains(e.Message, "Only one auth mechanism allowed") ||
			strings.Contains(e.Message, "multiple authentication types"))
}

// hint says what a person should do about a permanent answer. It returns the
// explanation of what happened and the next step.
func (e *ServerError) hint(t Target) (what, next string) {
	msg := strings.ToLower(e.Message)
	if e.expired() {
		what = "the upload URL has expired"
		if !t.Expires.IsZero() {
			what += " (at " + t.Expires.UTC().Format(time.RFC3339) + ")"
		}
		return what, "ask for a new URL, or use --s3 so hoist can sign fresh ones"
	}
	if t.Signer != nil {
		if what, next, ok := e.signerHint(t.Signer); ok {
			return what, next
		}
	}
	switch {
	case e.Code == "SignatureDoesNotMatch":
		return signatureHint(t)
	case e.Code == "AccessDenied" && strings.Contains(msg, "not signed"):
		return "the request carried a header the URL did not sign",
			"run `hoist inspect URL` to see which headers are signed, and leave the others unset"
	case e.Code == "AccessDenied":
		return "access denied", "check that the URL is for this bucket and that its signer may write there"
	case e.Code == "BadDigest" || e.Code == "InvalidDigest" || (e.Code == "InvalidRequest" && strings.Contains(msg, "checksum")):
		if t.PinnedCRC32 == inspect.EmptyCRC32 {
			return "the URL pins the CRC32 of an EMPTY body (AAAAAA==), so this server rejects any non-empty file",
				"ask for a URL presigned without a checksum or with this file's CRC32"
		}
		if t.PinnedCRC32 != "" {
			return "the checksum pinned in the URL does not match the bytes sent",
				"check this is the file the URL was made for"
		}
		return "the server's checksum of the bytes did not match the file's (it may have changed while uploading)",
			"make sure nothing writes to the file and upload it again"
	case e.Code == "EntityTooLarge":
		return "the file is larger than the server accepts in one PUT (5 GiB on S3)",
			"use --s3 (or --presign-url) so hoist can upload it in parts"
	case e.Code == "EntityTooSmall":
		return "a part is smaller than the server's minimum", "raise --part-size to at least 5 MiB"
	case e.Status == http.StatusLengthRequired || e.Code == "MissingContentLength":
		return "the server needs a Content-Length", "this is a bug in hoist; please report it"
	case e.Code == "NoSuchBucket":
		return "the bucket does not exist", "check the bucket name, or create it"
	case e.Code == "InvalidAccessKeyId" || e.Code == "XAdminUserNotFound": // versitygw: 404 XAdminUserNotFound
		return "the server does not know the access key the URL was signed with", "check the credentials used to sign it"
	case e.regionMismatch():
		if want := expectedRegion(e.Message); want != "" {
			return "the URL is signed for another region than the server's (" + want + ")",
				"ask for a URL signed for region " + want
		}
		return "the URL's signing parameters are malformed", "run `hoist inspect URL` and ask for a new URL"
	case e.Code == "NoSuchUpload":
		return "the multipart upload no longer exists on the server", "upload the file again"
	case e.Status == http.StatusUnauthorized:
		return "the server refused the credentials", "check HOIST_TOKEN or --token-file"
	case e.Status == http.StatusForbidden:
		return "the server refused the upload", "check the URL and the token"
	case e.Status == http.StatusNotFound:
		return "the server has no such bucket or path", "check the URL"
	case e.Status == http.StatusRequestEntityTooLarge:
		return "the file is too large for the server", "use a source that can upload in parts"
	}
	return "the server refused the upload", "see the server's message; a retry will not help"
}

// signatureHint explains a refused signature on a URL someone gave: a
// signed header sent with another value than it was signed with. When the
// URL signs the body's CRC32, hoist sent the file's own, so a different
// file is the likelier cause than the metadata.
func signatureHint(t Target) (what, next string) {
	metaNext := "check that --org-id, --user-id and --ttl-hours are exactly the values the URL was made for (see `hoist inspect URL`)"
	r, err := inspect.Parse(t.URL)
	sent := t.Header.Get(inspect.HeaderCRC32)
	if err != nil || sent == "" || !r.Signs(inspect.HeaderCRC32) {
		return "the server rejected the signature: a signed header was sent with a different value than the URL was signed with", metaNext
	}
	what = "the server rejected the signature: the URL signs the file's CRC32, and this file's (" + sent + ") is not the one it was signed for"
	next = "check this is the file the URL was made for, or ask for a URL made for this one"
	for _, h := range r.SignedHeaders {
		if strings.HasPrefix(h, "x-amz-meta-") {
			return what, next + "; if it is, " + metaNext
		}
	}
	return what, next
}

// signerHint explains an answer about the signature itself when hoist
// signed with credentials of its own (--s3): check those credentials where
// they came from, or sign for the region the server expects.
func (e *ServerError) signerHint(s *Signer) (what, next string, ok bool) {
	creds := s.Credentials
	if creds == "" {
		creds = "the AWS credential chain"
	}
	switch {
	case e.Code == "SignatureDoesNotMatch":
		return "the server rejected the signature hoist made with the credentials from " + creds,
			"check the secret access key there: it must belong to that access key id", true
	case e.Code == "InvalidAccessKeyId" || e.Code == "XAdminUserNotFound":
		return "the server does not know the access key id from " + creds,
			"check the credentials there, and that --endpoint-url is the server they belong to", true
	case e.regionMismatch():
		if want := expectedRegion(e.Message); want != "" {
			return "the server expects region " + want + ", and hoist signed for " + s.Region,
				"use --region " + want, true
		}
		return "the server refused the signing region " + s.Region, "set --region to the region the server is in", true
	case e.Code == "MissingFields":
		// MinIO's answer to a presigned URL scoped to another region
		// than its own; the fields hoist signs are otherwise complete.
		return "the server refused the URL's signing scope, which MinIO does when the region is not its own (hoist signed for " + s.Region + ")",
			"set --region to the region the server is in", true
	case e.Code == "AccessDenied" && !strings.Contains(strings.ToLower(e.Message), "not signed"):
		return "access denied to the credentials from " + creds,
			"check that they may write to this bucket, or use credentials that may", true
	}
	return "", "", false
}

// regionMismatch is S3's answer to a signature scoped to another region
// (versitygw and AWS name the region they expect in the message).
func (e *ServerError) regionMismatch() bool {
	switch e.Code {
	case "AuthorizationQueryParametersError", "AuthorizationHeaderMalformed", "InvalidRegion":
		return true
	}
	return false
}

// expectingRegion finds the region in `… the region "us-east-1" is wrong;
// expecting "auto"` (versitygw, AWS with single quotes, MinIO).
var expectingRegion = regexp.MustCompile(`(?i)expecting\s+['"]?([a-z0-9][a-z0-9-]{0,62})`)

// expectedRegion is the region a server's message says it expects, "" when
// it names none.
func expectedRegion(msg string) string {
	m := expectingRegion.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return m[1]
}

// explainServer turns a permanent server answer into one line a person can act on.
func explainServer(e *ServerError, t Target) string {
	what, next := e.hint(t)
	detail := e.Error()
	return fmt.Sprintf("%s (%s); %s", what, detail, next)
}
