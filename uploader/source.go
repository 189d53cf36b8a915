package uploader

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hoist/fileset"
)

// Metadata is what the form asks for; it travels as x-amz-meta-* headers.
type Metadata struct {
	OrgID    string
	UserID   string
	TTLHours int // 0 means "not set"
}

// Header names of the metadata, exactly as the API signs them.
const (
	HeaderOrgID    = "x-amz-meta-organization-id"
	HeaderUserID   = "x-amz-meta-user-id"
	HeaderTTLHours = "x-amz-meta-ttl-hours"
)

// Limits of the metadata values hoist sends.
const (
	MaxIDLength = 256
	MaxTTLHours = 8760 // one year
)

// MetadataError names the field a metadata value is wrong in.
type MetadataError struct {
	Header  string // HeaderOrgID, HeaderUserID or HeaderTTLHours
	Problem string // what is wrong, e.g. "at most 256 characters"
}

func (e *MetadataError) Error() string { return e.Header + ": " + e.Problem }

// Validate checks every set field with ValidateField; the first problem is
// returned as a *MetadataError. Unset fields are not checked here: which
// ones a destination requires is the destination's rule.
func (m Metadata) Validate() error {
	for _, f := range []struct{ header, value string }{
		{HeaderOrgID, m.OrgID}, {HeaderUserID, m.UserID}, {HeaderTTLHours, ttlText(m.TTLHours)},
	} {
		if f.value == "" {
			continue
		}
		if p := ValidateField(f.header, f.value); p != "" {
			return &MetadataError{Header: f.header, Problem: p}
		}
	}
	return nil
}

func ttlText(h int) string {
	if h == 0 {
		return ""
	}
	return strconv.Itoa(h)
}

// ValidateField says what is wrong with one metadata value, or "" when it is
// fine: the one rule the form, the settings and the engine share.
func ValidateField(header, value string) string {
	v := strings.TrimSpace(value)
	if v == "" {
		return "required"
	}
	if header == HeaderTTLHours {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return "a whole number of hours, like 48"
		case n < 1:
			return "at least 1 hour"
		case n > MaxTTLHours:
			return fmt.Sprintf("at most %d hours (one year)", MaxTTLHours)
		}
		return ""
	}
	if len(v) > MaxIDLength {
		return fmt.Sprintf("at most %d characters (this one has %d)", MaxIDLength, len(v))
	}
	for _, r := range v {
		// Metadata travels in HTTP headers and is signed as sent: plain
		// printable ASCII is what every S3 implementation accepts unchanged.
		if r < 0x20 || r > 0x7e {
			return "letters, digits and ASCII punctuation only (no line breaks or control characters)"
		}
	}
	return ""
}

// Values returns the metadata as header name → value, leaving out unset fields.
// Names are lower case, the form in which they appear in X-Amz-SignedHeaders.
func (m Metadata) Values() map[string]string {
	v := make(map[string]string, 3)
	if m.OrgID != "" {
		v[HeaderOrgID] = m.OrgID
	}
	if m.UserID != "" {
		v[HeaderUserID] = m.UserID
	}
	if m.TTLHours > 0 {
		v[HeaderTTLHours] = strconv.Itoa(m.TTLHours)
	}
	return v
}

// File is one file to upload; fileset decides which files can be sent and
// what each is called.
type File = fileset.File

// FormField is one field of a presigned POST form (Companion's /s3/params).
type FormField struct {
	Name, Value string
}

