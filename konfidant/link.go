package konfidant

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"hoist/knf1"
	"hoist/uploader"
)

// ErrBadLink: a share link hoist cannot use (no token, no key, a malformed
// key, not an http(s) URL).
var ErrBadLink = errors.New("not a Konfidant share link")

// ShareLink makes the link a recipient opens: the download URL Konfidant
// gave, with the key added to its fragment. Browsers never send a fragment to
// a server, so the key reaches no one but the recipient; a download URL
// without a "#t=" fragment is refused, since the key would then travel in
// its path or query.
func ShareLink(downloadURL string, key knf1.Key) (string, error) {
	u, err := url.Parse(downloadURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", uploader.Permanent(errors.New("the download_url Konfidant gave is not an http(s) URL; no link was made"))
	}
	if !strings.HasPrefix(u.EscapedFragment(), "t=") || len(u.EscapedFragment()) == len("t=") {
		return "", uploader.Permanent(errors.New("the download_url Konfidant gave has no #t= fragment, so the key would reach a server; no link was made"))
	}
	return downloadURL + "&k=" + key.String(), nil
}

// Link is a parsed share link.
type Link struct {
	Origin string // scheme://host of the download service
	Token  string // the one-time token, sent to Origin
	Key    knf1.Key
}

// ParseLink reads a share link: https://<host>/#t=<token>&k=<key>.
func ParseLink(raw string) (Link, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Link{}, fmt.Errorf("%w: it is not an http(s) URL", ErrBadLink)
	}
	frag, err := url.ParseQuery(u.EscapedFragment())
	if err != nil {
		return Link{}, fmt.Errorf("%w: its #… part is malformed", ErrBadLink)
	}
	token, key := frag.Get("t"), frag.Get("k")
	switch {
	case token == "":
		return Link{}, fmt.Errorf("%w: it has no #t= (the token); copy the whole link", ErrBadLink)
	case key == "":
		return Link{}, fmt.Errorf("%w: it has no k= (the key); copy the whole link", ErrBadLink)
	}
	k, err := knf1.ParseKey(key)
	if err != nil {
		return Link{}, fmt.Errorf("%w: its key (k=) is malformed: %w; copy the whole link", ErrBadLink, err)
	}
	return Link{Origin: u.Scheme + "://" + u.Host, Token: token, Key: k}, nil
}
