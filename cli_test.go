package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hoist inspect URL FILE reads the metadata from HOIST_* and the config file,
// as the upload does, so it reports no missing metadata the upload would find.
func TestInspectReadsSettingsLikeAnUpload(t *testing.T) {
	dir := t.TempDir()
	file, _ := writeTemp(t, dir, "ok.txt", 10)
	u := presign(t, "http://127.0.0.1:9", "ok.txt", time.Hour)
	conf := filepath.Join(dir, "hoist.toml")
	if err := os.WriteFile(conf, []byte("ttl_hours = 48\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOIST_ORG_ID=org-1", "HOIST_USER_ID=user-2", "HOIST_CONFIG=" + conf}

	r := runHoist(t, env, "inspect", u, file)
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "set --") {
		t.Errorf("exit %d, want 0 with the metadata from env and file\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A flag still wins, and a missing value is still found.
	r = runHoist(t, []string{"HOIST_ORG_ID=org-1", "HOIST_CONFIG=" + conf}, "inspect", "--user-id", "user-2", u, file)
	if r.code != 0 {
		t.Errorf("flag + env + file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runHoist(t, []string{"HOIST_CONFIG=" + conf}, "inspect", u, file)
	if r.code != 1 || !strings.Contains(r.stdout, "--org-id") {
		t.Errorf("missing org id: exit %d, want 1 naming --org-id\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertClean(t, r, secretsOf(t, u)...)
}
