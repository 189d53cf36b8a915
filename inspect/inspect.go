// Package inspect explains an S3 presigned PUT URL: where it points, when it
// stops working, which headers it signs, which checksum it pins, and what will
// go wrong before a byte is sent.
//
// Nothing here stores or prints X-Amz-Signature, the access key id in
// X-Amz-Credential, X-Amz-Security-Token or a user:password: a Report can be
// printed, logged or encoded whole.
package inspect

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Severity says whether a Problem stops the upload.
type Severity int

const (
	// Warning: the upload may still work; a person should know.
	Warning Severity = iota
	// Error: the upload cannot work as things stand.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Problem is one thing wrong with a URL, or with sending a file to it.
type Problem struct {
	Severity Severity
	Code     string // stable, for tests and JSON: one of the Code* constants
	Message  string // one line: what is wrong and what to do next
}

// Codes of the problems Parse and Check find.
const (
	CodeMissingSignature     = "missing-signature"
	CodeMissingCredential    = "missing-credential"
	CodeMissingDate          = "missing-date"
	CodeMissingExpires       = "missing-expires"
	CodeMissingAlgorithm     = "missing-algorithm"
	CodeMissingSignedHeaders = "missing-signed-headers"
	CodeSigV2                = "sigv2"
	CodeBadAlgorithm         = "bad-algorithm"
	CodeBadSignature         = "bad-signature"
	CodeBadCredential        = "bad-credential"
	CodeBadDate              = "bad-date"
	CodeCredentialDate       = "credential-date"
	CodeBadExpires           = "bad-expires"
	CodeExpiresTooLong       = "expires-too-long"
	CodeBadSignedHeaders     = "bad-signed-headers"
	CodeBadChecksum          = "bad-checksum"
	CodeOtherChecksum        = "other-checksum"
	CodeContentSHA256        = "content-sha256"
	CodeDuplicateParam       = "duplicate-param"
	CodeBadQuery             = "bad-query"
	CodeWrongOperation       = "wrong-operation"
	CodeNoKey                = "no-key"
	CodeInsecure             = "insecure"
	CodeUserInfo             = "userinfo"
	CodeExpired              = "expired"
	CodeExpiring             = "expiring"
	CodeNotYetValid          = "not-yet-valid"
	CodeUnsendableHeader     = "unsendable-header"
	CodeMissingMetadata      = "missing-metadata"
	CodeQueryMetadata        = "query-metadata"
	CodeUnusedMetadata       = "unused-metadata"
	CodeEmptyBodyChecksum    = "empty-body-checksum"
	CodeChecksumMismatch     = "checksum-mismatch"
	CodeTooLarge             = "too-large"
)

// EmptyCRC32 is the base64 CRC32 of zero bytes: what JS SDK ≥ 3.729 pins in
// a presigned URL's query by default.
const EmptyCRC32 = "AAAAAA=="

// MaxExpires is the longest X-Amz-Expires S3 accepts: seven days.
const MaxExpires = 604800 * time.Second

// EncodeCRC32 writes a CRC32 the way S3 does in x-amz-checksum-crc32: the
// four big-endian bytes in standard base64.
func EncodeCRC32(c uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], c)
	return base64.StdEncoding.EncodeToString(b[:])
}

// DecodeCRC32 reads S3's base64 form of a CRC32.
func DecodeCRC32(v string) (uint32, bool) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}

// Report is what a presigned URL says about itself. It holds no secret.
type Report struct {
	Scheme, Host, Path string // Path is decoded; Host keeps a port, drops any user:password

	// Addressing says where the URL names its bucket; Bucket and Key follow
	// from it. For a host hoist does not know (AddressingUnknown) no bucket
	// is guessed: Bucket is "" and Key is the whole object path.
	Addressing Addressing
	Bucket     string
	Key        string

	Algorithm       string
	Region, Service string // from the X-Amz-Credential scope; the access key id is never kept
	SignedAt        time.Time
	Expires         time.Duration
	ExpiresAt       time.Time // zero when X-Amz-Date or X-Amz-Expires is missing or malformed
	SignedHeaders   []string  // lower case, as listed in X-Amz-SignedHeaders

	ContentSHA256     string // X-Amz-Content-Sha256, "" if absent
	PinnedCRC32       string // x-amz-checksum-crc32 in the query (base64), "" if none
	ChecksumAlgorithm string // x-amz-sdk-checksum-algorithm
	XID               string // x-id, the SDK operation the URL was made for

	// QueryMetadata is x-amz-meta-* fixed in the query (a presigner that
	// hoists metadata out of the headers): name (lower case) → value.
	QueryMetadata map[string]string

	HasSignature, HasCredential bool
	Problems                    []Problem // found from the URL alone
}

