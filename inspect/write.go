package inspect

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Write prints what `hoist inspect URL` shows: where the URL points, when it
// was signed and stops working, what it signs and pins, then the problems.
// Nothing secret is in r, so nothing secret can be printed; values from the
// URL that a terminal would not show as themselves are quoted.
func Write(w io.Writer, r Report, problems []Problem, now time.Time) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-15s %s\n", label, fmt.Sprintf(format, printables(args)...))
	}
	orNone := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}

	line("url", "%s", r.Redacted())
	switch r.Addressing {
	case VirtualHosted:
		line("bucket", "%s (from the host name)", r.Bucket)
		line("key", "%s", orNone(r.Key))
	case PathStyle:
		line("bucket", "%s (first path segment)", orNone(r.Bucket))
		line("key", "%s", orNone(r.Key))
	default:
		line("bucket", "(unknown: %s may name it, or the path's first segment may)", r.Host)
		line("key", "%s (the whole object path)", orNone(r.Key))
	}

	if r.SignedAt.IsZero() {
		line("signed", "(unknown) with %s", orNone(r.Algorithm))
	} else {
		line("signed", "%s with %s", r.SignedAt.UTC().Format(time.RFC3339), orNone(r.Algorithm))
	}
	switch {
	case r.ExpiresAt.IsZero():
		line("expires", "(unknown)")
	case !now.Before(r.ExpiresAt):
		line("expires", "%s, expired %s ago (it lasted %s)", r.ExpiresAt.UTC().Format(time.RFC3339),
			roughDuration(now.Sub(r.ExpiresAt)), roughDuration(r.Expires))
	default:
		line("expires", "%s, in %s (it lasts %s)", r.ExpiresAt.UTC().Format(time.RFC3339),
			roughDuration(r.ExpiresAt.Sub(now)), roughDuration(r.Expires))
	}
	if r.Service != "" && r.Service != "s3" {
		line("region", "%s (service %s)", orNone(r.Region), r.Service)
	} else {
		line("region", "%s", orNone(r.Region))
	}
	line("credential", "%s", presence(r.HasCredential, "access key id not shown"))
	line("signature", "%s", presence(r.HasSignature, "not shown"))
	line("signed headers", "%s", orNone(strings.Join(r.SignedHeaders, ", ")))
	if r.ContentSHA256 != "" {
		line("payload", "%s", r.ContentSHA256)
	}

	var checksum []string
	if r.PinnedCRC32 != "" {
		c := "x-amz-checksum-crc32=" + r.PinnedCRC32 + " in the query"
		if r.PinnedCRC32 == EmptyCRC32 {
			c += " (the CRC32 of an empty body: only an empty file matches)"
		}
		checksum = append(checksum, c)
	}
	if r.Signs(HeaderCRC32) {
		checksum = append(checksum, "x-amz-checksum-crc32 signed as a header (hoist sends the file's CRC32)")
	}
	if len(checksum) == 0 {
		checksum = append(checksum, "none pinned")
	}
	if r.ChecksumAlgorithm != "" {
		checksum = append(checksum, "algorithm "+r.ChecksumAlgorithm)
	}
	line("checksum", "%s", strings.Join(checksum, "; "))
	if r.XID != "" {
		line("x-id", "%s", r.XID)
	}
	for _, name := range sortedKeys(r.QueryMetadata) {
		line("query metadata", "%s=%s", name, r.QueryMetadata[name])
	}

	fmt.Fprintln(w)
	if len(problems) == 0 {
		fmt.Fprintln(w, "no problems found")
		return
	}
	sorted := slices.Clone(problems)
	slices.SortStableFunc(sorted, func(a, b Problem) int { return int(b.Severity) - int(a.Severity) })
	fmt.Fprintln(w, "problems")
	for _, p := range sorted {
		fmt.Fprintf(w, "  %-8s %s\n", p.Severity, printable(p.Message))
	}
}

func presence(ok bool, note string) string {
	if ok {
		return "present (" + note + ")"
	}
	return "missing"
}