// Target says how to send one file (or one part): everything the engine needs
// and nothing about where it came from.
type Target struct {
	Method string      // PUT, or POST for a form upload
	URL    string      // full URL, query included: never printed, never logged
	Header http.Header // headers that must be sent with exactly these values (metadata, checksums)
	Key    string      // object key, for reports
	// Form, when not nil, makes the request multipart/form-data: these fields
	// first and the file last (a presigned POST).
	Form []FormField
	// SendToken says whether the bearer token goes with this request. Only the
	// given-URL source sets it: the API documents it as required.
	SendToken bool
	// Expires is when the URL stops working; zero when unknown.
	Expires time.Time
	// PinnedCRC32 is a checksum the URL fixes in its query ("" when none), so an
	// error from the server can be explained against it.
	PinnedCRC32 string
	// Location tells a person where the object will be found, when that is not
	// obvious from the key (the embedded store's folder on disk).
	Location string
	// Signer is set when hoist signed the URL itself (the S3 source): a
	// refused signature or region is then its credentials' or settings'
	// doing, not the URL's, and is explained so.
	Signer *Signer

	// Body, when not nil, makes the request body from the file's bytes (an
	// encryption, say), and BodySize is that body's exact length. The engine
	// still reads, counts and paces the file's own bytes, so progress is the
	// file's. A target with a Body serves one attempt: a retry asks the source
	// for a fresh Target, so no two attempts share its secrets (a key and
	// nonce must never encrypt two plaintexts).
	Body     func(file io.Reader) io.Reader
	BodySize int64
	// Finish, when not nil, is called once the upload succeeded, to make what
	// the source makes of it (a share link). An error fails the file.
	Finish func(ctx context.Context) (Share, error)
}

// Signer says what hoist signed a Target with. It holds no secret.
type Signer struct {
	// Credentials says where the keys came from, for a person to check
	// them there: "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
	// `profile "dev" in ~/.aws/credentials`, ….
	Credentials string
	Region      string // the region signed for

}

// Share is a link a sharing source made for an uploaded file. The URL is a
// secret: shown to its owner, never logged.
type Share struct {
	URL     string
	Expires time.Time // zero when unknown
}

// Capabilities are what a source can do beyond handing out one URL per file.
type Capabilities struct {
	Resign       bool  // Target may be called again for a fresh URL (expired, near expiry)
	Multipart    bool  // the source implements MultipartSource
	MaxSinglePut int64 // largest body a single request may carry; 0 means no limit
	// OneAtATime: the destination serves one request at a time and queues
	// the rest inside itself (the embedded store). The engine then sends it
	// one at a time: a file whose turn has not come is StateWaiting, holds
	// no connection and none of the rate budget, and is never taken for a
	// stalled upload, as a body stuck behind another one in the server was.
	OneAtATime bool
}

// Source turns a file into a Target. The engine sees nothing else of where URLs
// come from.
type Source interface {
	// Describe says where files go, safe to print: scheme, host and key
	// prefix, never a query string or a secret.
	Describe() string
	Capabilities() Capabilities
	// WantsChecksum reports whether Target needs f.CRC32 (a signed checksum
	// header, or a pinned checksum to compare against).
	WantsChecksum(f File) bool
	// Target returns how to send f with md. It is called again on retries
	// after an expiry when the source can re-sign.
	Target(ctx context.Context, f File, md Metadata) (Target, error)
}

// Upload names one multipart upload in progress.
type Upload struct {
	Key      string
	UploadID string
	// Initiated is when the server says the upload began; set only by
	// UploadLister.
	Initiated time.Time
}

// Part is one finished part of a multipart upload.
type Part struct {
	Number int
	Size   int64
	ETag   string
	CRC32  uint32
}

// MultipartSource is a Source that can split a file into parts.
type MultipartSource interface {
	Source
	CreateMultipart(ctx context.Context, f File, md Metadata) (Upload, error)
	// PartTarget signs one part; crc is that part's CRC32, sent as a signed header.
	PartTarget(ctx context.Context, u Upload, number int, size int64, crc uint32) (Target, error)
	ListParts(ctx context.Context, u Upload) ([]Part, error)
	CompleteMultipart(ctx context.Context, u Upload, parts []Part) (etag string, err error)
	AbortMultipart(ctx context.Context, u Upload) error
}

// Exister is a source that can tell whether f's object is already stored
// (S3: a HEAD), so Options.SkipExisting costs no upload.
type Exister interface {
	Exists(ctx context.Context, f File) (bool, error)
}

// UploadLister is a MultipartSource that can list the multipart uploads in
// progress for the key a file goes to. A CreateMultipart whose answer was
// lost leaves an upload the engine never heard of; this finds it.
type UploadLister interface {
	ListUploads(ctx context.Context, f File) ([]Upload, error)
}

// ObjectStatter is a source that can ask the server about a stored object:
// its size and ETag. A CompleteMultipart that raced an interrupt is resolved
// with it ("" etag and -1 size when the object does not exist).
type ObjectStatter interface {
	StatObject(ctx context.Context, key string) (size int64, etag string, err error)
}