// Redacted is the URL without its query, user info or fragment: safe to print.
func (r Report) Redacted() string {
	u := url.URL{Scheme: r.Scheme, Host: r.Host, Path: r.Path}
	return u.String()
}

// Signs reports whether header (any case) is in X-Amz-SignedHeaders.
func (r Report) Signs(header string) bool {
	header = strings.ToLower(header)
	for _, h := range r.SignedHeaders {
		if strings.ToLower(h) == header {
			return true
		}
	}
	return false
}

// Query parameters hoist reads. Names are matched without regard to case:
// the Go SDK writes X-Amz-Sdk-Checksum-Algorithm, the JS SDK
// x-amz-sdk-checksum-algorithm.
const (
	paramAlgorithm     = "x-amz-algorithm"
	paramCredential    = "x-amz-credential"
	paramDate          = "x-amz-date"
	paramExpires       = "x-amz-expires"
	paramSignedHeaders = "x-amz-signedheaders"
	paramSignature     = "x-amz-signature"
	paramSecurityToken = "x-amz-security-token"
	paramContentSHA256 = "x-amz-content-sha256"
	paramRegionSet     = "x-amz-region-set"
	paramCRC32         = "x-amz-checksum-crc32"
	paramChecksumAlgo  = "x-amz-sdk-checksum-algorithm"
	paramXID           = "x-id"
)

const (
	algoHMAC  = "AWS4-HMAC-SHA256"
	algoECDSA = "AWS4-ECDSA-P256-SHA256" // SigV4a
	amzDate   = "20060102T150405Z"
)

