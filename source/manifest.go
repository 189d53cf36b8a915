package source

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entry is one file and the presigned URL it goes to.
type Entry struct {
	Path string `json:"path"` // the file on disk; relative paths in a manifest are resolved against its folder
	URL  string `json:"url"`  // never printed: its query holds the signature
	Line int    `json:"-"`    // manifest line, 0 for --url
}

// manifestExample is how a manifest line looks, for messages.
const manifestExample = `{"path": "file", "url": "https://…"}`

// maxManifestLine bounds one line of a manifest; presigned URLs are a few KiB.
const maxManifestLine = 1 << 20

// ParseManifest reads a manifest: JSON lines {"path": …, "url": …}. Blank
// lines and lines starting with # are skipped. Relative paths are resolved
// against the folder of name, the manifest's own path ("" or "-" for
// standard input: the working directory). Errors read "<name> line N: …"
// and quote nothing of a line but field names, so never a URL.
func ParseManifest(r io.Reader, name string) ([]Entry, error) {
	var entries []Entry
	seen := make(map[string]int) // cleaned path → line
	err := scanManifest(r, name, func(e Entry, _ int64, _ int) error {
		if first, dup := seen[e.Path]; dup {
			return fmt.Errorf("the same path is already on line %d; give each file once", first)
		}
		seen[e.Path] = e.Line
		entries = append(entries, e)
		return nil
	})
	return entries, err
}

// scanManifest reads a manifest's lines (the rules of ParseManifest) and
// calls each with every entry, its path resolved and cleaned, and where its
// line is in r: off and n bytes, its newline included. An error from each
// is the line's.
func scanManifest(r io.Reader, name string, each func(e Entry, off int64, n int) error) error {
	display := manifestName(name)
	dir := ""
	if name != "" && name != "-" {
		dir = filepath.Dir(name)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxManifestLine)
	sc.Split(scanLineWithNewline)
	n := 0
	var off int64
	for sc.Scan() {
		n++
		raw := sc.Bytes()
		at := off
		off += int64(len(raw))
		line := manifestLineText(raw, n)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		e, err := parseManifestLine(line)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", display, n, err)
		}
		e.Path = resolveManifestPath(e.Path, dir)
		e.Line = n
		if err := each(e, at, len(raw)); err != nil {
			return fmt.Errorf("%s line %d: %w", display, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s line %d: longer than %d KiB; is it a manifest of JSON lines?", display, n+1, maxManifestLine>>10)
		}
		return fmt.Errorf("reading %s: %w", display, err)
	}
	return nil
}

// manifestName is how messages name a manifest.
func manifestName(name string) string {
	if name == "" || name == "-" {
		return "standard input"
	}
	return name
}

// manifestLineText is a raw line (number n) without its spaces, newline,
// and on the first line a byte-order mark.
func manifestLineText(raw []byte, n int) []byte {
	line := bytes.TrimSpace(raw)
	if n == 1 {
		line = bytes.TrimPrefix(line, []byte("\ufeff"))
	}
	return line
}

// resolveManifestPath is a manifest line's path, relative ones resolved
// against the manifest's folder dir, cleaned.
func resolveManifestPath(p, dir string) string {
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}

// scanLineWithNewline is bufio.ScanLines keeping the newline, so the
// lengths of the lines add up to their offsets in the file.
func scanLineWithNewline(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// quickLine decodes the usual manifest line, one object of the two string
// fields "path" and "url" in either order, to what parseManifestLine makes
// of it, several times faster: a run reads each line two or three times
// (when the manifest is opened, before sending, and when its file is sent),
// and at 100,000 lines encoding/json's decoding was a tenth of hoist's CPU
// (issue 15). ok is false for anything else — another field, a field twice,
// a value not a string, an escaped surrogate, bytes not UTF-8, text after
// the object — for parseManifestLine to read or explain.
func quickLine(line []byte) (e Entry, ok bool) {
	s := skipJSONSpace(line)
	if len(s) == 0 || s[0] != '{' {
		return Entry{}, false
	}
	s = skipJSONSpace(s[1:])
	var havePath, haveURL bool
	for {
		key, rest, ok := quickString(s)
		if !ok {
			return Entry{}, false
		}
		s = skipJSONSpace(rest)
		if len(s) == 0 || s[0] != ':' {
			return Entry{}, false
		}
		value, rest, ok := quickString(skipJSONSpace(s[1:]))
		if !ok {
			return Entry{}, false
		}
		switch {
		case key == "path" && !havePath:
			havePath, e.Path = true, value
		case key == "url" && !haveURL:
			haveURL, e.URL = true, value
		default:
			return Entry{}, false
		}
		s = skipJSONSpace(rest)
		if len(s) > 0 && s[0] == '}' {
			s = skipJSONSpace(s[1:])
			break
		}
		if len(s) == 0 || s[0] != ',' {
			return Entry{}, false
		}
		s = skipJSONSpace(s[1:])
	}
	if len(s) > 0 || !havePath || !haveURL || strings.TrimSpace(e.Path) == "" || strings.TrimSpace(e.URL) == "" {
		return Entry{}, false
	}
	return e, true
}

// skipJSONSpace is s without the white space JSON allows before it.
func skipJSONSpace(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
		s = s[1:]
	}
	return s
}

