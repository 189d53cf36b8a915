package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"hoist/config"
	"hoist/source"
	"hoist/uploader"
)

// origin is how the engine's journal records where a multipart upload goes,
// so `hoist uploads --abort` can reach it again without the command that
// started it. Settings only: credentials come from the usual places.
func origin(cfg *config.Config) map[string]string {
	switch {
	case cfg.S3 != "":
		o := map[string]string{"s3": cfg.S3}
		for k, v := range map[string]string{"endpoint_url": cfg.EndpointURL, "region": cfg.Region, "profile": cfg.Profile} {
			if v != "" {
				o[k] = v
			}
		}
		return o
	case cfg.PresignURL != "":
		u, err := url.Parse(cfg.PresignURL)
		if err != nil {
			return nil
		}
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		return map[string]string{"presign_url": u.String()}
	}
	return nil
}

// runUploads is `hoist uploads [--abort ID|--all]`: the multipart uploads an
// interrupted run kept for a resume, and a way to discard them.
func runUploads(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := pflag.NewFlagSet("uploads", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	abort := fs.Bool("abort", false, "abort the upload ID (or every one with --all) on the server and forget it")
	all := fs.Bool("all", false, "with --abort: every upload listed")
	help := fs.BoolP("help", "h", false, "")
	const usage = "Usage: hoist uploads [--abort ID | --abort --all]"
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "hoist uploads: %v\n%s\n", err, usage)
		return exitUsage
	}
	if *help {
		fmt.Fprintln(stdout, usage)
		fmt.Fprintln(stdout, "Lists the multipart uploads an interrupted or failed run kept so the same command can resume them.")
		fmt.Fprintln(stdout, "--abort discards one (by the ID listed) or all of them on the server; the same credentials are needed.")
		return exitOK
	}
	rest := fs.Args()
	if (*abort && *all && len(rest) != 0) || (*abort && !*all && len(rest) != 1) || (!*abort && (len(rest) != 0 || *all)) {
		fmt.Fprintf(stderr, "hoist uploads: %s\n", usage)
		return exitUsage
	}
	dir, err := config.StateDir(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "hoist uploads:", err)
		return exitUsage
	}
	journal := uploader.OpenJournal(filepath.Join(dir, "journal"))
	ups, err := journal.List()
	if err != nil {
		fmt.Fprintln(stderr, "hoist uploads:", err)
		return exitFailed
	}
	if !*abort {
		listUploads(stdout, ups)
		return exitOK
	}
	var chosen []uploader.JournaledUpload
	for _, u := range ups {
		if *all || strings.HasPrefix(u.ID, rest[0]) {
			chosen = append(chosen, u)
		}
	}
	switch {
	case len(chosen) == 0 && !*all:
		fmt.Fprintf(stderr, "hoist uploads: no upload %q; run hoist uploads to list them\n", rest[0])
		return exitUsage
	case len(chosen) > 1 && !*all:
		fmt.Fprintf(stderr, "hoist uploads: %q names %d uploads; give more of the ID\n", rest[0], len(chosen))
		return exitUsage
	}
	code := exitOK
	for _, u := range chosen {
		name := uploader.DisplayName(u.Name)
		if err := abortJournaled(ctx, u, getenv); err != nil {
			fmt.Fprintf(stderr, "hoist uploads: %s: %s\n", name, uploader.DisplayName(err.Error()))
			code = exitFailed
			continue
		}
		_ = journal.Forget(u.ID)
		fmt.Fprintf(stdout, "aborted %s → %s (%s)\n", name, uploader.DisplayName(u.Key), u.ID[:12])
	}
	return code
}

func listUploads(w io.Writer, ups []uploader.JournaledUpload) {
	if len(ups) == 0 {
		fmt.Fprintln(w, "No multipart uploads are waiting to be resumed.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFILE\tTO\tON THE SERVER\tSTARTED")
	for _, u := range ups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s of %s (%d parts)\t%s\n", u.ID[:12], uploader.DisplayName(u.Name),
			uploader.DisplayName(u.Dest+" "+u.Key), humanize.IBytes(uint64(u.Sent)), humanize.IBytes(uint64(u.Size)), u.Parts,
			u.Started.Local().Format(time.DateTime))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nRun the command that started an upload again to resume it, or discard it with hoist uploads --abort ID (or --abort --all).")
}

// abortJournaled aborts u on its server, opened from the journal's origin.
// An upload the server no longer has is as good as aborted.
func abortJournaled(ctx context.Context, u uploader.JournaledUpload, getenv env) error {
	var ms uploader.MultipartSource
	switch o := u.Origin; {
	case o["s3"] != "":
		bucket, prefix, err := source.ParseS3URI(o["s3"])
		if err != nil {
			return err
		}
		s, err := source.NewS3(ctx, source.S3Config{
			Bucket: bucket, Prefix: prefix, EndpointURL: o["endpoint_url"], Region: o["region"], Profile: o["profile"],
			PathStyle: o["endpoint_url"] != "", Multipart: true,
		})
		if err != nil {
			return err
		}
		defer s.Close()
		ms = s
	case o["presign_url"] != "":
		token, _ := getenv("HOIST_TOKEN")
		s, err := source.NewCompanion(source.CompanionConfig{Endpoint: o["presign_url"], Token: token, Multipart: true})
		if err != nil {
			return err
		}
		ms = s
	default:
		return fmt.Errorf("the journal does not say how to reach %s; abort upload %s there by hand", u.Dest, u.UploadID)
	}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := ms.AbortMultipart(actx, uploader.Upload{Key: u.Key, UploadID: u.UploadID}); err != nil && !uploader.IsNoSuchUpload(err) {
		return err
	}
	return nil
}
