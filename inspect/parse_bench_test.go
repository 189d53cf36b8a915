package inspect

import "testing"

// benchURL is a presigned PUT as the bench signs them: signed metadata headers.
const benchURL = "http://127.0.0.1:7070/bench/many/f000123.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261130%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261130T180000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host%3Bx-amz-meta-organization-id%3Bx-amz-meta-ttl-hours%3Bx-amz-meta-user-id&x-id=PutObject&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// BenchmarkParse is the cost of reading one URL: a manifest run reads each
// line's two or three times (issue 15).
func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse(benchURL); err != nil {
			b.Fatal(err)
		}
	}
}
