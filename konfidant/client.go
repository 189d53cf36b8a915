// Package konfidant talks to Konfidant's API (konfidant.app), the service
// that turns an uploaded file into a one-time share link: an upload slot per
// file, a completion that makes the link, and the recipient's download. The
// protocol is the official SDKs' (konfidant/sdk-go, sdk-js): see
// ../../shared/KONFIDANT.md. The API key goes to the API's host only: never
// to an upload URL, never to a download host, never after a redirect.
package konfidant

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"hoist/inspect"
	"hoist/uploader"
)

// DefaultAPIURL is Konfidant's own API.
const DefaultAPIURL = "https://www.konfidant.app"

// DefaultRate is how many API calls a minute hoist makes by default: the
// API's own default limit per key.
const DefaultRate = 60

// maxAnswer bounds a successful JSON answer; error bodies are bounded by
// uploader.ParseServerError's reader (64 KiB).
const (
	maxAnswer    = 1 << 20
	maxErrorBody = 64 << 10
)

// Config says which API to talk to and with what key.
type Config struct {
	APIURL string // default DefaultAPIURL
	APIKey string
	// KeySource says where the key came from ("KONFIDANT_API_KEY",
	// "--token-file /path"…), so a refused key can be traced.
	KeySource string
	// Rate is API calls per minute (default DefaultRate); a burst of one,
	// so no minute ever sees more.
	Rate   float64
	Retry  uploader.RetryPolicy
	Client *http.Client // default uploader.NewClient(), which follows no redirect
}

// Client makes Konfidant API calls, paced and retried.
type Client struct {
	base      string // scheme://host[/path], no trailing slash
	host      string
	key       string
	keySource string
	limiter   *rate.Limiter
	retry     uploader.RetryPolicy
	http      *http.Client
	now       func() time.Time
}

// New checks the API URL and key; nothing is sent.
func New(c Config) (*Client, error) {
	base, err := CheckAPIURL(cmp.Or(c.APIURL, DefaultAPIURL))
	if err != nil {
		return nil, err
	}
	if c.APIKey == "" {
		return nil, errors.New("no Konfidant API key: set KONFIDANT_API_KEY (or HOIST_TOKEN, --token-file, or token in the config file)")
	}
	hc := c.Client
	if hc == nil {
		hc = uploader.NewClient()
	}
	// A copy that never follows a redirect: the key would go with it.
	noRedirects := *hc
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	perMinute := c.Rate
	if perMinute <= 0 {
		perMinute = DefaultRate
	}
	u, _ := url.Parse(base)
	return &Client{
		base:      base,
		host:      u.Host,
		key:       c.APIKey,
		keySource: cmp.Or(c.KeySource, "the configured key"),
		limiter:   rate.NewLimiter(rate.Limit(perMinute/60), 1),
		retry:     c.Retry,
		http:      &noRedirects,
		now:       time.Now,
	}, nil
}

// CheckAPIURL checks an --api-url: http(s), a host, no user, query or
// fragment, and https unless the host is this machine (the key would cross
// the network in clear). It returns the URL without a trailing slash.
func CheckAPIURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--api-url %q is not an http(s) URL with a host; give Konfidant's API base, e.g. %s", safeShown(raw), DefaultAPIURL)
	}
	shown := u.Scheme + "://" + u.Host + u.EscapedPath()
	switch {
	case u.User != nil:
		return "", fmt.Errorf("--api-url %s carries a user name or password; remove it and put the key in KONFIDANT_API_KEY", shown)
	case u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#"):
		return "", fmt.Errorf("--api-url %s has a query or fragment; give the API base alone", shown)
	case u.Scheme == "http" && !inspect.IsLoopback(u.Hostname()):
		return "", fmt.Errorf("--api-url %s is plain http to %s, and the API key would cross the network unencrypted; use https://", shown, u.Hostname())
	}
	return strings.TrimRight(shown, "/"), nil
}

// safeShown cuts a query or fragment off text that failed to parse as a URL.
func safeShown(raw string) string {
	raw, _, _ = strings.Cut(raw, "?")
	raw, _, _ = strings.Cut(raw, "#")
	return raw
}

// Describe is the API's address, safe to print.
func (c *Client) Describe() string { return c.base }

// call sends one API request (paced, retried by the engine's rule) and
// decodes a 2xx JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, payload, out any) error {
	var body []byte
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return err
		}
	}
	var answer []byte
	err := c.retry.Do(ctx, func(ctx context.Context, _ int) error {
		if err := c.limiter.Wait(ctx); err != nil {
			return uploader.Permanent(context.Cause(ctx))
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
		if err != nil {
			return uploader.Permanent(err)
		}
		if payload == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		// The key goes here and nowhere else: c.base is the API's origin.
		req.Header.Set("Authorization", "Bearer "+c.key)
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return uploader.WithoutRequestURL(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			return uploader.ParseServerError(resp.StatusCode, resp.Header, b)
		}
		answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		return err
	}, nil)
	if err != nil {
		return c.explain(method, path, err)
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			return uploader.Permanent(fmt.Errorf("the answer to %s %s is not the JSON Konfidant's API documents (%v); check --api-url", method, c.base+path, err))
		}
	}
	return nil
}
