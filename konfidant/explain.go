package konfidant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"hoist/uploader"
)

// Error is a failed API call phrased for a person on one line: what
// Konfidant said and what to do next. The answer is kept for errors.As
// (*uploader.ServerError) and errors.Is.
type Error struct {
	msg string
	err error
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.err }

// Status is the HTTP status of the answer, 0 when none came.
func (e *Error) Status() int {
	var se *uploader.ServerError
	if errors.As(e.err, &se) {
		return se.Status
	}
	return 0
}

// ttlLimit finds the plan's limit in a "TTL above plan maximum" message:
// the first number of hours it names.
var ttlLimit = regexp.MustCompile(`(\d+)\s*(?:h\b|hours?\b)|maximum(?: is| of)?\s*:?\s*(\d+)`)

// explain turns a failed call into one line. Each status says what it means
// for this API; the server's own words follow in brackets.
func (c *Client) explain(method, path string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var se *uploader.ServerError
	if !errors.As(err, &se) {
		return &Error{msg: fmt.Sprintf("could not reach Konfidant's API at %s: %s; check the connection and --api-url, then try again", c.host, networkWords(err)), err: err}
	}
	said := se.Error()
	var what, next string
	switch {
	case se.Status == http.StatusUnauthorized:
		what, next = "Konfidant refused the API key", "check the key in "+c.keySource+" (it came from there)"
	case se.Status == http.StatusForbidden:
		what, next = "the API key lacks the files:create scope", "create a key with files:create in Konfidant's settings"
	case se.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(se.Message), "ttl"):
		what, next = "the TTL is above what your plan allows", "choose a shorter --ttl-hours"
		if m := ttlLimit.FindStringSubmatch(se.Message); m != nil {
			limit := cmp.Or(m[1], m[2])
			what = "the TTL is above your plan's maximum of " + limit + " hours"
			next = "use --ttl-hours " + limit + " or less"
		}
	case se.Status == http.StatusBadRequest:
		what, next = "Konfidant refused the request as malformed", "this may be a bug in hoist or a different API at --api-url"
	case se.Status == http.StatusNotFound:
		what, next = "Konfidant has no such endpoint or upload ("+method+" "+path+")", "check --api-url points at Konfidant's API"
	case se.Status == http.StatusConflict && se.Code == "upload_incomplete":
		what, next = "Konfidant says the encrypted file did not fully arrive", "upload it again"
	case se.Status == http.StatusConflict:
		what, next = "Konfidant refused the request as conflicting", "upload the file again"
	case se.Status == http.StatusGone:
		what, next = "the upload slot is gone (expired or already used)", "upload the file again"
	case se.Status == http.StatusTooManyRequests:
		what, next = "Konfidant kept answering that the key is over its rate limit", "lower --api-rate or wait a minute"
	case se.Status >= 500:
		what, next = "Konfidant's API failed", "try again later"
	default:
		what, next = "Konfidant refused the request", "see its message"
	}
	return &Error{msg: fmt.Sprintf("%s (%s); %s", what, said, next), err: err}
}

// networkWords names a network failure briefly.
func networkWords(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "no such host"):
		return "no such host"
	case strings.Contains(s, "EOF"):
		return "the connection closed before an answer"
	}
	return s
}
