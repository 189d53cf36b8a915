package source

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"

	"go.uber.org/goleak"

	"hoist/uploader"
)

// manifestSignature is planted in manifest URLs; no error may show it.
const manifestSignature = "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2"

// manifestURL is an upload URL for key whose query is secret.
func manifestURL(key string) string {
	return "https://uploads.example/bucket/" + key + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=" + manifestSignature
}

func manifestLine(path, key string) string {
	return fmt.Sprintf(`{"path": %q, "url": %q}`, path, manifestURL(key))
}

func TestParseManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "batch")
	name := filepath.Join(dir, "upload.jsonl")
	input := strings.Join([]string{
		"\ufeff# files for the quarterly upload",
		manifestLine("q1.pdf", "q1.pdf"),
		"",
		"   ",
		`  {"url": "` + manifestURL("sub/q2.pdf") + `", "path": "sub/../sub/q2.pdf"}  `,
		"# done with relative paths\r",
		manifestLine("/srv/data/q3.pdf", "q3.pdf") + "\r",
	}, "\n")
	got, err := ParseManifest(strings.NewReader(input), name)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Path: filepath.Join(dir, "q1.pdf"), URL: manifestURL("q1.pdf"), Line: 2},
		{Path: filepath.Join(dir, "sub", "q2.pdf"), URL: manifestURL("sub/q2.pdf"), Line: 5},
		{Path: "/srv/data/q3.pdf", URL: manifestURL("q3.pdf"), Line: 7},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseManifestFromStandardInput(t *testing.T) {
	for _, name := range []string{"-", ""} {
		got, err := ParseManifest(strings.NewReader(manifestLine("./a.txt", "a")), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Path != "a.txt" {
			t.Errorf("name %q: entries %+v, want path a.txt", name, got)
		}
	}
	_, err := ParseManifest(strings.NewReader("{}"), "-")
	if err == nil || !strings.HasPrefix(err.Error(), "standard input line 1: ") {
		t.Errorf("error = %v, want one naming standard input", err)
	}
}

func TestParseManifestEmpty(t *testing.T) {
	got, err := ParseManifest(strings.NewReader("# nothing yet\n\n"), "m.jsonl")
	if err != nil || len(got) != 0 {
		t.Errorf("got %+v, %v; want no entries and no error", got, err)
	}
}

func TestParseManifestErrors(t *testing.T) {
	ok := manifestLine("a.txt", "a.txt")
	tests := []struct {
		name, input string
		line        int
		says        string
	}{
		{"bare URL", manifestURL("a.txt"), 1, "a bare URL"},
		{"array", `["a.txt", "` + manifestURL("a") + `"]`, 1, "not a JSON object"},
		{"string", `"` + manifestURL("a") + `"`, 1, "not a JSON object"},
		{"number", "42", 1, "not a JSON object"},
		{"null", "null", 1, "not a JSON object"},
		{"cut short", `{"path": "a.txt", "url": "` + manifestURL("a"), 1, "not valid JSON"},
		{"unclosed", `{"path": "a.txt", "url": "` + manifestURL("a") + `"`, 1, "not valid JSON"},
		{"missing comma", `{"path": "a.txt" "url": "` + manifestURL("a") + `"}`, 1, "not valid JSON"},
		{"unknown field", `{"path": "a.txt", "url": "` + manifestURL("a") + `", "pth": "b"}`, 1, `unknown field "pth"`},
		{"unknown field made of a URL", `{"path": "a.txt", "` + manifestURL("a") + `": 1}`, 1, "an unknown field"},
		{"no path", `{"url": "` + manifestURL("a") + `"}`, 1, `"path" is missing`},
		{"empty path", `{"path": " ", "url": "` + manifestURL("a") + `"}`, 1, `"path" is missing or empty`},
		{"no url", `{"path": "a.txt"}`, 1, `"url" is missing`},
		{"empty url", `{"path": "a.txt", "url": ""}`, 1, `"url" is missing or empty`},
		{"path not a string", `{"path": 7, "url": "` + manifestURL("a") + `"}`, 1, `"path" must be a string`},
		{"url not a string", `{"path": "a.txt", "url": {"href": "` + manifestURL("a") + `"}}`, 1, `"url" must be a string`},
		{"url twice", `{"path": "a.txt", "url": "` + manifestURL("a") + `", "url": "` + manifestURL("b") + `"}`, 1, `"url" is given twice`},
		{"path twice", `{"path": "a.txt", "path": "b.txt", "url": "` + manifestURL("a") + `"}`, 1, `"path" is given twice`},
		{"two objects", ok + " " + ok, 1, "text after the JSON object"},
		{"trailing comma", ok + ",", 1, "text after the JSON object"},
		{"duplicate path", ok + "\n# again\n" + manifestLine("./sub/../a.txt", "b"), 3, "already on line 1"},
		{"error on a later line", ok + "\n\n" + `{"path": "b.txt", "url": 1}`, 3, `"url" must be a string`},
		{"line too long", ok + "\n" + `{"path": "a", "url": "` + manifestURL(strings.Repeat("k", maxManifestLine)) + `"}`, 2, "longer than 1024 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest(strings.NewReader(tt.input), "m.jsonl")
			if err == nil {
				t.Fatal("ParseManifest succeeded")
			}
			msg := err.Error()
			if prefix := fmt.Sprintf("m.jsonl line %d: ", tt.line); !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
			if !strings.Contains(msg, tt.says) {
				t.Errorf("error %q does not say %q", msg, tt.says)
			}
			if strings.Contains(msg, manifestSignature) || strings.Contains(msg, "X-Amz") || strings.Contains(msg, "uploads.example") {
				t.Errorf("error %q quotes a URL", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line", msg)
			}
		})
	}
}

// FuzzParseManifest feeds ParseManifest anything: it may not panic, what it
// returns must be usable, and no error may quote a URL's query. More seeds
// are in testdata/fuzz/FuzzParseManifest.
func FuzzParseManifest(f *testing.F) {
	f.Add(manifestLine("a.txt", "a.txt") + "\n# c\n\n" + manifestLine("/b.txt", "b.txt"))
	f.Add(`{"path": "a.txt", "url": "` + manifestURL("a") + `", "` + manifestURL("x") + `": 1}`)
	f.Add(manifestURL("a"))
	f.Add(`{"path":"a","url":"https://h/b/k?X-Amz-Signature=0123456789abcdef0123"}{"x":1}`)
	f.Fuzz(func(t *testing.T, input string) {
		entries, err := ParseManifest(strings.NewReader(input), "dir/m.jsonl")
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "dir/m.jsonl line ") && !strings.HasPrefix(msg, "reading dir/m.jsonl") {
				t.Errorf("error %q does not name the manifest", msg)
			}
			if q := queryShown(input, msg); q != "" {
				t.Errorf("error %q quotes the query text %q", msg, q)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.Path == "" || strings.TrimSpace(e.URL) == "" || e.Line < 1 {
				t.Errorf("entry %+v is incomplete", e)
			}
			if seen[e.Path] {
				t.Errorf("path %q given twice", e.Path)
			}
			seen[e.Path] = true
		}
	})
}

