package inspect

import "testing"

// The host forms of the providers hoist knows, and hosts it must not guess
// about: a virtual-hosted URL read as path-style reports a wrong bucket and
// a wrong key (issue 13, item 2).
func TestBucketAndKeyByHost(t *testing.T) {
	const account = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		url        string
		addressing Addressing
		bucket     string
		key        string
	}{
		// AWS, virtual-hosted.
		{"https://seed.s3.amazonaws.com/uploads/2026/report.pdf", VirtualHosted, "seed", "uploads/2026/report.pdf"},
		{"https://seed.s3.eu-west-1.amazonaws.com/a.txt", VirtualHosted, "seed", "a.txt"},
		{"https://seed.s3-eu-west-1.amazonaws.com/a.txt", VirtualHosted, "seed", "a.txt"},
		{"https://seed.s3.dualstack.us-east-2.amazonaws.com/a.txt", VirtualHosted, "seed", "a.txt"},
		{"https://seed.s3-accelerate.amazonaws.com/a.txt", VirtualHosted, "seed", "a.txt"},
		{"https://seed.s3-accelerate.dualstack.amazonaws.com/a.txt", VirtualHosted, "seed", "a.txt"},
		{"https://logs.s3.backup.s3.us-east-1.amazonaws.com/a.txt", VirtualHosted, "logs.s3.backup", "a.txt"},
		{"https://my.dotted.bucket.s3.cn-north-1.amazonaws.com.cn/a.txt", VirtualHosted, "my.dotted.bucket", "a.txt"},
		{"https://SEED.S3.AMAZONAWS.COM./a.txt", VirtualHosted, "seed", "a.txt"},
		// AWS, path-style.
		{"https://s3.amazonaws.com/seed/uploads/report.pdf", PathStyle, "seed", "uploads/report.pdf"},
		{"https://s3.eu-west-1.amazonaws.com/seed/a.txt", PathStyle, "seed", "a.txt"},
		{"https://s3-eu-west-1.amazonaws.com/seed/a.txt", PathStyle, "seed", "a.txt"},
		{"https://s3.dualstack.eu-west-1.amazonaws.com/seed/a.txt", PathStyle, "seed", "a.txt"},
		// AWS names hoist does not read.
		{"https://bucket.vpce-1a2b3c4d-5e6f.s3.us-east-1.vpce.amazonaws.com/seed/a.txt", AddressingUnknown, "", "seed/a.txt"},
		{"https://execute-api.us-east-1.amazonaws.com/seed/a.txt", AddressingUnknown, "", "seed/a.txt"},
		// Cloudflare R2.
		{"https://seed." + account + ".r2.cloudflarestorage.com/uploads/2026/report.pdf", VirtualHosted, "seed", "uploads/2026/report.pdf"},
		{"https://" + account + ".r2.cloudflarestorage.com/seed/uploads/2026/report.pdf", PathStyle, "seed", "uploads/2026/report.pdf"},
		{"https://seed." + account + ".eu.r2.cloudflarestorage.com/a.txt", VirtualHosted, "seed", "a.txt"},
		{"https://" + account + ".eu.r2.cloudflarestorage.com/seed/a.txt", PathStyle, "seed", "a.txt"},
		// Others whose names say it.
		{"https://seed.s3.us-west-004.backblazeb2.com/a.txt", VirtualHosted, "seed", "a.txt"},
		{"https://s3.us-west-004.backblazeb2.com/seed/a.txt", PathStyle, "seed", "a.txt"},
		{"https://seed.nyc3.digitaloceanspaces.com/a.txt", VirtualHosted, "seed", "a.txt"},
		{"https://nyc3.digitaloceanspaces.com/seed/a.txt", PathStyle, "seed", "a.txt"},
		{"https://storage.googleapis.com/seed/a.txt", PathStyle, "seed", "a.txt"},
		{"https://my.seed.storage.googleapis.com/a.txt", VirtualHosted, "my.seed", "a.txt"},
		// Addresses and localhost are path-style: a bucket is never an IP.
		{"http://127.0.0.1:9000/seed/dir/a.txt", PathStyle, "seed", "dir/a.txt"},
		{"http://[::1]:9000/seed/a.txt", PathStyle, "seed", "a.txt"},
		{"http://localhost:9000/seed/a.txt", PathStyle, "seed", "a.txt"},
		// Unknown hosts: MinIO with MINIO_DOMAIN, a company's gateway. No
		// bucket is guessed; the key is the whole object path.
		{"http://seed.localhost:9000/uploads/2026/report.pdf", AddressingUnknown, "", "uploads/2026/report.pdf"},
		{"https://files.example.com/seed/uploads/report.pdf", AddressingUnknown, "", "seed/uploads/report.pdf"},
		{"https://r2.cloudflarestorage.com.example/seed/a.txt", AddressingUnknown, "", "seed/a.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r, err := Parse(apiURLTo(tt.url, nil))
			if err != nil {
				t.Fatal(err)
			}
			if r.Addressing != tt.addressing || r.Bucket != tt.bucket || r.Key != tt.key {
				t.Errorf("addressing %v bucket %q key %q; want %v %q %q", r.Addressing, r.Bucket, r.Key, tt.addressing, tt.bucket, tt.key)
			}
		})
	}
}
