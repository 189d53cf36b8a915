// Package s3test runs real S3 servers for tests: versitygw (strict), MinIO
// and SeaweedFS, each on free loopback ports with throwaway root keys, with
// an aws-sdk-go-v2 client to read back what hoist stored.
//
// versitygw verifies SigV4 query auth, signed headers, expiry, region,
// Content-Length and signed-header checksums, which is what hoist's request
// has to get right; the in-process fakes check none of that. MinIO and
// SeaweedFS are what people run themselves; each was measured
// to behave as follows, with the versions `make deps` pins
// (internal/conformance and the tests named here run them).
//
// versitygw v1.8.0 (posix backend, region "auto"):
//   - Checks SigV4 query auth, every signed header's value, expiry, the region
//     and a CRC32 sent as a signed header.
//   - Ignores a checksum given only in the query (x-amz-checksum-crc32=AAAAAA==
//     on a non-empty body is stored).
//   - Takes a bearer token beside a presigned URL.
//   - Unknown access key: 404 XAdminUserNotFound (AWS says 403 InvalidAccessKeyId).
//     Wrong region: 400 AuthorizationQueryParametersError … the region "X" is
//     wrong; expecting "auto" (presigned), AuthorizationHeaderMalformed with the
//     same words (SDK calls).
//   - Keeps a body shorter than its Content-Length: never rely on it to catch
//     a short body.
//
// MinIO (github.com/minio/minio v0.0.0-20260212201848-7aac2a2c5b7c, region
// "auto" through MINIO_REGION):
//   - Ignores the query-only AAAAAA== pin, like AWS; stores metadata signed
//     as headers, for API-shaped and JS SDK URLs alike.
//   - Refuses a bearer token beside a presigned URL: 400 InvalidRequest
//     "Invalid Request (request has multiple authentication types, please use
//     one)". Files sent at once all get it; each is retried without it.
//   - Wrong secret: 403 SignatureDoesNotMatch; unknown key: 403
//     InvalidAccessKeyId. Wrong region on a presigned URL: a bare 400
//     MissingFields "Missing fields in request."; on an SDK call 400
//     AuthorizationHeaderMalformed … expecting 'auto'.
//   - With MINIO_DOMAIN=localhost it also takes BUCKET.localhost:PORT/KEY.
//     Nothing resolves *.localhost offline here, so tests reach it through a
//     forward proxy (virtualhost_test.go in package main).
//   - Starts in 5–15 s on 2 busy cores; ready once a signed ListBuckets
//     answers.
//
// SeaweedFS (github.com/seaweedfs/seaweedfs v0.0.0-20261109003541-7506e5f91cd6,
// `weed server -s3` with an identities file, every port explicit):
//   - Checks a non-empty body against the query-only AAAAAA== pin and refuses
//     it: 400 BadDigest (its message names Content-MD5). An empty body passes.
//   - Stores metadata signed as headers (API-shaped and JS SDK URLs); takes a
//     bearer token beside a presigned URL; --s3 single PUT and multipart work.
//   - Wrong secret: 403 SignatureDoesNotMatch. It checks a signature in
//     whatever region its scope names: no region is wrong.
//   - A URL signing x-amz-checksum-crc32 for another file: 403
//     SignatureDoesNotMatch, as on versitygw and MinIO.
//   - Starts in 5–10 s (`weed server` with master, volume, filer and S3 in one
//     process, 8 loopback ports) and logs a great deal: the harness shows its
//     output only when a test fails.
package s3test
