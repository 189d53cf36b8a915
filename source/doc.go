// Package source is where upload URLs come from: URLs a person was given
// (--url, --manifest), URLs hoist signs with S3 credentials (--s3, and the
// embedded local store), and a presign service speaking Uppy Companion's S3
// protocol (--presign-url). Each implements uploader.Source; the engine sees
// nothing else of them.
package source
