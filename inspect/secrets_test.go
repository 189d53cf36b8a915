package inspect

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// secretParams are the query parameters whose values are secret, by lower-case
// name. For X-Amz-Credential only the access key id before the first / is.
var secretParams = map[string]bool{
	paramSignature: true, paramCredential: true, paramSecurityToken: true,
	"signature": true, "awsaccesskeyid": true, // SigV2
}

// secretsIn returns the secret values in raw's query, decoded as Parse reads them.
func secretsIn(raw string) []string {
	_, query := splitQuery(raw)
	var secrets []string
	for pair := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || !secretParams[strings.ToLower(name)] {
			continue
		}
		if strings.EqualFold(name, paramCredential) {
			value, _, _ = strings.Cut(value, "/")
		}
		secrets = append(secrets, value)
	}
	return secrets
}

// withoutSecrets replaces every secret value in raw's query with a stand-in
// of the same shape, so the URL parses to the same problems.
func withoutSecrets(raw string) string {
	base, query := splitQuery(raw)
	if query == "" {
		return raw
	}
	pairs := strings.Split(query, "&")
	for i, pair := range pairs {
		k, v, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || !secretParams[strings.ToLower(name)] {
			continue
		}
		if strings.EqualFold(name, paramCredential) {
			key, rest, found := strings.Cut(value, "/")
			value = standIn(key)
			if found {
				value += "/" + rest
			}
		} else {
			value = standIn(value)
		}
		pairs[i] = k + "=" + url.QueryEscape(value)
	}
	return base + "?" + strings.Join(pairs, "&")
}

// standIn keeps whether s is empty, lower-case hex of its length, or neither.
func standIn(s string) string {
	switch {
	case s == "":
		return ""
	case validSignature(s, ""):
		return strings.Repeat("0", len(s))
	default:
		return "STAND-IN"
	}
}

func splitQuery(raw string) (base, query string) {
	raw = strings.TrimSpace(raw)
	raw, _, _ = strings.Cut(raw, "#")
	base, query, _ = strings.Cut(raw, "?")
	return base, query
}

// outputs is everything the package lets out about raw: the error or the
// report dumped whole, its redacted form, Write's text, every problem Check
// finds for a few plans, and SendHeaders' headers or error.
func outputs(raw string) []string {
	r, err := Parse(raw)
	if err != nil {
		return []string{err.Error()}
	}
	out := []string{fmt.Sprintf("%#v", r), r.Redacted()}
	now := signedAt.Add(30 * time.Minute)
	plans := []Plan{
		{Now: now},
		{Now: now, Metadata: fullMetadata, FileName: "f", HasFile: true, FileSize: 5, CRC32: helloCRC, HasCRC32: true,
			MaxSinglePut: S3MaxSinglePut, EstimatedDuration: time.Hour},
		{Now: now.Add(48 * time.Hour), Metadata: map[string]string{"x-amz-meta-user-id": "u"}, HasFile: true, FileSize: 6 << 30,
			MaxSinglePut: S3MaxSinglePut},
	}
	for _, p := range plans {
		problems := r.Check(p)
		var b strings.Builder
		Write(&b, r, problems, p.Now)
		out = append(out, b.String(), fmt.Sprintf("%#v", problems))
		h, err := SendHeaders(r, p)
		if err != nil {
			out = append(out, err.Error())
		}
		out = append(out, fmt.Sprintf("%#v", h))
	}
	return out
}

// leaks returns the secrets of raw that some output shows, leaving out any
// that the URL also holds outside its secret values or that the outputs show
// anyway when the secrets are replaced (a value that happens to equal a
// region or a word of a message).
func leaks(raw string) []string {
	clean := withoutSecrets(raw)
	shown := strings.Join(outputs(raw), "\n")
	shownAnyway := strings.Join(outputs(clean), "\n")
	var leaked []string
	for _, s := range secretsIn(raw) {
		if len(s) < 8 || strings.Contains(clean, s) || strings.Contains(shownAnyway, s) {
			continue
		}
		if strings.Contains(shown, s) {
			leaked = append(leaked, s)
		}
	}
	return leaked
}

