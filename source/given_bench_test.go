package source

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hoist/internal/apiurl"
	"hoist/uploader"
)

// BenchmarkManifestLookup is the engine's cost per file of a manifest
// line read again (issue 15): WantsChecksum, then Target, for files in a
// manifest of realistic presigned PUT URLs (signed metadata headers, a
// 64-hex signature, Go's escaping of & as \u0026).
func BenchmarkManifestLookup(b *testing.B) {
	const lines = 10000
	dir := b.TempDir()
	signer := apiurl.Signer{Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", AccessKey: "AKIDEXAMPLE", SecretKey: "secret"}
	header := map[string]string{}
	for k, v := range testMeta.Values() {
		header[k] = v
	}
	f, err := os.Create(filepath.Join(dir, "m.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	paths := make([]string, lines)
	for i := range lines {
		paths[i] = filepath.Join(dir, fmt.Sprintf("f%06d.bin", i))
		u, err := signer.PresignPut(context.Background(), apiurl.Put{
			Bucket: "bench", Key: fmt.Sprintf("many/f%06d.bin", i), Header: header,
			Expires: time.Hour, SignedAt: at, PinnedCRC32: apiurl.NoChecksum,
		})
		if err != nil {
			b.Fatal(err)
		}
		line, _ := json.Marshal(map[string]string{"path": paths[i], "url": u})
		f.Write(append(line, '\n'))
	}
	f.Close()
	g, err := OpenManifest(f.Name(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	for i := 0; b.Loop(); i++ {
		file := uploader.File{Path: paths[i%lines], Name: "f", Size: 1024}
		g.WantsChecksum(file)
		if _, err := g.Target(context.Background(), file, testMeta); err != nil {
			b.Fatal(err)
		}
	}
}
