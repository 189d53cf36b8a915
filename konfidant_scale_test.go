package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoist/internal/konfidantemu"
	"hoist/knf1"
	"hoist/konfidant"
)

// apiCalls are the requests the emulator saw on /api/v1/, in order.
func (w *konfidantWorld) apiCalls() []konfidantemu.Request {
	var calls []konfidantemu.Request
	for _, r := range w.emu.Requests() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			calls = append(calls, r)
		}
	}
	return calls
}

func refused(calls []konfidantemu.Request) int {
	n := 0
	for _, c := range calls {
		if c.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// TestKonfidantThousandFiles shares 1,000 small files through the
// encrypted flow: the API calls are paced, none is refused with 429, and
// every link is valid. --api-rate stops at 240 a minute, the real plan's
// most, which would make these 2,000 calls last over 8 minutes; so hoist
// runs in this process, from its own command line through the engine, with
// only the rate raised after the settings are read (to 500 a second).
// TestKonfidantPacesAPICalls shows the pacing through the binary at a rate
// that bites.
func TestKonfidantThousandFiles(t *testing.T) {
	const files = 1000
	w := newKonfidantWorld(t, func(o *konfidantemu.Options) { o.Rate = 3 * files })
	dir := t.TempDir()
	want := map[string][]byte{}
	for i := range files {
		name := fmt.Sprintf("f%04d.txt", i)
		_, data := writeTemp(t, dir, name, 1+i%200)
		want[name] = data
	}
	home := t.TempDir()
	vars := map[string]string{
		"KONFIDANT_API_KEY": w.key.Secret, "HOME": home,
		"XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state"),
		"XDG_DATA_HOME": filepath.Join(home, "data"),
	}
	getenv := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	var stdout, stderr bytes.Buffer
	cfg, code := loadConfig([]string{"--no-tui", "--json", "--konfidant", "--api-url", w.emu.URL, "--concurrency", "8", dir},
		&stdout, &stderr, getenv)
	if cfg == nil {
		t.Fatalf("settings refused (exit %d): %s", code, stderr.String())
	}
	cfg.APIRate = 30_000 // a minute
	if code := upload(t.Context(), cfg, &stdout, &stderr, getenv); code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), w.key.Secret) {
		t.Error("hoist printed the API key")
	}
	done := doneEvents(t, stdout.String())
	if len(done) != files {
		t.Fatalf("%d done events, want %d", len(done), files)
	}
	calls := w.apiCalls()
	if n := refused(calls); n != 0 {
		t.Errorf("%d API calls were refused with 429", n)
	}
	if len(calls) != 2*files {
		t.Errorf("%d API calls for %d files, want one create and one complete each", len(calls), files)
	}
	if span := calls[len(calls)-1].At.Sub(calls[0].At); span < 3500*time.Millisecond {
		t.Errorf("%d API calls in %v: not paced at 500 a second", len(calls), span)
	}

	// Every link is valid: its key opens the object its token names, read
	// where versitygw keeps it, to the file; and every 50th is opened as a
	// recipient would, at the download endpoint without an API key.
	hc := &http.Client{Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	var bad []string
	i := 0
	for name, e := range done {
		data, ok := want[name]
		if !ok {
			t.Errorf("a done event for %q, which was not shared", name)
			continue
		}
		if err := w.storedOpens(e.ShareURL, name, data); err != nil {
			bad = append(bad, name+": "+err.Error())
		}
		if i++; i%50 == 0 {
			if err := openByHand(hc, e.ShareURL, name, data); err != nil {
				bad = append(bad, name+" (download): "+err.Error())
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d links are not valid; first: %s", len(bad), bad[0])
	}
	w.assertKeyStayedWithTheAPI(t)
}

// storedOpens checks a link's key decrypts the object its token names, as
// versitygw keeps it on disk, to name and want.
func (w *konfidantWorld) storedOpens(link, name string, want []byte) error {
	fileKey, ok := w.emu.FileKeyOf(link)
	if !ok {
		return fmt.Errorf("the token is not one the API handed out")
	}
	f, err := os.Open(filepath.Join(w.gw.Dir, konfidantBucket, filepath.FromSlash(fileKey)))
	if err != nil {
		return err
	}
	defer f.Close()
	return decryptsTo(link, f, name, want)
}

// openByHand downloads a link once as a recipient would (the token to the
// link's origin, no API key) and checks what comes back.
func openByHand(hc *http.Client, link, name string, want []byte) error {
	l, err := konfidant.ParseLink(link)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"t": l.Token})
	resp, err := hc.Post(l.Origin+"/api/download", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the download endpoint answered %d", resp.StatusCode)
	}
	return decryptsTo(link, resp.Body, name, want)
}

