package source

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"hoist/inspect"
	"hoist/uploader"
)

// CompanionConfig says where an Uppy Companion server is and how to reach it.
type CompanionConfig struct {
	// Endpoint is Companion's base URL, the one its /s3/… routes hang off:
	// https://companion.example/ (or …/companion/ behind COMPANION_PATH).
	Endpoint string
	// Token goes as "Authorization: Bearer" to Companion's own endpoints,
	// never to the S3 URLs Companion hands out.
	Token     string
	Client    *http.Client // nil means a default client with timeouts
	Multipart bool         // offer multipart uploads to the engine
}

// Companion gets upload URLs from an Uppy Companion server, speaking the S3
// protocol Uppy's AwsS3 plugin speaks: /s3/params for a presigned POST form,
// /s3/multipart… for uploads in parts. Companion picks the object keys
// (<uuid>-<filename>) and signs with its own S3 credentials; the metadata
// travels as x-amz-meta-* fields (POST) or object metadata (multipart).
type Companion struct {
	base     string // scheme://host/path with no trailing slash, escaped: routes are appended
	describe string
	token    string
	client   *http.Client
	caps     uploader.Capabilities
	now      func() time.Time
}

var _ uploader.MultipartSource = (*Companion)(nil)

// companionContentType is the type every file is declared with, as hoist's
// other sources send it: Companion signs it into the POST policy.
const companionContentType = "application/octet-stream"

// Limits on talking to Companion.
const (
	companionMaxAnswer = 16 << 20 // a list of 10,000 parts is about 1.5 MiB
	companionTimeout   = 2 * time.Minute
)

// NewCompanion checks the endpoint; nothing is sent until the first file.
func NewCompanion(c CompanionConfig) (*Companion, error) {
	raw := strings.TrimSpace(c.Endpoint)
	if raw == "" {
		return nil, errors.New("--presign-url is empty: give Companion's base URL, e.g. https://companion.example/")
	}
	// The query (which may hold a secret) is cut off before anything can
	// quote it.
	beforeQuery, _, hasQuery := strings.Cut(raw, "?")
	beforeQuery, _, hasFragment := strings.Cut(beforeQuery, "#")
	u, err := url.Parse(beforeQuery)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, errors.New("--presign-url is not an http(s) URL with a host: give Companion's base URL, e.g. https://companion.example/")
	}
	shown := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.Path == "" {
		shown += "/"
	}
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("--presign-url %s carries a user name or password before the host; remove it and put the token in HOIST_TOKEN or --token-file", shown)
	case hasQuery || hasFragment:
		return nil, fmt.Errorf("--presign-url %s has a query or fragment (?… or #…); give Companion's base URL without one", shown)
	case c.Token != "" && u.Scheme == "http" && !inspect.IsLoopback(u.Hostname()):
		return nil, fmt.Errorf("--presign-url %s is plain http to %s, and the bearer token would cross the network unencrypted; use an https:// URL", shown, u.Hostname())
	}

	client := c.Client
	if client == nil {
		client = newCompanionClient()
	}
	// A copy, so the caller's client keeps its own redirect policy: a
	// redirect would carry the token somewhere the person did not name.
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	return &Companion{
		base:     u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"),
		describe: shown,
		token:    c.Token,
		client:   &noRedirects,
		caps: uploader.Capabilities{
			Resign:       true,
			Multipart:    c.Multipart,
			MaxSinglePut: inspect.S3MaxSinglePut,
		},
		now: time.Now,
	}, nil
}

func newCompanionClient() *http.Client {
	return &http.Client{
		Timeout: companionTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: time.Minute,
		},
	}
}

// Describe is Companion's base URL: scheme, host and path, never a query or
// the token.
func (c *Companion) Describe() string { return c.describe }

func (c *Companion) Capabilities() uploader.Capabilities { return c.caps }

// WantsChecksum is false: Companion signs no checksum of ours, neither in its
// POST policy nor in its part URLs.
func (c *Companion) WantsChecksum(uploader.File) bool { return false }

// companionFilename is what Companion builds the key from: the key hoist
// would use (a relative path keeps its folders), else the file's base name.
func companionFilename(f uploader.File) string {
	if f.Key != "" {
		return f.Key
	}
	return filepath.Base(f.Path)
}