// quickString reads the JSON string at the start of s, returning its value
// and what follows it; ok is false where quickLine leaves the line to
// encoding/json.
func quickString(s []byte) (value string, rest []byte, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", nil, false
	}
	ascii := true
	i := 1
	for ; i < len(s) && s[i] != '"' && s[i] != '\\'; i++ {
		if s[i] < 0x20 {
			return "", nil, false
		}
		ascii = ascii && s[i] < utf8.RuneSelf
	}
	if i < len(s) && s[i] == '"' { // no escapes: the common case
		if !ascii && !utf8.Valid(s[1:i]) {
			return "", nil, false
		}
		return string(s[1:i]), s[i+1:], true
	}
	b := append(make([]byte, 0, len(s)), s[1:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				return "", nil, false
			}
			return string(b), s[i+1:], true
		case c < 0x20:
			return "", nil, false
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", nil, false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			b = append(b, s[i+1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if i+6 > len(s) {
				return "", nil, false
			}
			r, err := strconv.ParseUint(string(s[i+2:i+6]), 16, 16)
			if err != nil || utf16.IsSurrogate(rune(r)) {
				return "", nil, false
			}
			b = utf8.AppendRune(b, rune(r))
			i += 6
			continue
		default:
			return "", nil, false
		}
		i += 2
	}
	return "", nil, false
}

// plainFieldName is a field name safe to quote back in an error.
var plainFieldName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// parseManifestLine reads one {"path": …, "url": …} object: quickLine for
// the usual line, else tokenLine, which walks the tokens itself, rather than
// json.Unmarshal into a struct, to catch a field given twice and text after
// the object, and so no error can quote a value.
func parseManifestLine(line []byte) (Entry, error) {
	if e, ok := quickLine(line); ok {
		return e, nil
	}
	return tokenLine(line)
}

// tokenLine is parseManifestLine for every line quickLine leaves.
func tokenLine(line []byte) (Entry, error) {
	if bytes.HasPrefix(line, []byte("http://")) || bytes.HasPrefix(line, []byte("https://")) {
		return Entry{}, errors.New("a bare URL; write each line as " + manifestExample)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Entry{}, errors.New("not a JSON object; write each line as " + manifestExample)
	}
	var e Entry
	var havePath, haveURL bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Entry{}, invalidJSON(err)
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return Entry{}, invalidJSON(err)
		}
		var dst *string
		switch key {
		case "path":
			if havePath {
				return Entry{}, errors.New(`"path" is given twice`)
			}
			havePath, dst = true, &e.Path
		case "url":
			if haveURL {
				return Entry{}, errors.New(`"url" is given twice`)
			}
			haveURL, dst = true, &e.URL
		default:
			if plainFieldName.MatchString(key) {
				return Entry{}, fmt.Errorf(`unknown field %q; a line has only "path" and "url"`, key)
			}
			return Entry{}, errors.New(`an unknown field; a line has only "path" and "url"`)
		}
		if err := json.Unmarshal(value, dst); err != nil {
			return Entry{}, fmt.Errorf("%q must be a string", key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return Entry{}, invalidJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Entry{}, errors.New("text after the JSON object; put one object on each line")
	}
	switch {
	case !havePath || strings.TrimSpace(e.Path) == "":
		return Entry{}, errors.New(`"path" is missing or empty`)
	case !haveURL || strings.TrimSpace(e.URL) == "":
		return Entry{}, errors.New(`"url" is missing or empty`)
	}
	return e, nil
}

// invalidJSON explains a decoding error without quoting the line: a syntax
// error's text names at most one character of it.
func invalidJSON(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON (%v at byte %d)", se, se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("not valid JSON: the line ends inside the object")
	}
	return errors.New("not valid JSON")
}
