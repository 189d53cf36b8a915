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
	"sync"
	"syscall"

	"golang.org/x/term"

	"hoist/config"
	"hoist/headless"
	"hoist/ui"
	"hoist/uploader"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes, as the command-line contract documents them.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// env reads the environment; tests pass their own.
type env func(string) (string, bool)

func run(args []string, stdout, stderr io.Writer, getenv env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, a second one ends the process at once.
		<-ctx.Done()
		stop()
	}()

	if len(args) > 0 {
		switch args[0] {
		case "inspect":
			return runInspect(args[1:], stdout, stderr)
		case "serve":
			return runServe(ctx, args[1:], stdout, stderr, getenv)
		case "config":
			return runConfig(args[1:], stdout, stderr, getenv)
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
		fmt.Fprintln(stdout, "hoist", version)
		return nil, exitOK
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "hoist: warning:", w)
	}
	return cfg, exitOK
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
	cfg.Write(stdout)
	return exitOK
}

// upload is `hoist [flags] [PATH...]`.
func upload(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer, getenv env) int {
	tui := !cfg.NoTUI && !cfg.JSON && isTerminal(os.Stdin) && isTerminal(os.Stdout)
	if tui && (cfg.Shard != "" || cfg.RetryFailed != "" || cfg.SkipExisting) {
		fmt.Fprintln(stderr, "hoist: --shard, --skip-existing and --retry-failed are for headless runs; add --no-tui")
		return exitUsage
	}

	// Headless PATHs are checked before any store starts or any signer
	// loads credentials: a typo costs nothing. Given URLs bring their own
	// files (openDestination reads them).
	var files []uploader.File
	var warnings []string
	if !tui && cfg.URL == "" && cfg.Manifest == "" {
		if len(cfg.Paths) == 0 {
			fmt.Fprintln(stderr, "hoist: nothing to upload: give one or more PATHs (or run hoist in a terminal to pick files)")
			return exitUsage
		}
		var err error
		var skipped int
		if files, skipped, err = collectFiles(cfg.Paths); err != nil {
			fmt.Fprintln(stderr, "hoist:", err)
			return exitUsage
		}
		if skipped > 0 {
			warnings = append(warnings, fmt.Sprintf("skipping %d special %s (named pipes, sockets, devices, links to folders) inside the given folders", skipped, plural(skipped, "file", "files")))
		}
	}

	dest, err := openDestination(ctx, cfg, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "hoist:", cfg.Redact(err.Error()))
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

	md := uploader.Metadata{OrgID: cfg.OrgID, UserID: cfg.UserID, TTLHours: cfg.TTLHours}
	opts := uploader.Options{
		Concurrency: cfg.Concurrency, Retries: cfg.Retries, Token: cfg.Token, Metadata: md,
		StallTimeout: cfg.StallTimeout, LimitRate: cfg.LimitRate,
		MultipartThreshold: cfg.MultipartThreshold, PartSize: cfg.PartSize,
		SkipExisting: cfg.SkipExisting,
	}
	if dir, err := config.StateDir(getenv); err == nil {
		opts.Journal = uploader.OpenJournal(filepath.Join(dir, "journal"))
	}
	if tui {
		return runTUI(ctx, cfg, dest, opts, links, stdout, stderr, getenv)
	}

	if dest.files != nil {
		files = dest.files
	}
	if files, err = jobFiles(files, cfg, dest); err != nil {
		fmt.Fprintln(stderr, "hoist:", err)
		return exitUsage
	}
	if err := checkKeys(files, dest); err != nil {
		fmt.Fprintln(stderr, "hoist:", err)
		return exitUsage
	}
	printer := &headless.Printer{Out: stdout, Err: stderr, JSON: cfg.JSON, Redact: cfg.Redact}
	for _, w := range warnings {
		printer.Warn(w)
	}
	failed := false
	for _, p := range groupProblems(dest.preflight(files, md)) {
		if p.Error {
			failed = true
			fmt.Fprintln(stderr, "hoist:", cfg.Redact(p.File+": "+p.Message))
		} else {
			printer.Warn(p.File + ": " + p.Message)
		}
	}
	if failed {
		fmt.Fprintln(stderr, "hoist: nothing was uploaded; fix the problems above and run again")
		return exitUsage
	}

	opts.ForgetFinished = true // the printer needs events and the summary only
	pool := uploader.New(dest.src, opts)
	pool.Start(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range pool.Events() {
			printer.Event(e)
			if e.Kind == uploader.EventDone {
				if err := links.save(e.Result); err != nil {
					printer.Warn("--save-links: " + err.Error())
				}
			}
		}
	}()
	dest.files = nil
	added := pool.Feed(ctx, files)
	notAdded := len(files) - added
	files = nil
	_ = pool.Wait(ctx)
	pool.Close()
	<-done

	s := pool.Summary()
	s.Canceled += notAdded // interrupted before the pool was given them
	interrupted := ctx.Err() != nil
	printer.Summary(s, interrupted)
	if dest.store != nil && s.Uploaded > 0 && !cfg.JSON {
		fmt.Fprintf(stdout, "Files are in %s\n", dest.store.Dir())
	}
	switch {
	case interrupted:
		return exitInterrupted
	case s.Failed > 0 || s.Canceled > 0 || s.Pending > 0:
		return exitFailed
	}
	return exitOK
}

