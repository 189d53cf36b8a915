package uploader

import "testing"

func TestDisplayNameEscapesWhatATerminalWouldObey(t *testing.T) {
	cases := map[string]string{
		"report.pdf":            "report.pdf",
		"my file – ü.txt":       "my file – ü.txt",
		"\x1b[31mred.txt":       `\x1b[31mred.txt`,
		"two\nlines.txt":        `two\nlines.txt`,
		"tab\there\r":           `tab\there\r`,
		"bell\a\x7f":            `bell\x07\x7f`,
		"c1\u009b31m":           `c1\u009b31m`,
		"evil\u202etxt.exe":     `evil\u202etxt.exe`,
		"not utf8 \xff\xfe.bin": `not utf8 \xff\xfe.bin`,
	}
	for in, want := range cases {
		if got := DisplayName(in); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", in, got, want)
		}
	}
}