// decryptsTo checks ciphertext decrypts with the link's key to name and want.
func decryptsTo(link string, ciphertext io.Reader, name string, want []byte) error {
	l, err := konfidant.ParseLink(link)
	if err != nil {
		return err
	}
	d, err := knf1.NewDecryptor(ciphertext, l.Key)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(d)
	if err != nil {
		return err
	}
	if d.Meta().Name != name || !bytes.Equal(got, want) {
		return fmt.Errorf("decrypts to %q, %d bytes", d.Meta().Name, len(got))
	}
	return nil
}

// TestKonfidantPacesAPICalls shares files whose API calls would otherwise
// go out at once: hoist spaces them at --api-rate, so the API, which allows
// a little more, refuses none.
func TestKonfidantPacesAPICalls(t *testing.T) {
	// 5 calls a second at the API, 4 a second (240 a minute, the most
	// --api-rate allows) from hoist: 8 files are 16 calls, at least
	// 15 × 250 ms apart in all.
	w := newKonfidantWorld(t, func(o *konfidantemu.Options) {
		o.Rate = 5
		o.RateWindow = time.Second
	})
	dir := t.TempDir()
	for i := range 8 {
		writeTemp(t, dir, fmt.Sprintf("p%02d.bin", i), 100)
	}
	r := runHoist(t, w.env, "--no-tui", "--json", "--konfidant", "--api-url", w.emu.URL, "--api-rate", "240", "--concurrency", "8", dir)
	if done := doneEvents(t, r.stdout); r.code != 0 || len(done) != 8 {
		t.Fatalf("exit %d, %d done events\n%s", r.code, len(done), r.stderr)
	}
	calls := w.apiCalls()
	if n := refused(calls); n != 0 {
		t.Fatalf("%d API calls were refused with 429: hoist did not pace to --api-rate", n)
	}
	if len(calls) != 16 {
		t.Fatalf("%d API calls, want 16", len(calls))
	}
	if span := calls[len(calls)-1].At.Sub(calls[0].At); span < 3*time.Second {
		t.Errorf("16 API calls in %v: not paced at 4 a second", span)
	}
}

// TestKonfidantHonoursRetryAfter lets hoist call faster than the API
// allows: the API answers 429 with Retry-After, hoist waits it out, and
// every file is still shared without hammering the API.
func TestKonfidantHonoursRetryAfter(t *testing.T) {
	w := newKonfidantWorld(t, func(o *konfidantemu.Options) {
		o.Rate = 2
		o.RateWindow = time.Second
	})
	dir := t.TempDir()
	for i := range 6 {
		writeTemp(t, dir, fmt.Sprintf("r%02d.bin", i), 100)
	}
	r := runHoist(t, w.env, "--no-tui", "--json", "--konfidant", "--api-url", w.emu.URL, "--api-rate", "240", "--concurrency", "4", dir)
	if done := doneEvents(t, r.stdout); r.code != 0 || len(done) != 6 {
		t.Fatalf("exit %d, %d done events\n%s", r.code, len(done), r.stderr)
	}
	n := refused(w.apiCalls())
	if n == 0 {
		t.Fatal("the API never answered 429: nothing here tested Retry-After")
	}
	// 12 calls at 2 a second take about 6 s; a client that retried at once
	// instead of after Retry-After (1 s) would be refused many more times.
	if n > 12 {
		t.Errorf("%d calls refused with 429 for 12 that succeeded: hoist does not wait out Retry-After", n)
	}
}
