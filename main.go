// Command hoist uploads files to S3-style object storage through presigned
// PUT URLs, in a terminal UI or headless.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"hoist/config"
	"hoist/fileset"
	"hoist/headless"
	"hoist/runreport"
	"hoist/ui"
	"hoist/uploader"
)

// Exit codes, as the command-line contract documents them. A run stopped by
// a signal exits 128+signal, as a shell reports it: 130 for SIGINT (Ctrl+C),
// 129 for SIGHUP (the terminal went away), 143 for SIGTERM.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// stopSignals end a run cleanly: uploads stop, the terminal is restored, the
// summary and report are written.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// stoppedBy is the cause of a run's context when a signal ended it.
type stoppedBy struct{ sig syscall.Signal }

func (s stoppedBy) Error() string { return "interrupted by " + s.sig.String() }

// notifyStop is signal.NotifyContext that remembers which signal came, for
// the exit code. After the first signal, a second one ends the process at
// once (the default action is restored).
func notifyStop(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, stopSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			signal.Stop(ch)
			s, _ := sig.(syscall.Signal)
			cancel(stoppedBy{s})
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel(nil)
		})
	}
}

// exitInterrupted is the exit code of a run whose context ctx ended: 128+
// the signal that ended it, 130 when nothing says which.
func exitInterrupted(ctx context.Context) int {
	var s stoppedBy
	if errors.As(context.Cause(ctx), &s) && s.sig > 0 {
		return 128 + int(s.sig)
	}
	return 128 + int(syscall.SIGINT)
}

func main() {
	code := run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	for _, f := range atExit {
		f()
	}
	os.Exit(code)
}

// sizeGC tunes the garbage collector for the terminal UI's run of n files.
// At 100,000 files its live heap is mostly tables without pointers (the
// file list, the manifest's line index, the rows), and Go's default growth
// (GOGC 100) would double it to a 62–66 MiB peak; collecting at half that
// growth keeps it at 51 MiB. It costs CPU (10–15% more for hoist here), so
// only the terminal UI's big runs pay it: headless stays at 36–42 MiB with
// the default (issue 15, BENCHMARKS.md). GOGC, when set, has the last word.
func sizeGC(n int) {
	if _, set := os.LookupEnv("GOGC"); !set && n >= bigRun {
		debug.SetGCPercent(50)
	}
}

// bigRun is the number of files from which the terminal UI's tables are
// most of its memory.
const bigRun = 50_000

// atExit runs before the process exits; only the hoistprof build's profiles
// (profile_hoistprof.go) use it.
var atExit []func()

// env reads the environment; tests pass their own.
type env func(string) (string, bool)

func run(args []string, stdout, stderr io.Writer, getenv env) int {
	ctx, stop := notifyStop(context.Background())
	defer stop()

	if len(args) > 0 {
		switch args[0] {
		case "inspect":
			return runInspect(args[1:], stdout, stderr, getenv)
		case "serve":
			return runServe(ctx, args[1:], stdout, stderr, getenv)
		case "config":
			return runConfig(args[1:], stdout, stderr, getenv)
		case "version":
			fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
			return exitOK
		case "help":
			return runHelp(args[1:], stdout, stderr, getenv)
		case "history":
			return runHistory(ctx, args[1:], stdout, stderr, getenv)
		case "completion":
			return runCompletion(args[1:], stdout, stderr)
		case "man":
			config.Man(stdout, strings.TrimPrefix(versionLine(debug.ReadBuildInfo()), "hoist "))
			return exitOK
		case "uploads":
			return runUploads(ctx, args[1:], stdout, stderr, getenv)
		case "open":
			return runOpen(ctx, args[1:], stdout, stderr)
		}
	}
	cfg, code := loadConfig(args, stdout, stderr, getenv)
	if cfg == nil {
		return code
	}
	return upload(ctx, cfg, stdout, stderr, getenv)
}

// loadConfig loads settings; a nil Config means stop with the exit code.
// Warnings are left for the caller, which knows how to print them.
func loadConfig(args []string, stdout, stderr io.Writer, getenv env) (*config.Config, int) {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return nil, usageError(stderr, err)
	}
	switch {
	case cfg.ShowHelp:
		config.Usage(stdout)
		return nil, exitOK
	case cfg.ShowVersion:
		fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
		return nil, exitOK
	}
	return cfg, exitOK
}

