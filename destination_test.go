package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"hoist/config"
	"hoist/internal/apiurl"
	"hoist/uploader"
)

func TestGroupProblemsSaysSharedProblemsOnce(t *testing.T) {
	ps := []problem{
		{File: "a", Message: "pins an empty checksum"},
		{File: "b", Error: true, Message: "expired"},
		{File: "c", Message: "pins an empty checksum"},
		{File: "d", Message: "pins an empty checksum"},
	}
	want := []problem{
		{File: "a and 2 other files", Message: "pins an empty checksum"},
		{File: "b", Error: true, Message: "expired"},
	}
	if got := groupProblems(ps); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

// Preflight checks a manifest's files a chunk at a time on every CPU; what
// it finds still comes in the files' order, and only for the files given.
func TestPreflightKeepsTheFilesOrder(t *testing.T) {
	const n = 2600 // three chunks
	dir := t.TempDir()
	expired := map[int]bool{5: true, 1500: true, 2599: true}
	signer := apiurl.Signer{Endpoint: "https://uploads.example", Region: "us-east-1", AccessKey: "AKIDEXAMPLE", SecretKey: "secret"}
	var manifest strings.Builder
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("f%04d", i))
		if err := os.WriteFile(p, []byte{1}, 0o600); err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		if expired[i] {
			at = at.Add(-2 * time.Hour)
		}
		u, err := signer.PresignPut(context.Background(), apiurl.Put{Bucket: "b", Key: filepath.Base(p), Expires: time.Hour, SignedAt: at, PinnedCRC32: apiurl.NoChecksum})
		if err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(map[string]string{"path": p, "url": u})
		manifest.Write(append(line, '\n'))
	}
	name := filepath.Join(dir, "m.jsonl")
	if err := os.WriteFile(name, []byte(manifest.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := openDestination(context.Background(), &config.Config{Manifest: name}, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var named []string
	for _, p := range d.preflight(context.Background(), d.files, uploader.Metadata{}) {
		if !p.Error || !strings.Contains(p.Message, "expired") {
			t.Errorf("unexpected problem %+v", p)
		}
		named = append(named, filepath.Base(p.File))
	}
	if want := []string{"f0005", "f1500", "f2599"}; !slices.Equal(named, want) {
		t.Errorf("problems for %v, want %v in that order", named, want)
	}
}