// paramsAnswer is /s3/params' answer: a presigned POST form (Companion's
// own), or a PUT with headers (what Uppy also accepts from a custom server).
type paramsAnswer struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Fields  formFields        `json:"fields"`
	Headers map[string]string `json:"headers"`
	Expires int64             `json:"expires"` // seconds the form or URL works
}

// Target asks Companion for a presigned POST form (or PUT URL) for f. Each
// call is a fresh signature, and a fresh key: Companion puts a new UUID in
// front of the file name every time.
func (c *Companion) Target(ctx context.Context, f uploader.File, md uploader.Metadata) (uploader.Target, error) {
	q := url.Values{}
	q.Set("filename", companionFilename(f))
	q.Set("type", companionContentType)
	for name, v := range userMetadata(md) {
		// Companion turns metadata[k] into the form field x-amz-meta-k.
		q.Set("metadata["+name+"]", v)
	}
	issued := c.now()
	var ans paramsAnswer
	if err := c.call(ctx, http.MethodGet, "/s3/params", q, nil, &ans); err != nil {
		return uploader.Target{}, fmt.Errorf("getting an upload URL: %w", err)
	}
	shown := c.base + "/s3/params"
	if err := checkUploadURL(ans.URL); err != nil {
		return uploader.Target{}, companionAnswerError(http.MethodGet, shown, "an upload URL that "+err.Error())
	}
	t := uploader.Target{URL: ans.URL, Key: companionFilename(f), SendToken: false}
	if ans.Expires > 0 {
		t.Expires = issued.Add(time.Duration(ans.Expires) * time.Second)
	}
	method := strings.ToUpper(ans.Method)
	if method == "" {
		method = http.MethodPut
		if len(ans.Fields) > 0 {
			method = http.MethodPost
		}
	}
	switch method {
	case http.MethodPost:
		if len(ans.Fields) == 0 {
			return uploader.Target{}, companionAnswerError(http.MethodGet, shown, "a POST upload without form fields")
		}
		t.Method, t.Form = http.MethodPost, []uploader.FormField(ans.Fields)
		if key := ans.Fields.get("key"); key != "" {
			t.Key = key
		}
	case http.MethodPut:
		t.Method = http.MethodPut
		t.Header = make(http.Header, len(ans.Headers))
		for name, v := range ans.Headers {
			t.Header.Set(name, v)
		}
		if r, err := inspect.Parse(ans.URL); err == nil {
			if r.Key != "" {
				t.Key = r.Key
			}
			if !r.ExpiresAt.IsZero() {
				t.Expires = r.ExpiresAt
			}
			t.PinnedCRC32 = r.PinnedCRC32
		}
	default:
		return uploader.Target{}, companionAnswerError(http.MethodGet, shown, fmt.Sprintf("upload method %q, where hoist knows POST and PUT", oneLineShort(method)))
	}
	return t, nil
}

// checkUploadURL checks a URL Companion handed out. Its error never quotes
// it: the query holds the signature.
func checkUploadURL(raw string) error {
	base, _, _ := strings.Cut(raw, "?")
	u, err := url.Parse(base)
	switch {
	case raw == "":
		return errors.New("is missing")
	case err != nil:
		return errors.New("is malformed")
	case u.Scheme != "http" && u.Scheme != "https", u.Hostname() == "":
		return errors.New("is not an http(s) URL with a host")
	}
	return nil
}

// multipartAnswer is POST /s3/multipart's answer.
type multipartAnswer struct {
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
}

// CreateMultipart starts a multipart upload; Companion picks the key.
func (c *Companion) CreateMultipart(ctx context.Context, f uploader.File, md uploader.Metadata) (uploader.Upload, error) {
	in := struct {
		Filename string            `json:"filename"`
		Type     string            `json:"type"`
		Metadata map[string]string `json:"metadata"`
	}{companionFilename(f), companionContentType, userMetadata(md)}
	var ans multipartAnswer
	if err := c.call(ctx, http.MethodPost, "/s3/multipart", nil, in, &ans); err != nil {
		// Never repeated: if the first try reached the store, a second
		// would leave an orphaned upload that Companion's protocol gives
		// no way to list.
		return uploader.Upload{}, uploader.Permanent(err)
	}
	if ans.Key == "" || ans.UploadID == "" {
		return uploader.Upload{}, companionAnswerError(http.MethodPost, c.base+"/s3/multipart", "no key or uploadId")
	}
	return uploader.Upload{Key: ans.Key, UploadID: ans.UploadID}, nil
}

