// Package conformance runs hoist's engine and sources against real S3
// servers nobody here wrote — versitygw, MinIO and SeaweedFS, started by
// internal/s3test — with URLs from the real presigners (aws-sdk-go-v2's v4
// signer shaped like the API's URLs, and the AWS JS SDK v3 through
// internal/jspresign), and reads every object back with the server's own
// S3 API: bytes and metadata must be identical.
//
// It has only tests. What they measured about each server is recorded in
// internal/s3test's package documentation (doc.go there).
package conformance
