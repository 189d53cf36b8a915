package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"hoist/config"
	"hoist/fileset"
	"hoist/runreport"
	"hoist/uploader"
)

const historyUsage = "Usage: hoist history [--retry N [FLAGS]]"

// runHistory is `hoist history`: past runs from their reports, newest first,
// numbered so `hoist history --retry N` can send again the files run N did
// not upload, to the same place with the same metadata.
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := pflag.NewFlagSet("history", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// Flags after --retry N go to the rerun (--limit-rate 1M, --json…), so
	// only history's own are parsed here.
	fs.ParseErrorsAllowlist.UnknownFlags = true
	retry := fs.Int("retry", 0, "")
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "hoist history: %v\n%s\n", err, historyUsage)
		return exitUsage
	}
	if *help {
		fmt.Fprintln(stdout, historyUsage)
		fmt.Fprintln(stdout, "Lists past runs from their reports, newest first: when, files, target, result.")
		fmt.Fprintln(stdout, "--retry N sends again, headless, the files run N did not upload: to the same")
		fmt.Fprintln(stdout, "place, with the same metadata. Flags after it change the rerun (--json, …).")
		return exitOK
	}
	dir := reportDir(getenv)
	if dir == "" {
		fmt.Fprintln(stderr, "hoist history: no home folder, so no reports; set HOME or XDG_STATE_HOME")
		return exitUsage
	}
	entries, skipped, err := runreport.List(dir)
	if err != nil {
		fmt.Fprintln(stderr, "hoist history:", err)
		return exitUsage
	}
	if *retry == 0 {
		if len(fs.Args()) > 0 {
			fmt.Fprintf(stderr, "hoist history: unexpected %q\n%s\n", fs.Args()[0], historyUsage)
			return exitUsage
		}
		writeHistory(stdout, entries)
		if skipped > 0 {
			fmt.Fprintf(stderr, "hoist history: %d file(s) in %s are not hoist reports and were skipped\n", skipped, dir)
		}
		return exitOK
	}
	if *retry < 1 || *retry > len(entries) {
		fmt.Fprintf(stderr, "hoist history: there is no run %d; hoist history lists %d\n", *retry, len(entries))
		return exitUsage
	}
	return retryRun(ctx, *retry, entries[*retry-1].Report, args, stdout, stderr, getenv)
}

func writeHistory(w io.Writer, entries []runreport.Entry) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "No runs yet: each upload writes a report, and they are listed here.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\twhen\tfiles\ttarget\tresult")
	for i, e := range entries {
		r := e.Report
		// Headless reports list only the files that did not upload: count
		// from the summary.
		n := r.Summary.Uploaded + r.Summary.Failed + r.Summary.Canceled + r.Summary.Pending
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", i+1, r.Started.Local().Format("2006-01-02 15:04 MST"), n, r.Target, resultOf(r))
	}
	tw.Flush()
}

func resultOf(r runreport.Report) string {
	s := r.Summary
	parts := []string{fmt.Sprintf("%d uploaded", s.Uploaded)}
	if s.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", s.Failed))
	}
	if n := s.Canceled + s.Pending; n > 0 {
		parts = append(parts, fmt.Sprintf("%d canceled", n))
	}
	if r.Interrupted {
		parts = append(parts, "interrupted")
	}
	return strings.Join(parts, ", ")
}

// retryRun sends the files of report r that did not upload, headless, with
// the settings and metadata r recorded; flags the person added win.
func retryRun(ctx context.Context, n int, r runreport.Report, args []string, stdout, stderr io.Writer, getenv env) int {
	var left []runreport.File
	for _, f := range r.Files {
		if !f.Sent() {
			left = append(left, f)
		}
	}
	if len(left) == 0 {
		fmt.Fprintf(stdout, "Run %d uploaded every file; nothing to retry.\n", n)
		return exitOK
	}
	if v, ok := r.Settings["url"]; ok && v == "" {
		fmt.Fprintf(stderr, "hoist history: run %d sent to a presigned URL (--url), which hoist does not keep: its signature is a secret and expires; run hoist --url NEW-URL %s\n",
			n, left[0].Path)
		return exitUsage
	}
	for _, name := range slices.Sorted(maps.Keys(r.Settings)) {
		// A URL that carried a query was withheld from the report: without
		// it the rerun would go somewhere else, unless the person gives it.
		if r.Settings[name] == "" && !slices.ContainsFunc(args, func(a string) bool { return a == "--"+name || strings.HasPrefix(a, "--"+name+"=") }) {
			fmt.Fprintf(stderr, "hoist history: run %d used a --%s whose query hoist does not keep (it may hold a secret); give it again: hoist history --retry %d --%s URL\n",
				n, name, n, name)
			return exitUsage
		}
	}

	rerun := recordedArgs(r)
	rerun = append(rerun, withoutRetry(args)...)
	cfg, err := config.Load(rerun, getenv)
	if err != nil {
		return usageError(stderr, err)
	}
	if cfg.ShowHelp || cfg.ShowVersion || len(cfg.Paths) > 0 {
		fmt.Fprintf(stderr, "hoist history: --retry takes flags, not PATHs or --help\n%s\n", historyUsage)
		return exitUsage
	}
	cfg.NoTUI = true

	files := make([]uploader.File, 0, len(left))
	for _, f := range left {
		fh, st, err := fileset.Open(f.Path)
		if err != nil {
			fmt.Fprintf(stderr, "hoist history: %s: %v\n", f.Path, err)
			return exitUsage
		}
		fh.Close()
		// The key is the one the run gave it: a file picked inside a folder
		// keeps the folder in its key, as it would have the first time.
		files = append(files, uploader.File{Path: f.Path, Name: f.File, Key: f.Key, Size: st.Size(), ModTime: st.ModTime()})
	}
	return uploadFiles(ctx, cfg, files, stdout, stderr, getenv)
}

// recordedArgs turns what a report recorded into flags: its settings, then
// the metadata the files were sent with.
func recordedArgs(r runreport.Report) []string {
	var out []string
	names := make([]string, 0, len(r.Settings))
	for name := range r.Settings {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, "--"+name+"="+r.Settings[name])
	}
	md := r.Metadata
	if md.OrgID != "" {
		out = append(out, "--org-id="+md.OrgID)
	}
	if md.UserID != "" {
		out = append(out, "--user-id="+md.UserID)
	}
	if md.TTLHours > 0 {
		out = append(out, "--ttl-hours="+strconv.Itoa(md.TTLHours))
	}
	return out
}

// withoutRetry drops history's own --retry N from args, leaving the flags
// meant for the rerun.
func withoutRetry(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--retry":
			i++
		case strings.HasPrefix(a, "--retry="):
		default:
			out = append(out, a)
		}
	}
	return out
}