// Parse reads a presigned URL. It fails only when raw is not an http(s) URL
// at all; everything else wrong with it is a Problem in the Report. No error
// it returns contains the query.
func Parse(raw string) (Report, error) {
	raw = strings.TrimSpace(raw)
	// The query and fragment are cut off before url.Parse sees the rest, so
	// no parse error can quote them.
	beforeFragment, _, _ := strings.Cut(raw, "#")
	base, rawQuery, _ := strings.Cut(beforeFragment, "?")
	u, err := url.Parse(base)
	if err != nil {
		var ue *url.Error
		// Without a user:password in it, the part before the query is safe to quote.
		if errors.As(err, &ue) && !strings.Contains(base, "@") {
			return Report{}, fmt.Errorf("not a valid URL (%v); copy the whole upload URL", ue.Err)
		}
		return Report{}, errors.New("not a valid URL; copy the whole upload URL")
	}
	switch u.Scheme {
	case "http", "https":
	case "":
		return Report{}, errors.New("not an http(s) URL: it has no scheme; copy the whole upload URL, starting with https://")
	default:
		return Report{}, fmt.Errorf("not an http(s) URL (scheme %q); hoist uploads to https:// or http:// URLs", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return Report{}, errors.New("not a valid URL: it names no host; copy the whole upload URL")
	}

	r := Report{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	add := func(sev Severity, code, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{Severity: sev, Code: code, Message: fmt.Sprintf(format, printables(args)...)})
	}

	if u.User != nil {
		add(Warning, CodeUserInfo,
			"the URL carries a user name before the host (user@host), which HTTP sends as a second sign-in beside the signature; remove it")
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		add(Warning, CodeInsecure,
			"the URL is plain http:// to %s: the file and the bearer token cross the network unencrypted; ask for an https:// URL", u.Hostname())
	}
	r.Bucket, r.Key, r.Addressing = bucketAndKey(u.Hostname(), u.Path)
	if r.Key == "" {
		add(Error, CodeNoKey, "the URL names no object key (its path is %q); a PUT there does not upload a file; ask for the URL of an object", u.Path)
	}

	q, queryOK := parseQuery(rawQuery)
	if !queryOK {
		add(Error, CodeBadQuery, "the URL's query has a malformed %%-escape; the URL may have been mangled when copied; copy it again")
	}
	for _, name := range q.duplicates(paramAlgorithm, paramCredential, paramDate, paramExpires, paramSignedHeaders,
		paramSignature, paramContentSHA256, paramCRC32, paramChecksumAlgo, paramXID) {
		add(Error, CodeDuplicateParam, "%s appears more than once in the query; the URL was put together wrongly; ask for a new URL", q.name(name))
	}

	if !q.has(paramAlgorithm) && !q.has(paramSignature) && q.has("signature") && q.has("awsaccesskeyid") {
		add(Error, CodeSigV2,
			"the URL is signed with the legacy signature version 2 (Signature=, AWSAccessKeyId=); hoist checks and sends SigV4 URLs only; ask for a SigV4 URL (X-Amz-Algorithm=AWS4-HMAC-SHA256)")
		return r, nil
	}

	r.Algorithm = q.get(paramAlgorithm)
	switch {
	case !q.has(paramAlgorithm):
		add(Error, CodeMissingAlgorithm, "the query has no X-Amz-Algorithm, so it is not a presigned URL or was cut short; copy the whole URL")
	case r.Algorithm != algoHMAC && r.Algorithm != algoECDSA:
		add(Error, CodeBadAlgorithm, "X-Amz-Algorithm is %s, not %s; ask for a SigV4 presigned URL", quoteShort(r.Algorithm), algoHMAC)
	}

	r.HasSignature = q.has(paramSignature)
	if !r.HasSignature {
		add(Error, CodeMissingSignature, "the query has no X-Amz-Signature; the URL was cut short or is not presigned; copy the whole URL")
	} else if !validSignature(q.get(paramSignature), r.Algorithm) {
		add(Error, CodeBadSignature, "X-Amz-Signature is not the hex digest SigV4 makes; the URL may have been cut short; copy the whole URL")
	}

	r.HasCredential = q.has(paramCredential)
	var credDate string
	if !r.HasCredential {
		add(Error, CodeMissingCredential, "the query has no X-Amz-Credential; the URL was cut short or is not presigned; copy the whole URL")
	} else {
		var ok bool
		credDate, r.Region, r.Service, ok = parseCredential(q.get(paramCredential), r.Algorithm == algoECDSA)
		if r.Algorithm == algoECDSA {
			r.Region = q.get(paramRegionSet)
		}
		if !ok {
			add(Error, CodeBadCredential,
				"X-Amz-Credential is not of the form <access key>/<yyyymmdd>/<region>/<service>/aws4_request; ask for a new URL")
		} else if r.Service != "s3" {
			add(Warning, CodeBadCredential, "the URL is signed for service %s, not s3; an S3 server will refuse it", quoteShort(r.Service))
		}
	}

	if !q.has(paramDate) {
		add(Error, CodeMissingDate, "the query has no X-Amz-Date; the URL was cut short or is not presigned; copy the whole URL")
	} else if t, err := time.Parse(amzDate, q.get(paramDate)); err != nil {
		add(Error, CodeBadDate, "X-Amz-Date %s is not of the form 20060102T150405Z; ask for a new URL", quoteShort(q.get(paramDate)))
	} else {
		r.SignedAt = t
		if credDate != "" && credDate != t.Format("20060102") {
			add(Error, CodeCredentialDate, "the date in X-Amz-Credential (%s) is not the day of X-Amz-Date (%s); S3 refuses such a URL; ask for a new URL",
				credDate, t.Format("20060102"))
		}
	}

	if !q.has(paramExpires) {
		add(Error, CodeMissingExpires, "the query has no X-Amz-Expires; the URL was cut short or is not presigned; copy the whole URL")
	} else if secs, err := strconv.ParseInt(q.get(paramExpires), 10, 64); err != nil || secs <= 0 {
		add(Error, CodeBadExpires, "X-Amz-Expires %s is not a positive number of seconds; ask for a new URL", quoteShort(q.get(paramExpires)))
	} else if secs > int64(MaxExpires/time.Second) {
		// Kept out of Expires so the arithmetic below cannot overflow.
		add(Error, CodeExpiresTooLong, "X-Amz-Expires is %d seconds, more than the 604800 (7 days) S3 accepts; ask for a URL that expires sooner", secs)
	} else {
		r.Expires = time.Duration(secs) * time.Second
		if !r.SignedAt.IsZero() {
			r.ExpiresAt = r.SignedAt.Add(r.Expires)
		}
	}

	if !q.has(paramSignedHeaders) {
		add(Error, CodeMissingSignedHeaders, "the query has no X-Amz-SignedHeaders; the URL was cut short or is not presigned; copy the whole URL")
	} else {
		sh := q.get(paramSignedHeaders)
		for h := range strings.SplitSeq(sh, ";") {
			r.SignedHeaders = append(r.SignedHeaders, strings.ToLower(strings.TrimSpace(h)))
		}
		switch {
		case slices.Contains(r.SignedHeaders, ""):
			add(Error, CodeBadSignedHeaders, "X-Amz-SignedHeaders has an empty name; ask for a new URL")
		case !r.Signs("host"):
			add(Error, CodeBadSignedHeaders, "X-Amz-SignedHeaders does not include host, which SigV4 requires; ask for a new URL")
		}
	}

	r.ContentSHA256 = q.get(paramContentSHA256)
	if r.ContentSHA256 != "" && r.ContentSHA256 != "UNSIGNED-PAYLOAD" {
		add(Warning, CodeContentSHA256,
			"X-Amz-Content-Sha256 pins the SHA-256 of one exact body, which hoist does not check; the upload works only with exactly that file")
	}

	r.PinnedCRC32 = q.get(paramCRC32)
	if q.has(paramCRC32) && !validCRC32(r.PinnedCRC32) {
		add(Error, CodeBadChecksum, "x-amz-checksum-crc32 %s is not a base64 CRC32 (8 characters, like AAAAAA==); ask for a new URL", quoteShort(r.PinnedCRC32))
	}
	for _, other := range []string{"crc32c", "crc64nvme", "sha1", "sha256"} {
		if q.has("x-amz-checksum-" + other) {
			add(Warning, CodeOtherChecksum,
				"the URL pins a %s checksum in its query, which hoist cannot check before sending; if the server answers BadDigest, ask for a URL without it",
				strings.ToUpper(other))
		}
	}
	r.ChecksumAlgorithm = q.get(paramChecksumAlgo)

	r.XID = q.get(paramXID)
	if r.XID != "" && r.XID != "PutObject" {
		add(Error, CodeWrongOperation, "the URL was made for %s (x-id), not PutObject; ask for an upload (PutObject) URL", quoteShort(r.XID))
	}

	for _, p := range q {
		if name := strings.ToLower(p.name); strings.HasPrefix(name, "x-amz-meta-") {
			if r.QueryMetadata == nil {
				r.QueryMetadata = make(map[string]string)
			}
			r.QueryMetadata[name] = p.value
		}
	}
	return r, nil
}

// isLoopback: 127.0.0.0/8, ::1 and localhost.
// IsLoopback reports whether host is this machine: localhost, 127.0.0.0/8
// or ::1. Plain http and a bearer token are only ever allowed to go there.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addressing is where a URL names its bucket.
type Addressing int

const (
	// AddressingUnknown: a host hoist does not know. Its bucket may be in
	// the host name (MinIO with MINIO_DOMAIN, a CDN in front of a bucket) or
	// be the first path segment; guessing wrong would report a wrong key.
	AddressingUnknown Addressing = iota
	// PathStyle: host/bucket/key.
	PathStyle
	// VirtualHosted: bucket.host/key.
	VirtualHosted
)

// storageHost is a provider's family of S3 endpoint names, told apart by
// what precedes their common suffix.
type storageHost struct {
	suffix string
	// s3Label: the endpoint starts at a label "s3" or "s3-…" (s3.REGION,
	// s3-REGION, s3-accelerate, s3.dualstack.REGION, …); labels before it
	// are the bucket.
	s3Label bool
	// endpointLabels: otherwise the endpoint has this many labels before
	// the suffix (R2's account id, Spaces' region) and the labels in front
	// of them are the bucket.
	endpointLabels int
	// optional is a label that may stand right before the suffix (R2's
	// jurisdictions) without being counted.
	optional []string
}

// storageHosts are the providers whose names are known. AWS's VPC endpoint
// names (….vpce.amazonaws.com) and every other host stay unknown.
var storageHosts = []storageHost{
	{suffix: "amazonaws.com", s3Label: true},
	{suffix: "amazonaws.com.cn", s3Label: true},
	{suffix: "r2.cloudflarestorage.com", endpointLabels: 1, optional: []string{"eu", "fedramp"}},
	{suffix: "backblazeb2.com", s3Label: true},
	{suffix: "wasabisys.com", s3Label: true},
	{suffix: "digitaloceanspaces.com", endpointLabels: 1},
	{suffix: "storage.googleapis.com"},
}

// bucketAndKey reads the bucket and key from a URL whose addressing its host
// tells: a known provider's name, an IP address or localhost (path-style:
// a bucket cannot be an IP address). For any other host it guesses nothing.
func bucketAndKey(host, path string) (bucket, key string, a Addressing) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	objectPath := strings.TrimPrefix(path, "/")
	if host == "localhost" || net.ParseIP(host) != nil {
		bucket, key, _ = strings.Cut(objectPath, "/")
		return bucket, key, PathStyle
	}
	for _, sh := range storageHosts {
		var labels []string
		if host != sh.suffix {
			rest, ok := strings.CutSuffix(host, "."+sh.suffix)
			if !ok {
				continue
			}
			labels = strings.Split(rest, ".")
		}
		n := bucketLabels(sh, labels)
		switch {
		case n < 0:
			return "", objectPath, AddressingUnknown
		case n == 0:
			bucket, key, _ = strings.Cut(objectPath, "/")
			return bucket, key, PathStyle
		}
		return strings.Join(labels[:n], "."), objectPath, VirtualHosted
	}
	return "", objectPath, AddressingUnknown
}

