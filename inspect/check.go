package inspect

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// S3MaxSinglePut is the largest body S3 takes in one PUT: 5 GiB.
const S3MaxSinglePut int64 = 5 << 30

// Plan is what hoist is about to do with a URL, so Check can tell what will
// fail before anything is sent.
type Plan struct {
	Now time.Time // zero means time.Now()

	FileName string // as a person calls it, for messages
	HasFile  bool   // false for `hoist inspect URL` alone: no file checks
	FileSize int64
	CRC32    uint32
	HasCRC32 bool

	// Metadata is the x-amz-meta-* headers hoist has values for, by lower-case
	// name (uploader.Metadata.Values).
	Metadata map[string]string

	EstimatedDuration time.Duration // expected upload time; 0 = unknown
	MaxSinglePut      int64         // S3MaxSinglePut for S3; 0 = no limit
}

// metadataFlags names the setting that fills each x-amz-meta-* header the
// API signs.
var metadataFlags = map[string]string{
	"x-amz-meta-organization-id": "--org-id",
	"x-amz-meta-user-id":         "--user-id",
	"x-amz-meta-ttl-hours":       "--ttl-hours",
}

// notYetValidSlack is how far in the future a signing time may be before it
// is worth a warning; S3 allows clocks to differ by 15 minutes.
const notYetValidSlack = 15 * time.Minute

// Check returns r.Problems and what else will go wrong with p: an expired
// URL, a signed header hoist cannot fill, a pinned checksum the file does not
// have, a file too large for one PUT.
func (r Report) Check(p Plan) []Problem {
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	problems := slices.Clone(r.Problems)
	add := func(sev Severity, code, format string, args ...any) {
		problems = append(problems, Problem{Severity: sev, Code: code, Message: fmt.Sprintf(format, printables(args)...)})
	}

	if !r.ExpiresAt.IsZero() {
		left := r.ExpiresAt.Sub(now)
		switch {
		case left <= 0:
			add(Error, CodeExpired, "the URL expired %s ago (at %s); ask for a new URL",
				roughDuration(-left), r.ExpiresAt.UTC().Format(time.RFC3339))
		case p.EstimatedDuration > 0 && left < p.EstimatedDuration:
			add(Warning, CodeExpiring, "the URL expires in %s (at %s), sooner than the upload is expected to take (about %s); start it now, or ask for a URL that lasts longer",
				roughDuration(left), r.ExpiresAt.UTC().Format(time.RFC3339), roughDuration(p.EstimatedDuration))
		}
	}
	if !r.SignedAt.IsZero() && r.SignedAt.Sub(now) > notYetValidSlack {
		add(Warning, CodeNotYetValid, "the URL is signed %s in the future (%s); this clock or the signer's is wrong, and S3 refuses it until then; check the clocks",
			roughDuration(r.SignedAt.Sub(now)), r.SignedAt.UTC().Format(time.RFC3339))
	}

	for _, h := range r.SignedHeaders {
		if h == HeaderCRC32 && !p.HasCRC32 {
			continue // hoist hashes the file before it asks for the headers
		}
		if _, _, prob := headerValue(r, p, h); prob != nil {
			problems = append(problems, *prob)
		}
	}
	for _, name := range sortedKeys(p.Metadata) {
		v := p.Metadata[name]
		switch qv, inQuery := r.QueryMetadata[name]; {
		case v == "" || r.Signs(name):
		case inQuery && qv != v:
			add(Warning, CodeQueryMetadata, "the URL fixes %s=%s in its query, so %s %s is not used; ask for a URL made with that value",
				name, quoteShort(qv), flagFor(name), quoteShort(v))
		case !inQuery:
			add(Warning, CodeUnusedMetadata, "%s is set, but the URL does not sign %s, so hoist does not send it (S3 refuses unsigned metadata); ask for a URL that signs it",
				flagFor(name), name)
		}
	}

	if p.HasFile {
		file := p.FileName
		if file == "" {
			file = "the file"
		}
		if r.PinnedCRC32 != "" && validCRC32(r.PinnedCRC32) {
			crc, known := p.CRC32, p.HasCRC32
			if p.FileSize == 0 {
				crc, known = 0, true
			}
			switch {
			case r.PinnedCRC32 == EmptyCRC32 && p.FileSize > 0:
				add(Warning, CodeEmptyBodyChecksum, "the URL pins x-amz-checksum-crc32=%s, the CRC32 of an EMPTY body (the JS SDK ≥ 3.729 default), but %s is not empty; AWS S3 and versitygw ignore a checksum given only in the query, but R2, Garage and SeaweedFS reject the upload with 400; if they do, ask for a URL presigned without a checksum or with this file's CRC32",
					EmptyCRC32, file)
			case known && EncodeCRC32(crc) != r.PinnedCRC32:
				add(Error, CodeChecksumMismatch, "URL was signed for different content — is it the right file? It pins CRC32 %s, %s has %s; check the file, or ask for a URL made for this one",
					r.PinnedCRC32, file, EncodeCRC32(crc))
			}
		}
		if p.MaxSinglePut > 0 && p.FileSize > p.MaxSinglePut {
			add(Error, CodeTooLarge, "%s is %s, more than one PUT may carry (%s); use --s3 (or --presign-url) so hoist can upload it in parts",
				file, humanize.IBytes(uint64(p.FileSize)), humanize.IBytes(uint64(p.MaxSinglePut)))
		}
	}
	return problems
}

