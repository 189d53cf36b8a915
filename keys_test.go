package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// "hoist .." from a subfolder stores the parent's files inside the bucket,
// under keys with no ".." segment (issue 11, item 5).
func TestKeysStayInsideTheBucket(t *testing.T) {
	top := t.TempDir()
	_, data := writeTemp(t, top, "t.txt", 20)
	sub := filepath.Join(top, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "store")
	cmd := hoistCmd(t, nil, "--no-tui", "--json", "--local-dir", store, "..")
	cmd.Dir = sub
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	got, err := os.ReadFile(filepath.Join(store, "buckets", "hoist", "t.txt"))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("t.txt not stored inside the bucket folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(store, "buckets", "t.txt")); err == nil {
		t.Error("t.txt landed outside the bucket folder")
	}
	for _, e := range parseEvents(t, out.String()) {
		if e.Event == "done" && (e.Key != "t.txt" || e.File != "../t.txt") {
			t.Errorf("done event: key %q file %q, want key t.txt, file ../t.txt", e.Key, e.File)
		}
	}

	r := runHoist(t, nil, "--no-tui", "--s3", "s3://bucket/p/../x", filepath.Join(top, "t.txt"))
	if r.code != 2 || !strings.Contains(r.stderr, `".." segment`) {
		t.Errorf("--s3 with a .. prefix: exit %d: %s", r.code, r.stderr)
	}
}