// bucketLabels is how many of a known provider's host labels name the
// bucket: 0 for a path-style endpoint, -1 when the name is not one of the
// provider's endpoint forms.
func bucketLabels(sh storageHost, labels []string) int {
	if slices.Contains(labels, "vpce") {
		return -1 // bucket.vpce-….s3.REGION.vpce.amazonaws.com and kin
	}
	if sh.s3Label {
		// The rightmost such label starts the endpoint: a bucket name may
		// have "s3" as one of its own labels.
		for i := len(labels) - 1; i >= 0; i-- {
			if isS3Label(labels[i]) {
				return i
			}
		}
		return -1
	}
	n := len(labels)
	if n > 1 && slices.Contains(sh.optional, labels[n-1]) {
		n--
	}
	if n < sh.endpointLabels {
		return -1
	}
	return n - sh.endpointLabels
}

// isS3Label reports whether a host label starts an S3 endpoint name.
func isS3Label(l string) bool {
	return l == "s3" || strings.HasPrefix(l, "s3-") || strings.HasPrefix(l, "s3express-")
}

// parseCredential splits <key>/<date>/<region>/<service>/aws4_request (SigV4)
// or <key>/<date>/<service>/aws4_request (SigV4a). The key is dropped here so
// it can never reach a Report.
func parseCredential(v string, sigv4a bool) (date, region, service string, ok bool) {
	parts := strings.Split(v, "/")
	want := 5
	if sigv4a {
		want = 4
	}
	if len(parts) != want || parts[0] == "" || parts[want-1] != "aws4_request" {
		return "", "", "", false
	}
	if _, err := time.Parse("20060102", parts[1]); err != nil {
		return "", "", "", false
	}
	if sigv4a {
		return parts[1], "", parts[2], parts[2] != ""
	}
	return parts[1], parts[2], parts[3], parts[2] != "" && parts[3] != ""
}

