package inspect

import (
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// FuzzParse feeds Parse, Check, SendHeaders and Write anything: none may
// panic, and none may show a signature, access key id or session token that
// the URL does not also hold in plain sight. More seeds are in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(apiURL(nil))
	f.Add(apiURL(func(q url.Values) { q.Set("X-Amz-Security-Token", testToken) }))
	f.Add(sdkURL(f, &s3.PutObjectInput{Metadata: map[string]string{"user-id": "u"}}, testToken))
	f.Add("https://uploads.example/b/k?AWSAccessKeyId=" + testAccessKey + "&Expires=1&Signature=" + testSignature)
	f.Add("http://[::1]:9/b/k?X-Amz-Signature=" + testSignature + "&X-Amz-Signature=abc&X-Amz-Credential=" + testAccessKey + "/x")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		if leaked := leaks(raw); len(leaked) > 0 {
			t.Fatalf("output shows secrets %q", leaked)
		}
		r, err := Parse(raw)
		if err != nil {
			return
		}
		if red := r.Redacted(); strings.ContainsAny(red, "?#") {
			t.Errorf("Redacted() = %q keeps a query or fragment", red)
		}
		problems := r.Check(Plan{HasFile: true, FileSize: 1, FileName: "a\nb"})
		for _, p := range problems {
			if p.Message == "" || strings.IndexFunc(p.Message, unicode.IsControl) >= 0 {
				t.Errorf("problem %s: message %q is not one printable line", p.Code, p.Message)
			}
		}
		var b strings.Builder
		Write(&b, r, problems, signedAt)
		if i := strings.IndexFunc(b.String(), func(c rune) bool { return c != '\n' && unicode.IsControl(c) }); i >= 0 {
			t.Errorf("Write shows a control character at byte %d:\n%s", i, b.String())
		}
	})
}