func uploadRoute(u uploader.Upload, rest string) string {
	return "/s3/multipart/" + url.PathEscape(u.UploadID) + rest
}

// PartTarget has Companion sign one part through its batch endpoint. The
// size and checksum are not Companion's to sign: the engine sends an exact
// Content-Length.
func (c *Companion) PartTarget(ctx context.Context, u uploader.Upload, number int, _ int64, _ uint32) (uploader.Target, error) {
	q := url.Values{"key": {u.Key}, "partNumbers": {strconv.Itoa(number)}}
	var ans struct {
		PresignedURLs map[string]string `json:"presignedUrls"`
	}
	route := uploadRoute(u, "/batch")
	if err := c.call(ctx, http.MethodGet, route, q, nil, &ans); err != nil {
		return uploader.Target{}, fmt.Errorf("signing part %d: %w", number, err)
	}
	raw := ans.PresignedURLs[strconv.Itoa(number)]
	if err := checkUploadURL(raw); err != nil {
		return uploader.Target{}, companionAnswerError(http.MethodGet, c.base+route, fmt.Sprintf("a URL for part %d that %s", number, err))
	}
	t := uploader.Target{Method: http.MethodPut, URL: raw, Key: u.Key}
	if r, err := inspect.Parse(raw); err == nil {
		t.Expires = r.ExpiresAt
		// The JS SDK pins the CRC32 of an empty body in every part URL;
		// kept so a store that enforces it gets its refusal explained.
		t.PinnedCRC32 = r.PinnedCRC32
	}
	return t, nil
}

// ListParts reports the parts the store already has, for resuming.
func (c *Companion) ListParts(ctx context.Context, u uploader.Upload) ([]uploader.Part, error) {
	var ans []struct {
		PartNumber    int    `json:"PartNumber"`
		Size          int64  `json:"Size"`
		ETag          string `json:"ETag"`
		ChecksumCRC32 string `json:"ChecksumCRC32"`
	}
	if err := c.call(ctx, http.MethodGet, uploadRoute(u, ""), url.Values{"key": {u.Key}}, nil, &ans); err != nil {
		return nil, fmt.Errorf("listing the parts of %s: %w", u.Key, err)
	}
	parts := make([]uploader.Part, 0, len(ans))
	for _, p := range ans {
		part := uploader.Part{Number: p.PartNumber, Size: p.Size, ETag: p.ETag}
		part.CRC32, _ = inspect.DecodeCRC32(p.ChecksumCRC32)
		parts = append(parts, part)
	}
	return parts, nil
}

// CompleteMultipart joins the parts. Companion answers with the object's
// location, not its ETag, so the ETag returned is empty.
func (c *Companion) CompleteMultipart(ctx context.Context, u uploader.Upload, parts []uploader.Part) (string, error) {
	type completedPart struct {
		PartNumber int    `json:"PartNumber"`
		ETag       string `json:"ETag"`
	}
	sorted := slices.SortedFunc(slices.Values(parts), func(a, b uploader.Part) int { return cmp.Compare(a.Number, b.Number) })
	in := struct {
		Parts []completedPart `json:"parts"`
	}{Parts: make([]completedPart, len(sorted))}
	for i, p := range sorted {
		in.Parts[i] = completedPart{PartNumber: p.Number, ETag: p.ETag}
	}
	if err := c.call(ctx, http.MethodPost, uploadRoute(u, "/complete"), url.Values{"key": {u.Key}}, in, nil); err != nil {
		return "", err
	}
	return "", nil
}

// AbortMultipart discards the parts, so a failed upload leaves nothing billed.
func (c *Companion) AbortMultipart(ctx context.Context, u uploader.Upload) error {
	return c.call(ctx, http.MethodDelete, uploadRoute(u, ""), url.Values{"key": {u.Key}}, nil, nil)
}

// call sends one request to Companion and decodes its JSON answer into out
// (nil: the answer is not needed).
func (c *Companion) call(ctx context.Context, method, route string, query url.Values, in, out any) error {
	shown := c.base + route
	target := shown
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encoding the request to %s: %w", shown, err)
		}
	}
	// One attempt: the engine retries every call under its one policy
	// (CompanionError says whether trying again can help).
	return c.do(ctx, method, target, shown, payload, out)
}