func validSignature(sig, algorithm string) bool {
	if sig == "" || len(sig)%2 != 0 {
		return false
	}
	if algorithm == algoHMAC && len(sig) != 64 {
		return false
	}
	for _, c := range sig {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func validCRC32(v string) bool {
	_, ok := DecodeCRC32(v)
	return ok
}

// printable returns s, or s quoted when it holds a control character or
// another rune a terminal would not show as itself: the values come from a
// URL someone else made, and a newline or escape sequence in one must not
// reach a terminal or split a one-line message.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// printables applies printable to the strings among args.
func printables(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			a = printable(s)
		}
		out[i] = a
	}
	return out
}

// quoteShort quotes a non-secret value for a message, cut to a readable length.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// param is one name=value pair of the query, decoded.
type param struct{ name, value string }

type query []param

// is reports whether p is the parameter lower names, in any case. The length
// is compared first: EqualFold walks the shared "x-amz-" before it finds two
// names apart, and a lookup of each parameter by name was a quarter of
// Parse's time (issue 15).
func (p param) is(lower string) bool {
	return len(p.name) == len(lower) && strings.EqualFold(p.name, lower)
}

// parseQuery splits on & only, as S3 does: url.ParseQuery would also drop any
// pair with a bare ';', which hand-built URLs have in X-Amz-SignedHeaders.
// ok is false when some escape is malformed; that pair is left out.
func parseQuery(raw string) (q query, ok bool) {
	ok = true
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			ok = false
			continue
		}
		q = append(q, param{name, value})
	}
	return q, ok
}

func (q query) has(name string) bool {
	for _, p := range q {
		if p.is(name) {
			return true
		}
	}
	return false
}

func (q query) get(name string) string {
	for _, p := range q {
		if p.is(name) {
			return p.value
		}
	}
	return ""
}

// name is how the URL spells a parameter, for messages.
func (q query) name(lower string) string {
	for _, p := range q {
		if p.is(lower) {
			return p.name
		}
	}
	return lower
}

func (q query) duplicates(names ...string) []string {
	var dup []string
	for _, n := range names {
		count := 0
		for _, p := range q {
			if p.is(n) {
				count++
			}
		}
		if count > 1 {
			dup = append(dup, n)
		}
	}
	return dup
}

func (a Addressing) String() string {
	switch a {
	case PathStyle:
		return "path-style"
	case VirtualHosted:
		return "virtual-hosted"
	}
	return "unknown"
}
