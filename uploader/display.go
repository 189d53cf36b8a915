package uploader

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DisplayName is a file name (or any text from outside: a key, a path) made
// safe to print on a terminal: control characters (an ESC sequence would
// recolour or move the cursor, a newline would break the line), bidi
// overrides and bytes that are not UTF-8 are shown as Go escapes (\x1b, \n,
// \u202e, \xff). Printable text, spaces included, is left as it is. Every
// human output (headless lines, the TUI) shows names through it; JSON output
// carries the real name, which the encoder escapes itself.
func DisplayName(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unsafeRune(r) {
			return true
		}
	}
	return false
}

// unsafeRune: control characters (C0, DEL, C1) and the format characters
// that reorder text (bidi embeddings, overrides and isolates).
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f
}