// runHelp is `hoist help [COMMAND]`: the same text as --help.
func runHelp(args []string, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 {
		config.Usage(stdout)
		return exitOK
	}
	for _, c := range config.Commands {
		if c.Name != args[0] {
			continue
		}
		switch c.Name {
		case "inspect", "serve", "history":
			return run([]string{c.Name, "--help"}, stdout, stderr, getenv)
		}
		fmt.Fprintf(stdout, "Usage: %s\n%s.\n", strings.TrimSpace("hoist "+c.Name+" "+c.Args), c.Summary)
		return exitOK
	}
	var names []string
	for _, c := range config.Commands {
		names = append(names, c.Name)
	}
	fmt.Fprintf(stderr, "hoist help: no command %q; the commands are %s\n", args[0], strings.Join(names, ", "))
	return exitUsage
}

// runCompletion is `hoist completion bash|zsh|fish`.
func runCompletion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "hoist completion: name one shell: %s\n", strings.Join(config.Shells, ", "))
		return exitUsage
	}
	if err := config.Completion(stdout, args[0]); err != nil {
		fmt.Fprintln(stderr, "hoist completion:", err)
		return exitUsage
	}
	return exitOK
}

func usageError(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "hoist:", err)
	var ue *config.UsageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "Run 'hoist --help' for usage.")
	}
	return exitUsage
}

func runConfig(args []string, stdout, stderr io.Writer, getenv env) int {
	cfg, code := loadConfig(args, stdout, stderr, getenv)
	if cfg == nil {
		return code
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "hoist: warning:", w)
	}
	if err := cfg.PrefillLastUsed(getenv); err != nil {
		fmt.Fprintln(stderr, "hoist: warning:", err)
	}
	cfg.Write(stdout)
	return exitOK
}

// upload is `hoist [flags] [PATH...]`. In JSON mode everything it prints,
// problems included, is a JSON event: only a usage error found while loading
// the settings (before the run starts) is plain text.
func upload(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer, getenv env) int {
	return uploadFiles(ctx, cfg, nil, stdout, stderr, getenv)
}

// uploadFiles is upload with the files fixed beforehand (hoist history
// --retry) instead of found from the PATHs; with given URLs, only those
// files of the manifest are sent.
func uploadFiles(ctx context.Context, cfg *config.Config, only []uploader.File, stdout, stderr io.Writer, getenv env) int {
	tui := !cfg.NoTUI && !cfg.JSON && isTerminal(os.Stdin) && isTerminal(os.Stdout)
	printer := &headless.Printer{Out: stdout, Err: stderr, JSON: cfg.JSON, Redact: cfg.Redact}
	for _, w := range cfg.Warnings {
		printer.Warn("", w)
	}

	// Headless PATHs are checked before any store starts or any signer
	// loads credentials: a typo costs nothing. Given URLs bring their own
	// files (openDestination reads them).
	var files *fileset.List
	if only != nil {
		files = fileset.ListOf(only)
	}
	if only == nil && !tui && cfg.URL == "" && cfg.Manifest == "" {
		if len(cfg.Paths) == 0 {
			fmt.Fprintln(stderr, "hoist: nothing to upload: give one or more PATHs (or run hoist in a terminal to pick files)")
			return exitUsage
		}
		var err error
		var skipped int
		if files, skipped, err = collectFiles(cfg.Paths); err != nil {
			printer.Error("", err.Error())
			return exitUsage
		}
		if skipped > 0 {
			printer.Warn("", fmt.Sprintf("skipping %d special %s (named pipes, sockets, devices, links to folders) inside the given folders", skipped, plural(skipped, "file", "files")))
		}
	}

	dest, err := openDestination(ctx, cfg, getenv)
	if err != nil {
		printer.Error("", err.Error())
		return exitUsage
	}
	defer dest.Close()
	var links *linkFile
	if cfg.SaveLinks != "" {
		if links, err = openLinkFile(cfg.SaveLinks); err != nil {
			fmt.Fprintln(stderr, "hoist:", err)
			return exitUsage
		}
		defer links.Close()
	}

	md := metadataOf(cfg)
	opts := uploader.Options{
		Concurrency: cfg.Concurrency, Retries: cfg.Retries, Token: cfg.Token, Metadata: md,
		StallTimeout: cfg.StallTimeout, LimitRate: cfg.LimitRate,
		MultipartThreshold: cfg.MultipartThreshold, PartSize: cfg.PartSize,
		SkipExisting: cfg.SkipExisting,
		Origin:       origin(cfg),
	}
	if dir, err := config.StateDir(getenv); err == nil {
		opts.Journal = uploader.OpenJournal(filepath.Join(dir, "journal"))
	}
	if tui {
		return runTUI(ctx, cfg, dest, opts, links, stdout, stderr, getenv)
	}

	if dest.files != nil {
		files = dest.files
		if only != nil {
			files = files.Filter(func(f uploader.File) bool {
				return slices.ContainsFunc(only, func(o uploader.File) bool { return samePath(o.Path, f.Path) })
			})
		}
	}
	if files, err = jobFiles(files, cfg, dest); err != nil {
		printer.Error("", err.Error())
		return exitUsage
	}
	if err := checkKeys(files, dest); err != nil {
		printer.Error("", err.Error())
		return exitUsage
	}
	failed := false
	for _, p := range groupProblems(dest.preflight(ctx, files, md)) {
		if p.Error {
			failed = true
			printer.Error(p.File, p.Message)
		} else {
			printer.Warn(p.File, p.Message)
		}
	}
	if failed {
		if !cfg.JSON {
			fmt.Fprintln(stderr, "hoist: nothing was uploaded; fix the problems above and run again")
		}
		return exitUsage
	}

	return runHeadless(ctx, cfg, dest, files, opts, links, printer, stderr, getenv)
}