func (c *Companion) do(ctx context.Context, method, target, shown string, payload []byte, out any) error {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("building the request to %s: %w", shown, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return c.fail(&CompanionError{Method: method, URL: shown, Err: uploader.WithoutRequestURL(err)})
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	b, err := io.ReadAll(io.LimitReader(resp.Body, companionMaxAnswer+1))
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return c.fail(&CompanionError{Method: method, URL: shown, Err: fmt.Errorf("reading the answer: %w", err)})
	}

	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		where := "another address"
		if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && loc.Host != "" {
			where = loc.Host
		}
		return c.fail(&CompanionError{Method: method, URL: shown, Status: resp.StatusCode, redirect: where})
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return c.fail(companionRefusal(method, shown, resp, b))
	case len(b) > companionMaxAnswer:
		return c.fail(&CompanionError{Method: method, URL: shown, Status: resp.StatusCode, notJSON: "an answer over 16 MiB"})
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		what := "something"
		if ct, _, perr := mime.ParseMediaType(resp.Header.Get("Content-Type")); perr == nil {
			what = ct
		}
		return c.fail(&CompanionError{Method: method, URL: shown, Status: resp.StatusCode, notJSON: what, Err: err})
	}
	return nil
}

// fail blanks the token wherever Companion or a proxy echoed it. A token
// of under four characters is left: blanking it would garble ordinary words.
func (c *Companion) fail(e *CompanionError) *CompanionError {
	if len(c.token) >= 4 {
		e.Message = strings.ReplaceAll(e.Message, c.token, "[REDACTED]")
		if e.Err != nil && strings.Contains(e.Err.Error(), c.token) {
			e.Err = errors.New(strings.ReplaceAll(e.Err.Error(), c.token, "[REDACTED]"))
		}
	}
	return e
}

// companionRefusal reads Companion's error body: {"error": "…"} from its S3
// routes, {"message": …, "error": {S3 error}} from its error handler (with the
// S3 code in error.Code outside production), or a proxy's HTML page.
func companionRefusal(method, shown string, resp *http.Response, body []byte) *CompanionError {
	se := uploader.ParseServerError(resp.StatusCode, resp.Header, body)
	e := &CompanionError{Method: method, URL: shown, Status: resp.StatusCode, Message: se.Message, Code: se.Code, RetryAfter: se.RetryAfter}
	var doc struct {
		Error     json.RawMessage `json:"error"`
		RequestID string          `json:"requestId"`
	}
	if json.Unmarshal(body, &doc) == nil {
		var s3err struct {
			Code string `json:"Code"`
		}
		if json.Unmarshal(doc.Error, &s3err) == nil && s3err.Code != "" {
			e.Code = oneLineShort(s3err.Code)
		}
		e.requestID = oneLineShort(doc.RequestID)
	}
	if e.requestID == "" {
		e.requestID = oneLineShort(resp.Header.Get("X-Request-Id"))
	}
	return e
}

