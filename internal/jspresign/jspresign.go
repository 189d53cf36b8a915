// Package jspresign runs the AWS JS SDK v3 presigner (presign.mjs beside
// this file) for tests, so hoist is checked against URLs the real JS SDK
// makes (the API page's presigner), not a copy of its query.
//
// `make deps` installs the SDK here with `npm ci` from package-lock.json.
package jspresign

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Request is one PutObject URL to presign.
type Request struct {
	Endpoint  string            `json:"endpoint"` // http://127.0.0.1:PORT; path-style
	Region    string            `json:"region"`
	AccessKey string            `json:"accessKey"`
	SecretKey string            `json:"secretKey"`
	Bucket    string            `json:"bucket"`
	Key       string            `json:"key"`
	Metadata  map[string]string `json:"metadata,omitempty"` // names without x-amz-meta-
	Expires   int               `json:"expires,omitempty"`  // seconds; 0 means 3600
	// NoPin presigns with requestChecksumCalculation WHEN_REQUIRED: no
	// x-amz-checksum-crc32=AAAAAA== in the query.
	NoPin bool `json:"noPin,omitempty"`
	// Hoist lets the SDK move the metadata into the query (its default);
	// otherwise it stays in signed headers, as the API keeps it.
	Hoist bool `json:"hoist,omitempty"`
}

// Dir is where presign.mjs and its node_modules are.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Presign signs every request in one node process and returns the URLs in
// order. A missing node or SDK fails the test: the real presigner is the
// point.
func Presign(t testing.TB, reqs ...Request) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: install Node.js 20 or newer (the AWS JS SDK presigner runs on it)")
	}
	dir := Dir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "s3-request-presigner", "package.json")); err != nil {
		t.Fatalf("the AWS JS SDK is not installed in %s: run `make deps` (npm ci there)", dir)
	}
	in, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "presign.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	// Quiet about the Node.js versions future SDK releases will need.
	cmd.Env = append(os.Environ(), "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1", "NODE_NO_WARNINGS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// stderr may quote a request, keys included; say only that it failed.
		t.Fatalf("presign.mjs failed: %v (%d bytes on stderr)", err, stderr.Len())
	}
	urls := strings.Fields(stdout.String())
	if len(urls) != len(reqs) {
		t.Fatalf("presign.mjs printed %d URLs for %d requests", len(urls), len(reqs))
	}
	return urls
}