// queryShown returns a 12-byte piece of query text from input (what follows
// a ?) that msg contains, "" if none. A piece that input also holds
// elsewhere, not after a ?, does not count.
func queryShown(input, msg string) string {
	// The example line in hoist's own hint is not the input's query, even
	// when the input happens to contain the same characters.
	msg = strings.ReplaceAll(msg, manifestExample, "")
	const n = 12
	for i := 0; i < len(input); i++ {
		if input[i] != '?' || i+1+n > len(input) {
			continue
		}
		piece := input[i+1 : i+1+n]
		if strings.Count(input, piece) == strings.Count(input, "?"+piece) && strings.Contains(msg, piece) {
			return piece
		}
	}
	return ""
}

// OpenManifest reads what ParseManifest reads, and finds each file's URL
// again from the file when asked.
func TestOpenManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "batch")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "upload.jsonl")
	input := strings.Join([]string{
		"\ufeff" + manifestLine("q0.pdf", "q0.pdf"),
		"# files for the quarterly upload",
		manifestLine("q1.pdf", "q1.pdf"),
		"",
		`  {"url": "` + manifestURL("sub/q2.pdf") + `", "path": "sub/../sub/q2.pdf"}  `,
		manifestLine("/srv/data/q3.pdf", "q3.pdf") + "\r",
	}, "\n")
	if err := os.WriteFile(name, []byte(input), 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := ParseManifest(strings.NewReader(input), name)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	g, err := OpenManifest(name, func(p string) error { paths = append(paths, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Len() != len(want) || len(paths) != len(want) {
		t.Fatalf("%d entries and %d paths, want %d", g.Len(), len(paths), len(want))
	}
	for i, w := range want {
		if paths[i] != w.Path {
			t.Errorf("entry %d: path %q, want %q", i, paths[i], w.Path)
		}
		e, _, ok := g.lookup(w.Path)
		if !ok || e != w {
			t.Errorf("lookup(%q) = %+v, %v; want %+v", w.Path, e, ok, w)
		}
	}
	if _, _, ok := g.lookup(filepath.Join(dir, "q4.pdf")); ok {
		t.Error("a path the manifest does not name was found")
	}
}

func TestOpenManifestErrors(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct{ input, want string }{
		"same path twice": {
			manifestLine("a.txt", "a") + "\n" + manifestLine("b.txt", "b") + "\n" + manifestLine(filepath.Join(dir, "a.txt"), "c") + "\n",
			"line 3: the same path is already on line 1",
		},
		"not a URL": {manifestLine("a.txt", "a") + "\n" + `{"path": "b.txt", "url": "ftp://x/y"}`, "upload URL for " + filepath.Join(dir, "b.txt") + " (manifest line 2)"},
		"nothing":   {"# nothing\n", "no upload URLs given"},
		"bad line":  {manifestLine("a.txt", "a") + "\n{\n", "line 2: not valid JSON"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".jsonl")
			if err := os.WriteFile(path, []byte(tt.input), 0o600); err != nil {
				t.Fatal(err)
			}
			g, err := OpenManifest(path, nil)
			if err == nil {
				g.Close()
				t.Fatal("OpenManifest succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), manifestSignature) {
				t.Errorf("error shows the signature: %q", err)
			}
		})
	}
}

// A manifest's URLs stay in the file: at 100,000 lines, keeping them (about
// 450 bytes a line, and more parsed) was most of hoist's memory (issue 15).
func TestOpenManifestKeepsLittlePerLine(t *testing.T) {
	const lines = 20000
	name := filepath.Join(t.TempDir(), "big.jsonl")
	var sb strings.Builder
	for i := range lines {
		sb.WriteString(manifestLine(fmt.Sprintf("files/f%06d.bin", i), fmt.Sprintf("k/f%06d.bin", i)) + "\n")
	}
	if err := os.WriteFile(name, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	sb = strings.Builder{}
	before := liveHeap()
	g, err := OpenManifest(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	perLine := float64(liveHeap()-before) / lines
	t.Logf("%.0f bytes kept a line", perLine)
	if perLine > 64 {
		t.Errorf("%.0f bytes kept a line, want at most 64 (the URLs stay in the file)", perLine)
	}
	if _, _, ok := g.lookup(filepath.Join(filepath.Dir(name), "files/f012345.bin")); !ok {
		t.Error("line 12,346's file was not found")
	}
}

func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestManifestEditedDuringTheRun: a manifest is read again as files are
// sent; a line rewritten meanwhile is said to have changed, not to be
// missing ("no upload URL was given" sent the person looking for a typo).
func TestManifestEditedDuringTheRun(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "m.jsonl")
	a, b := manifestLine("a.pdf", "a.pdf"), manifestLine("b.pdf", "b.pdf")
	if err := os.WriteFile(name, []byte(a+"\n"+b+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := OpenManifest(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	// Same length, another file's line: what an editor's rewrite can leave.
	c := manifestLine("c.pdf", "c.pdf")
	if err := os.WriteFile(name, []byte(c+"\n"+b+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := uploader.File{Path: filepath.Join(dir, "a.pdf"), Name: "a.pdf", Key: "a.pdf", Size: 1}
	_, err = g.Target(context.Background(), f, uploader.Metadata{})
	if err == nil || !strings.Contains(err.Error(), "manifest line 1 changed while hoist was running") {
		t.Errorf("a rewritten line: %v", err)
	}
	f = uploader.File{Path: filepath.Join(dir, "z.pdf"), Name: "z.pdf", Key: "z.pdf", Size: 1}
	if _, err = g.Target(context.Background(), f, uploader.Metadata{}); err == nil || !strings.Contains(err.Error(), "no upload URL was given for") {
		t.Errorf("a path never in the manifest: %v", err)
	}
}

// quickLine must read the lines manifests are made of — json.Marshal's
// (with & as \u0026), Python's json.dumps (spaces, \uXXXX for non-ASCII),
// hand-written ones in either order — and read them as tokenLine does.
func TestQuickLineReadsUsualLines(t *testing.T) {
	url := manifestURL("dir/a b.txt") + "&x-amz-meta-user-id=u%201"
	paths := []string{"a.txt", "/srv/data/ü b+c.txt", `we"ird\name.txt`, "tab\there.txt", "日本/ファイル.bin", " spaced "}
	var lines []string
	for _, p := range paths {
		b, _ := json.Marshal(map[string]string{"path": p, "url": url})
		lines = append(lines, string(b))
		b, _ = json.Marshal(struct {
			URL  string `json:"url"`
			Path string `json:"path"`
		}{url, p})
		lines = append(lines, string(b))
		lines = append(lines, `{ "path" : `+asciiJSON(p)+` ,  "url": `+asciiJSON(url)+"\t}")
	}
	lines = append(lines, `{"path":"a\/b.txt","url":"https:\/\/h\/b\/k?X-Amz-Signature=1\u00262"}`)
	for _, line := range lines {
		got, ok := quickLine([]byte(line))
		if !ok {
			t.Errorf("quickLine left %s to tokenLine", line)
			continue
		}
		want, err := tokenLine([]byte(line))
		if err != nil || got != want {
			t.Errorf("%s: quickLine %+v, tokenLine %+v (%v)", line, got, want, err)
		}
	}
}

// asciiJSON is s as Python's json.dumps writes it: non-ASCII as \uXXXX
// (surrogate pairs above the BMP), & and < as themselves.
func asciiJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzQuickLine: whatever quickLine reads, tokenLine (the manifest's rules
// in full) must read the same; what it refuses is tokenLine's to judge.
func FuzzQuickLine(f *testing.F) {
	f.Add(manifestLine("a.txt", "a.txt"))
	f.Add(`{"url":"https://h/b/k?a=1\u0026b=2","path":"x\"y\\z\/w\u00e9"}`)
	f.Add(`{"path":"a","url":"u","path":"b"}`)
	f.Add(`{"path":"a","url":"https://h/b/k"} x`)
	f.Add(`{"path":"\ud83d\ude00","url":"https://h/b/k"}`)
	f.Add(`{"path":"a","URL":"https://h/b/k"}`)
	f.Fuzz(func(t *testing.T, line string) {
		got, ok := quickLine([]byte(line))
		if !ok {
			return
		}
		want, err := tokenLine([]byte(line))
		if err != nil {
			t.Fatalf("quickLine read %q as %+v; tokenLine refuses it: %v", line, got, err)
		}
		if got != want {
			t.Fatalf("%q: quickLine %+v, tokenLine %+v", line, got, want)
		}
	})
}

// The lines are scanned ahead of each: whichever goes wrong first in the
// file is what OpenManifest says, a missing file or a bad URL, and a scan
// stopped early leaves nothing running.
func TestOpenManifestSaysTheFirstBadLine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	lines := func(badURL, badFile int) string {
		var sb strings.Builder
		for i := range 2000 {
			u := manifestURL(fmt.Sprintf("k%d", i))
			if i == badURL {
				u = "ftp://x/y"
			}
			sb.WriteString(fmt.Sprintf(`{"path": "f%d", "url": %q}`+"\n", i, u))
		}
		return sb.String()
	}
	for _, tt := range []struct {
		badURL, badFile int
		want            string
	}{
		{badURL: 1500, badFile: 3, want: "line 4: missing f3"},
		{badURL: 3, badFile: 1500, want: "line 4: upload URL for"},
		{badURL: -1, badFile: 1999, want: "line 2000: missing f1999"},
	} {
		name := filepath.Join(dir, "m.jsonl")
		if err := os.WriteFile(name, []byte(lines(tt.badURL, tt.badFile)), 0o600); err != nil {
			t.Fatal(err)
		}
		var checked int
		g, err := OpenManifest(name, func(p string) error {
			checked++
			if filepath.Base(p) == fmt.Sprintf("f%d", tt.badFile) {
				return fmt.Errorf("missing %s", filepath.Base(p))
			}
			return nil
		})
		if err == nil {
			g.Close()
			t.Fatalf("bad URL on line %d, bad file on line %d: no error", tt.badURL+1, tt.badFile+1)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %q, want it to say %q", err, tt.want)
		}
		if last := min(tt.badFile+1, max(tt.badURL, 0)+1); tt.badURL >= 0 && checked > last {
			t.Errorf("each was given %d paths, past the first bad line (%d)", checked, last)
		}
	}
}