// leakCheckURLs are URLs with secrets in every place hoist reads.
func leakCheckURLs(t testing.TB) []string {
	set := func(name, v string) func(url.Values) { return func(q url.Values) { q.Set(name, v) } }
	return []string{
		apiURL(nil),
		apiURL(set("X-Amz-Security-Token", testToken)),
		apiURLTo("http://someone:"+testSecretKey+"@uploads.example/b/k", nil),
		apiURL(set("X-Amz-Signature", testSignature[:50])),
		apiURL(set("X-Amz-Signature", testSignature+"zz")),
		apiURL(set("X-Amz-Credential", testAccessKey)),
		apiURL(set("X-Amz-Credential", testAccessKey+"/2025/auto")),
		apiURL(set("X-Amz-Credential", testAccessKey+"/20250109/auto/s3/aws4_request")),
		apiURL(set("X-Amz-Credential", testAccessKey+"/20250102/auto/sqs/aws4_request")),
		apiURL(func(q url.Values) { q.Add("X-Amz-Signature", testSignature) }),
		apiURL(func(q url.Values) { q.Add("X-Amz-Credential", testAccessKey+"/20250102/auto/s3/aws4_request") }),
		apiURL(set("X-Amz-SignedHeaders", "host;x-amz-acl")),
		apiURL(nil) + "&bad=%zz",
		apiURL(nil) + "#" + testSignature,
		"ftp://uploads.example/b/k?X-Amz-Signature=" + testSignature + "&X-Amz-Credential=" + testAccessKey,
		"https:///b/k?X-Amz-Signature=" + testSignature,
		"https://[::1/b/k?X-Amz-Signature=" + testSignature,
		"https://uploads.example/b/%zz?X-Amz-Signature=" + testSignature,
		"https://uploads.example/b/k?AWSAccessKeyId=" + testAccessKey + "&Expires=1&Signature=" + testSignature,
		sdkURL(t, &s3.PutObjectInput{}, testToken),
		sdkURL(t, &s3.PutObjectInput{Metadata: map[string]string{"user-id": "u"}, ContentType: aws.String("text/plain")}, ""),
	}
}

func TestSecretsNeverShown(t *testing.T) {
	for i, raw := range leakCheckURLs(t) {
		secrets := secretsIn(raw)
		if len(secrets) == 0 {
			t.Fatalf("case %d has no secret to check", i)
		}
		if leaked := leaks(raw); len(leaked) > 0 {
			t.Errorf("case %d (%s): output shows %q", i, strings.SplitN(raw, "?", 2)[0], leaked)
		}
		// Belt and braces for the planted values, which never occur by chance.
		all := strings.Join(outputs(raw), "\n")
		for _, s := range []string{testSignature, testAccessKey, testToken, testSecretKey, testSignature[:50]} {
			if strings.Contains(all, s) {
				t.Errorf("case %d (%s): output shows %q", i, strings.SplitN(raw, "?", 2)[0], s)
			}
		}
	}
}

// TestLeakCheckCatchesLeaks proves leaks can see a leak: a URL whose secret
// is also in its path counts as shown only when the check is given the output.
func TestLeakCheckCatchesLeaks(t *testing.T) {
	raw := apiURL(nil)
	shown := strings.Join(outputs(raw), "\n") + "\n" + testSignature
	var found bool
	for _, s := range secretsIn(raw) {
		if strings.Contains(shown, s) && !strings.Contains(withoutSecrets(raw), s) {
			found = true
		}
	}
	if !found {
		t.Fatal("the leak check would not notice a signature in the output")
	}
	if got := withoutSecrets(raw); strings.Contains(got, testSignature) || strings.Contains(got, testAccessKey) {
		t.Fatalf("withoutSecrets left a secret in %s", got)
	}
	if r := mustParse(t, withoutSecrets(raw)); len(r.Problems) != 0 {
		t.Fatalf("stand-ins changed the problems: %+v", r.Problems)
	}
}