// SendHeaders returns the headers hoist must send so the request matches
// what the URL signed: each signed header with the value it was signed with.
// Metadata the URL does not sign is left out: S3 answers 403 "headers
// present in the request which were not signed". The error names the flag
// to set, or says hoist cannot send a header at all.
func SendHeaders(r Report, p Plan) (http.Header, error) {
	h := make(http.Header)
	for _, name := range r.SignedHeaders {
		if name == HeaderCRC32 && !p.HasCRC32 {
			return nil, errors.New("the URL signs x-amz-checksum-crc32, but the file's CRC32 was not computed; this is a bug in hoist; please report it")
		}
		value, send, prob := headerValue(r, p, name)
		if prob != nil {
			return nil, errors.New(prob.Message)
		}
		if send {
			h.Set(name, value)
		}
	}
	return h, nil
}

// HeaderCRC32 carries the body's CRC32 (base64, as EncodeCRC32 writes it).
const HeaderCRC32 = "x-amz-checksum-crc32"

const (
	headerChecksumAlgo = "x-amz-sdk-checksum-algorithm"
	headerSHA256       = "x-amz-content-sha256"
)

// headerValue says what hoist sends for one signed header; send is false
// when Go's HTTP client sets it (host, content-length). prob is not nil when
// hoist cannot send it with the value it was signed with.
func headerValue(r Report, p Plan, name string) (value string, send bool, prob *Problem) {
	name = strings.ToLower(name)
	shown := printable(name)
	switch {
	case name == "host" || name == "content-length":
		return "", false, nil
	case name == "content-type":
		return "application/octet-stream", true, nil
	case name == HeaderCRC32:
		return EncodeCRC32(p.CRC32), true, nil
	case name == headerChecksumAlgo:
		return "CRC32", true, nil
	case name == headerSHA256:
		if r.ContentSHA256 != "" {
			return r.ContentSHA256, true, nil
		}
		return "UNSIGNED-PAYLOAD", true, nil
	case strings.HasPrefix(name, "x-amz-meta-"):
		if v := p.Metadata[name]; v != "" {
			return v, true, nil
		}
		if flag, ok := metadataFlags[name]; ok {
			return "", false, &Problem{Error, CodeMissingMetadata,
				fmt.Sprintf("the URL signs %s, which must be sent with the value it was signed with; set %s", shown, flag)}
		}
		return "", false, &Problem{Error, CodeUnsendableHeader,
			fmt.Sprintf("signed header %s: hoist cannot send it (it fills only --org-id, --user-id and --ttl-hours); ask for a URL that does not sign it", shown)}
	}
	return "", false, &Problem{Error, CodeUnsendableHeader,
		fmt.Sprintf("signed header %s: hoist cannot send it (it knows the value of host, content-type, x-amz-meta-* and checksum headers only); ask for a URL that does not sign it", shown)}
}

func flagFor(header string) string {
	if f, ok := metadataFlags[header]; ok {
		return f
	}
	return header
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// roughDuration writes d as a person reads it: its two largest units, with
// a zero second unit left out ("3h", "42m10s", "2d5h", "15s").
func roughDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	if d == 0 {
		return "under a second"
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for i, u := range units {
		if d < u.size && i < len(units)-1 {
			continue
		}
		s := fmt.Sprintf("%d%s", d/u.size, u.name)
		if i+1 < len(units) {
			next := units[i+1]
			if n := (d % u.size) / next.size; n > 0 {
				s += fmt.Sprintf("%d%s", n, next.name)
			}
		}
		return s
	}
	return "0s"
}
