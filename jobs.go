package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"hoist/config"
	"hoist/headless"
	"hoist/uploader"
)

// jobFiles keeps this run's share of files when many machines share one job:
// with --shard i/n the files whose key hashes to shard i, and with
// --retry-failed only the files the reports say failed or were canceled.
// Files keep their order.
func jobFiles(files []uploader.File, cfg *config.Config, d *destination) ([]uploader.File, error) {
	if cfg.Shard != "" {
		i, n, ok := config.ParseShard(cfg.Shard)
		if !ok {
			return nil, fmt.Errorf("--shard %q: want I/N with 0 ≤ I < N, such as 0/4", cfg.Shard)
		}
		var kept []uploader.File
		for _, f := range files {
			if uploader.ShardOf(d.shardKey(f), n) == i {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	if cfg.RetryFailed != "" {
		failed, err := headless.FailedPaths(strings.Split(cfg.RetryFailed, ","))
		if err != nil {
			return nil, err
		}
		var kept []uploader.File
		for _, f := range files {
			if abs, err := filepath.Abs(f.Path); err == nil && failed[abs] {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	return files, nil
}

// shardKey is the key a file is sharded by: the object key in its URL's
// path for a given URL (the bucket left out), else the key hoist gives it
// (a file's name, or a directory's name and the path inside it), before
// any --s3 prefix.
func (d *destination) shardKey(f uploader.File) string {
	if d.given != nil {
		if r, ok := d.given.Report(f.Path); ok && r.Key != "" {
			return r.Key
		}
	}
	return f.Key
}