// runHeadless sends files without the TUI: a start line, progress while it
// runs, a line per file, the summary and the run report, as the printer's
// mode has them.
func runHeadless(ctx context.Context, cfg *config.Config, dest *destination, files *fileset.List, opts uploader.Options, links *linkFile,
	printer *headless.Printer, stderr io.Writer, getenv env) int {
	every := headless.PlainEvery
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		printer.Live, every = true, headless.LiveEvery
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			printer.Width = w
		}
	}
	if cfg.JSON {
		every = cfg.ProgressInterval
	}
	target := dest.src.Describe()
	printer.Start(files.Len(), files.Total(), target)

	// The pool forgets each finished file (flat memory at 100,000 files), so
	// what the report needs of the files that did not upload is kept from
	// their events; uploaded ones are counted in the summary.
	opts.ForgetFinished = true
	pool := uploader.New(dest.src, opts)
	pool.Start(ctx)
	var unsent []uploader.FileStatus // the event loop's until done closes
	codes := map[int]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range pool.Events() {
			switch st, _ := e.Kind.Ends(); st {
			case uploader.StateFailed, uploader.StateCanceled:
				reason := ""
				if e.Err != nil {
					reason = e.Err.Error()
				}
				unsent = append(unsent, uploader.FileStatus{ID: e.ID, Name: e.File, State: st, Attempt: e.Attempt, Reason: cfg.Redact(reason)})
				codes[e.ID] = e.Code
			}
			printer.Event(e)
			if e.Kind == uploader.EventDone {
				if err := links.save(e.Result); err != nil {
					printer.Warn("", "--save-links: "+err.Error())
				}
			}
		}
	}()
	started := time.Now()
	stopWatch := func() {}
	if every > 0 {
		stopWatch = printer.Watch(pool, every, files.Len(), files.Total())
	}
	// Fed in steps, so a queue of 100,000 files never stands at once; a
	// fresh pool numbers them in order: file i has id i.
	added := pool.Feed(ctx, files)
	notAdded := files.Len() - added
	_ = pool.Wait(ctx)
	stopWatch()
	pool.Close() // marks what never finished as canceled
	<-done

	s := pool.Summary()
	s.Canceled += notAdded // interrupted before the pool was given them
	interrupted := ctx.Err() != nil
	report := ""
	if dir := reportDir(getenv); dir != "" {
		byID := make(map[int]uploader.File, len(unsent))
		for i, u := range unsent {
			f := files.At(u.ID)
			byID[u.ID], unsent[i].Size = f, f.Size
		}
		path := runreport.PathFor(dir, started)
		r := runreport.Build(runreport.Run{
			Files: byID, Codes: codes, Target: target, Settings: cfg.Rerun(),
			Metadata: opts.Metadata, Started: started, Interrupted: interrupted,
		}, s, unsent, time.Now())
		if err := runreport.Write(path, r); err != nil {
			printer.Warn("", "the run report was not written: "+err.Error())
		} else {
			report = path
		}
	}
	printer.Summary(s, interrupted, report)
	if dest.store != nil && s.Uploaded > 0 && !cfg.JSON {
		fmt.Fprintf(printer.Out, "Files are in %s\n", dest.store.Dir())
	}
	switch {
	case interrupted:
		return exitInterrupted(ctx)
	case s.Failed > 0 || s.Canceled > 0 || s.Pending > 0:
		return exitFailed
	}
	return exitOK
}

