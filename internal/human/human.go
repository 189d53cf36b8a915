// Package human words numbers the way hoist shows them to a person, in the
// terminal UI and headless alike: sizes and rates in IEC units (4.8 MiB,
// matching what --limit-rate 10MiB means), and retry counts as
// "retry n of N" with N the --retries setting. One home for each, so the
// two modes never disagree about the same file.
package human

import (
	"fmt"

	"github.com/dustin/go-humanize"
)

// Bytes is a size in IEC units: "0 B", "512 B", "4.8 MiB".
func Bytes(n int64) string {
	return humanize.IBytes(uint64(max(n, 0)))
}

// Rate is a speed in IEC units per second, or "–/s" when nothing moved.
func Rate(bytesPerSecond float64) string {
	if bytesPerSecond < 1 {
		return "–/s"
	}
	return humanize.IBytes(uint64(bytesPerSecond)) + "/s"
}

// Retry names retry n of the retries allowed: "retry 2 of 5". The engine
// counts attempts (the first send is attempt 1, and --retries N allows N+1),
// so a retry scheduled after attempt a is retry a, out of maxAttempts-1.
func Retry(attempt, maxAttempts int) string {
	return fmt.Sprintf("retry %d of %d", max(attempt, 1), max(maxAttempts-1, 1))
}

// Retries says how many retries a file needed, for summaries: "" for none,
// "1 retry", "3 retries". attempts is the engine's count of sends.
func Retries(attempts int) string {
	switch n := attempts - 1; {
	case n <= 0:
		return ""
	case n == 1:
		return "1 retry"
	default:
		return fmt.Sprintf("%d retries", n)
	}
}
