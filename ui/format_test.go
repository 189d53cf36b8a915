package ui

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestFitNameKeepsWhatTellsFilesApart: three scans in one folder cut at the
// end all read "photos/scan-000…"; the base name and its extension are what
// a person tells them apart by.
func TestFitNameKeepsWhatTellsFilesApart(t *testing.T) {
	for _, c := range []struct {
		name string
		w    int
		want string
	}{
		{"photos/scan-0001.tiff", 30, "photos/scan-0001.tiff         "},
		{"photos/scan-0001.tiff", 16, "…/scan-0001.tiff"},
		{"scan-0001.tiff", 12, "…n-0001.tiff"},
		{"photos/scan-0001.tiff", 18, "ph…/scan-0001.tiff"},
		{"a/b/quarterly-report-final-v2.pdf", 17, "…ort-final-v2.pdf"},
		{"quarterly-report-final-v2.pdf", 16, "…rt-final-v2.pdf"},
		{"photos/scan-0001.tiff", 4, "…iff"},
		{"naïve/ünïcode-名前.txt", 14, "…code-名前.txt"},
	} {
		got := fitName(c.name, c.w)
		if got != c.want {
			t.Errorf("fitName(%q, %d) = %q, want %q", c.name, c.w, got, c.want)
		}
		if w := ansi.StringWidth(got); w != c.w {
			t.Errorf("fitName(%q, %d) is %d cells wide", c.name, c.w, w)
		}
	}
}