func runTUI(ctx context.Context, cfg *config.Config, dest *destination, opts uploader.Options, links *linkFile, stdout, stderr io.Writer, getenv env) int {
	// --shard and --retry-failed keep this run's share by headless runs'
	// rule: of the manifest's files now, of the picked files on each pick.
	share, err := newJobShare(cfg, dest)
	if err != nil {
		fmt.Fprintln(stderr, "hoist:", err)
		return exitUsage
	}
	fixed := dest.files // nil when PATHs or the picker choose
	var jobFiles func(*fileset.List) *fileset.List
	if share.active() {
		jobFiles = share.keep
		if fixed != nil {
			if fixed = share.keep(fixed); fixed.Len() == 0 {
				fmt.Fprintf(stderr, "hoist: no file of the %d given is this run's share (%s); nothing to send\n", dest.files.Len(), share.flags())
				return exitOK
			}
		}
	}
	// The form offers last time's values; flags, environment and the config
	// file win. A state file that cannot be read offers nothing.
	_ = cfg.PrefillLastUsed(getenv)
	md := metadataOf(cfg)
	var remembered uploader.Metadata
	if last, err := config.LoadLastUsed(getenv); err == nil {
		remembered = uploader.Metadata{OrgID: last.OrgID, UserID: last.UserID, TTLHours: last.TTLHours}
	}
	required := dest.required()
	optional := dest.given == nil && required != nil && len(required) == 0
	if optional {
		required = nil // ask for all three; ui reads nil so
	}
	var ( // the share links made, printed once the screen is gone
		sharesMu sync.Mutex
		shares   []uploader.Result
		saveErr  error // the first --save-links failure, told once the screen is gone
	)
	out, err := ui.Run(ctx, ui.Options{
		Paths:      cfg.Paths,
		FixedFiles: fixed,
		JobFiles:   jobFiles,
		JobFlags:   share.flags(),
		Metadata:   md,
		Remembered: remembered,
		Required:   required,
		// A source that needs no metadata still gets the form: optional.
		OptionalMetadata: optional,
		FormIntro:        dest.formIntro(),
		Target:           dest.src.Describe(),
		Expires:          dest.expires(),
		PartsFor:         func(size int64) int { return uploader.PartsFor(dest.src, opts, size) },
		Preflight: func(files *fileset.List, md uploader.Metadata) []ui.Preflight {
			var out []ui.Preflight
			if err := checkKeys(files, dest); err != nil {
				out = append(out, ui.Preflight{Error: true, Message: err.Error()})
			}
			for _, p := range dest.preflight(ctx, files, md) {
				out = append(out, ui.Preflight{File: p.File, Error: p.Error, Message: p.Message})
			}
			return out
		},
		WillSend: sizeGC,
		NewPool: func(md uploader.Metadata) *uploader.Pool {
			o := opts
			o.Metadata = md
			// The screens keep what they show of each file (ui's ledger);
			// a failed file stays in the pool for r to retry.
			o.ForgetFinished, o.KeepFailed = true, true
			return uploader.New(dest.src, o)
		},
		Done: func(r *uploader.Result) {
			if r.ShareURL == "" {
				return
			}
			sharesMu.Lock()
			defer sharesMu.Unlock()
			if err := links.save(r); err != nil && saveErr == nil {
				saveErr = err
			}
			shares = append(shares, *r)
		},
		SaveMetadata: func(md uploader.Metadata) {
			_ = config.SaveLastUsed(getenv, config.LastUsed{OrgID: md.OrgID, UserID: md.UserID, TTLHours: md.TTLHours})
		},
		ReportDir: reportDir(getenv),
		Settings:  cfg.Rerun(),
	})
	// The alternate screen is gone: what happened stays on the terminal.
	out.Print(stdout, cfg.Redact)
	// The links outlive the alternate screen: in the scrollback, pipeable.
	sharesMu.Lock()
	slices.SortFunc(shares, func(a, b uploader.Result) int { return a.ID - b.ID })
	printLinks(stdout, shares)
	if saveErr != nil {
		fmt.Fprintln(stderr, "hoist: --save-links:", saveErr)
	}
	sharesMu.Unlock()
	if err != nil {
		fmt.Fprintln(stderr, "hoist:", cfg.Redact(err.Error()))
		return exitFailed
	}
	s := out.Summary
	switch {
	case out.Interrupted:
		return exitInterrupted(ctx)
	case s.Uploaded == 0 && s.Failed == 0 && s.Canceled == 0:
		return exitOK // left before sending anything
	case s.Failed > 0 || s.Canceled > 0 || s.Pending > 0:
		return exitFailed
	}
	return exitOK
}

// samePath reports whether a and b name the same file, one relative and one
// absolute as may be.
func samePath(a, b string) bool {
	abs := func(p string) string {
		if q, err := filepath.Abs(p); err == nil {
			return q
		}
		return p
	}
	return abs(a) == abs(b)
}

// reportDir is where run reports go and hoist history reads them; "" when
// there is no home to keep them in.
func reportDir(getenv env) string {
	dir, err := config.StateDir(getenv)
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "reports")
}

// metadataOf is the metadata the settings give, before any form.
func metadataOf(cfg *config.Config) uploader.Metadata {
	return uploader.Metadata{OrgID: cfg.OrgID, UserID: cfg.UserID, TTLHours: cfg.TTLHours}
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
