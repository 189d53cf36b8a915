package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"hoist/config"
	"hoist/fileset"
	"hoist/headless"
	"hoist/uploader"
)

// jobFiles keeps this run's share of files when many machines share one job:
// with --shard i/n the files whose key hashes to shard i, and with
// --retry-failed only the files the reports say failed or were canceled.
// Files keep their order.
func jobFiles(files *fileset.List, cfg *config.Config, d *destination) (*fileset.List, error) {
	share, err := newJobShare(cfg, d)
	if err != nil {
		return nil, err
	}
	if !share.active() {
		return files, nil
	}
	return share.keep(files), nil
}

// jobShare is jobFiles' rule with the reports already read, so the terminal
// UI can apply it to each pick of files without reading a file.
type jobShare struct {
	d       *destination
	shard   int
	shards  int             // 0: no --shard
	failed  map[string]bool // absolute paths; nil: no --retry-failed
	flagSet []string        // the flags in force, as typed, for messages
}

func newJobShare(cfg *config.Config, d *destination) (jobShare, error) {
	j := jobShare{d: d}
	if cfg.Shard != "" {
		i, n, ok := config.ParseShard(cfg.Shard)
		if !ok {
			return j, fmt.Errorf("--shard %q: want I/N with 0 ≤ I < N, such as 0/4", cfg.Shard)
		}
		j.shard, j.shards = i, n
		j.flagSet = append(j.flagSet, "--shard "+cfg.Shard)
	}
	if cfg.RetryFailed != "" {
		failed, err := headless.FailedPaths(strings.Split(cfg.RetryFailed, ","))
		if err != nil {
			return j, err
		}
		j.failed = failed
		j.flagSet = append(j.flagSet, "--retry-failed")
	}
	return j, nil
}

// active reports whether the share leaves any file out.
func (j jobShare) active() bool { return j.shards > 0 || j.failed != nil }

// flags names the flags in force, such as "--shard 1/4".
func (j jobShare) flags() string { return strings.Join(j.flagSet, " ") }

// keep is the files of the list that are this run's to send.
func (j jobShare) keep(files *fileset.List) *fileset.List { return files.Filter(j.keeps) }

// keeps reports whether f is this run's to send.
func (j jobShare) keeps(f uploader.File) bool {
	if j.shards > 0 && uploader.ShardOf(j.d.shardKey(f), j.shards) != j.shard {
		return false
	}
	if j.failed != nil {
		abs, err := filepath.Abs(f.Path)
		return err == nil && j.failed[abs]
	}
	return true
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