// oneLineShort keeps a server-given word on one short line.
func oneLineShort(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

// companionAnswerError is a request that worked (200) with an answer hoist
// cannot use.
func companionAnswerError(method, shown, what string) *CompanionError {
	return &CompanionError{Method: method, URL: shown, Status: http.StatusOK, badAnswer: what}
}

// CompanionError is a request to Companion that failed, phrased for a
// person on one line: which endpoint (never its query), what Companion said,
// and what to do next.
type CompanionError struct {
	Method  string
	URL     string // scheme://host/path of the endpoint, never a query
	Status  int    // 0 when no answer came
	Code    string // the S3 error code Companion passed on (NoSuchUpload, NoSuchBucket…), if any
	Message string // what Companion said, on one line, secrets blanked
	Err     error  // the network or decoding error underneath, if any
	// RetryAfter is how long Companion (or a proxy) asked to wait; 0 when it
	// did not say.
	RetryAfter time.Duration

	requestID string // Companion's X-Request-Id, to find its log line
	redirect  string // the host a 3xx pointed to
	notJSON   string // the content type of an answer that was not JSON
	badAnswer string // what was wrong with a JSON answer
}

func (e *CompanionError) Unwrap() error { return e.Err }

// RetryAfterDelay is the wait Companion asked for, for the engine's retry rule.
func (e *CompanionError) RetryAfterDelay() time.Duration { return e.RetryAfter }

func (e *CompanionError) Error() string {
	at := e.Method + " " + e.URL
	switch {
	case e.Status == 0:
		return fmt.Sprintf("%s: no answer from Companion (%v); check --presign-url and that Companion is running and reachable", at, e.Err)
	case e.redirect != "":
		return fmt.Sprintf("%s: Companion redirected to %s (%d); hoist does not follow redirects with your token — use that address as --presign-url", at, e.redirect, e.Status)
	case e.notJSON != "":
		return fmt.Sprintf("%s: Companion answered %d with %s, not JSON; check --presign-url is Companion's base URL (the part before /s3/)", at, e.Status, e.notJSON)
	case e.badAnswer != "":
		return fmt.Sprintf("%s: Companion answered with %s; check Companion's S3 settings (COMPANION_AWS_*) and its version", at, e.badAnswer)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: Companion answered %d", at, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" && e.Message != e.Code && e.Message != http.StatusText(e.Status) {
		b.WriteString(": " + e.Message)
	}
	if e.Status >= 500 && e.requestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.requestID)
	}
	b.WriteString("; " + e.next())
	return b.String()
}

// next says what a person can do about a refusal.
func (e *CompanionError) next() string {
	msg := strings.ToLower(e.Message)
	switch {
	case e.Code == "NoSuchUpload":
		return "the multipart upload is gone (completed, aborted or expired); upload the file again"
	case e.Code == "NoSuchBucket":
		return "Companion's bucket does not exist; check COMPANION_AWS_BUCKET on the Companion server"
	case e.Code == "InvalidAccessKeyId", e.Code == "SignatureDoesNotMatch", e.Code == "AccessDenied",
		e.Code == "InvalidClientTokenId", e.Code == "ExpiredToken":
		return "the S3 store refused Companion's credentials; check COMPANION_AWS_KEY, COMPANION_AWS_SECRET and the bucket's permissions"
	case strings.Contains(msg, "does not support uploading to s3"):
		return "Companion has no S3 bucket set up; set COMPANION_AWS_BUCKET and the other COMPANION_AWS_* settings on the server"
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden:
		return "Companion (or the proxy in front of it) refused the request; check the token in HOIST_TOKEN or --token-file"
	case e.Status == http.StatusNotFound:
		return "check --presign-url is Companion's base URL (the part before /s3/) and that Companion has S3 uploads on (COMPANION_AWS_BUCKET)"
	case e.Status == http.StatusRequestEntityTooLarge:
		return "the request was too large for Companion or the proxy in front of it; raise its body size limit"
	case e.Status == http.StatusTooManyRequests:
		return "Companion is rate limiting; wait a little and try again"
	case e.Status >= 500 && e.Code != "":
		return "the S3 store refused Companion's request; check Companion's S3 settings (COMPANION_AWS_*) and its log"
	case e.Status >= 500:
		return "Companion or the store behind it failed; check Companion's log, then try again"
	}
	return "Companion refused the request; check that it runs a current version and see its log"
}

// Retryable reports whether the same request may work in a moment.
func (e *CompanionError) Retryable() bool {
	switch e.Status {
	case 0:
		return true
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// formFields are a presigned POST's fields in the order Companion sent them.
type formFields []uploader.FormField

func (f formFields) get(name string) string {
	for _, field := range f {
		if field.Name == name {
			return field.Value
		}
	}
	return ""
}

// UnmarshalJSON keeps the order of the object's members, which a map would
// lose. A value may be a string, or a number or boolean (kept as written).
func (f *formFields) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*f = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("form fields are not a JSON object")
	}
	var fields formFields
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		var value string
		switch {
		case len(raw) > 0 && raw[0] == '"':
			if err := json.Unmarshal(raw, &value); err != nil {
				return err
			}
		case len(raw) > 0 && (raw[0] == '{' || raw[0] == '['):
			return fmt.Errorf("form field %q is not a string", name)
		case string(raw) == "null":
			continue // JSON.stringify drops undefined; a null is the same absence
		default:
			value = string(raw)
		}
		fields = append(fields, uploader.FormField{Name: name, Value: value})
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	*f = fields
	return nil
}
