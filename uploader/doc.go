// Package uploader is hoist's engine: a bounded, adjustable worker pool that
// streams files from disk to the URLs a Source hands out, with an exact
// Content-Length, live per-file counters (Snapshot), lifecycle events that are
// never dropped (Events), one retry policy for every call (RetryPolicy),
// a stall watchdog per request, and multipart uploads that resume from a
// journal. It imports nothing of the terminal UI: ui/ and headless/ read it.
package uploader