func runTUI(ctx context.Context, cfg *config.Config, dest *destination, opts uploader.Options, links *linkFile, stdout, stderr io.Writer, getenv env) int {
	md := opts.Metadata
	var remembered uploader.Metadata
	if last, err := config.LoadLastUsed(getenv); err == nil {
		// Flags, environment and the config file win; last time fills gaps.
		remembered = uploader.Metadata{OrgID: last.OrgID, UserID: last.UserID, TTLHours: last.TTLHours}
		md = mergeMetadata(md, remembered)
	}
	reportDir := ""
	if dir, err := config.StateDir(getenv); err == nil {
		reportDir = filepath.Join(dir, "reports")
	}
	var ( // the runs' pools, for the links they made
		poolsMu sync.Mutex
		pools   []*uploader.Pool
	)
	out, err := ui.Run(ctx, ui.Options{
		Paths:      cfg.Paths,
		FixedFiles: dest.files,
		Metadata:   md,
		Remembered: remembered,
		Required:   dest.required(),
		FormIntro:  dest.formIntro(),
		Target:     dest.src.Describe(),
		Expires:    dest.expires(),
		Preflight: func(files []uploader.File, md uploader.Metadata) []ui.Preflight {
			var out []ui.Preflight
			if err := checkKeys(files, dest); err != nil {
				out = append(out, ui.Preflight{Error: true, Message: err.Error()})
			}
			for _, p := range dest.preflight(files, md) {
				out = append(out, ui.Preflight{File: p.File, Error: p.Error, Message: p.Message})
			}
			return out
		},
		NewPool: func(md uploader.Metadata) *uploader.Pool {
			o := opts
			o.Metadata = md
			pool := uploader.New(dest.src, o)
			poolsMu.Lock()
			pools = append(pools, pool)
			poolsMu.Unlock()
			return pool
		},
		SaveMetadata: func(md uploader.Metadata) {
			_ = config.SaveLastUsed(getenv, config.LastUsed{OrgID: md.OrgID, UserID: md.UserID, TTLHours: md.TTLHours})
		},
		ReportDir: reportDir,
	})
	// The alternate screen is gone: what happened stays on the terminal.
	out.Print(stdout, cfg.Redact)
	poolsMu.Lock()
	for _, pool := range pools {
		// The links outlive the alternate screen: in the scrollback, pipeable.
		results := pool.Results()
		printLinks(stdout, results)
		for i := range results {
			if err := links.save(&results[i]); err != nil {
				fmt.Fprintln(stderr, "hoist: --save-links:", err)
			}
		}
	}
	poolsMu.Unlock()
	if err != nil {
		fmt.Fprintln(stderr, "hoist:", cfg.Redact(err.Error()))
		return exitFailed
	}
	s := out.Summary
	switch {
	case out.Interrupted:
		return exitInterrupted
	case s.Uploaded == 0 && s.Failed == 0 && s.Canceled == 0:
		return exitOK // left before sending anything
	case s.Failed > 0 || s.Canceled > 0 || s.Pending > 0:
		return exitFailed
	}
	return exitOK
}

func mergeMetadata(have, fill uploader.Metadata) uploader.Metadata {
	if have.OrgID == "" {
		have.OrgID = fill.OrgID
	}
	if have.UserID == "" {
		have.UserID = fill.UserID
	}
	if have.TTLHours == 0 {
		have.TTLHours = fill.TTLHours
	}
	return have
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
