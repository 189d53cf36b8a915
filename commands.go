package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"hoist/config"
	"hoist/fileset"
	"hoist/inspect"
	"hoist/internal/konfidantemu"
	"hoist/uploader"
)

// runInspect is `hoist inspect URL [FILE]`: what a presigned URL says and what
// would go wrong sending FILE to it. "-" reads the URL from standard input, so
// it stays out of shell history and the process list. Settings (the metadata
// above all) come from flags, HOIST_* and the config file exactly as for an
// upload, so inspect finds what the upload would find.
func runInspect(args []string, stdout, stderr io.Writer, getenv env) int {
	const usage = "Usage: hoist inspect [--org-id ID --user-id ID --ttl-hours N] URL|- [FILE]"
	cfg, err := config.LoadSettings(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "hoist inspect: %v\n%s\n", err, usage)
		return exitUsage
	}
	if cfg.ShowHelp {
		fmt.Fprintln(stdout, usage)
		fmt.Fprintln(stdout, "Explains a presigned URL: host, key, expiry, signed headers, pinned checksum,")
		fmt.Fprintln(stdout, "problems found.")
		fmt.Fprintln(stdout, "With FILE it also checks that file against the URL, with the metadata an upload")
		fmt.Fprintln(stdout, "would send: flags, then HOIST_* variables, then the config file.")
		fmt.Fprintln(stdout, "Exit: 0 no problem that stops an upload, 1 such a problem, 2 usage.")
		return exitOK
	}
	rest := cfg.Paths
	if len(rest) < 1 || len(rest) > 2 {
		fmt.Fprintln(stderr, "hoist inspect: give one URL (or - to read it from standard input) and at most one FILE")
		return exitUsage
	}
	raw := rest[0]
	if raw == "-" {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintln(stderr, "hoist inspect: reading the URL from standard input:", err)
			return exitUsage
		}
		raw = strings.TrimSpace(line)
	}
	r, err := inspect.Parse(raw)
	if err != nil {
		fmt.Fprintln(stderr, "hoist inspect:", err)
		return exitUsage
	}
	now := time.Now()
	plan := inspect.Plan{Now: now, MaxSinglePut: inspect.S3MaxSinglePut,
		Metadata: metadataOf(cfg).Values()}
	if len(rest) == 2 {
		var files fileset.List
		if err := givenFile(&files, rest[1]); err != nil {
			fmt.Fprintln(stderr, "hoist inspect:", err)
			return exitUsage
		}
		f := files.At(0)
		plan.FileName, plan.HasFile, plan.FileSize = f.Name, true, f.Size
		if r.PinnedCRC32 != "" && r.PinnedCRC32 != inspect.EmptyCRC32 {
			if crc, err := fileCRC32(context.Background(), f.Path); err == nil {
				plan.CRC32, plan.HasCRC32 = crc, true
			}
		}
	}
	problems := r.Check(plan)
	if len(rest) == 1 {
		// Without a file or metadata, "hoist lacks a value" is not a problem
		// with the URL; say what it needs in the signed headers line instead.
		problems = withoutMissingValues(problems)
	}
	inspect.Write(stdout, r, problems, now)
	for _, p := range problems {
		if p.Severity == inspect.Error {
			return exitFailed
		}
	}
	return exitOK
}

func withoutMissingValues(ps []inspect.Problem) []inspect.Problem {
	out := ps[:0:0]
	for _, p := range ps {
		if p.Code == inspect.CodeMissingMetadata {
			continue
		}
		out = append(out, p)
	}
	return out
}

// runServe is `hoist serve`: the embedded local store on its own, with a
// sample URL to try hoist --url or curl against.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("local-dir", "", "folder the store keeps files in (default $XDG_DATA_HOME/hoist/local)")
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	org := fs.String("org-id", "example-org", "organization id the sample URL signs")
	user := fs.String("user-id", "example-user", "user id the sample URL signs")
	ttl := fs.Int("ttl-hours", 48, "TTL hours the sample URL signs")
	konfidant := fs.Bool("konfidant", false, "run the Konfidant API emulator over the store instead")
	apiRate := fs.Int("api-rate", konfidantemu.DefaultRate, "with --konfidant: API requests per minute per key")
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil || len(fs.Args()) > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", fs.Args()[0])
		}
		fmt.Fprintf(stderr, "hoist serve: %v\nUsage: hoist serve [--local-dir DIR] [--addr 127.0.0.1:PORT]\n", err)
		return exitUsage
	}
	if *help {
		fmt.Fprintln(stdout, "Usage: hoist serve [--local-dir DIR] [--addr 127.0.0.1:PORT]")
		fmt.Fprintln(stdout, "                   [--org-id ID --user-id ID --ttl-hours N]")
		fmt.Fprintln(stdout, "       hoist serve --konfidant [--local-dir DIR] [--addr 127.0.0.1:PORT]")
		fmt.Fprintln(stdout, "                   [--api-rate N]")
		fmt.Fprintln(stdout, "Runs the embedded local store alone and prints a sample presigned URL; with")
		fmt.Fprintln(stdout, "--konfidant, a Konfidant API emulator over it on --addr, with a throwaway API")
		fmt.Fprintln(stdout, "key for this run.")
		return exitOK
	}
	if *dir == "" {
		if v, ok := getenv("HOIST_LOCAL_DIR"); ok && v != "" {
			*dir = v
		} else if d, err := config.DefaultLocalDir(getenv); err == nil {
			*dir = d
		} else {
			fmt.Fprintln(stderr, "hoist serve: no folder for the store: pass --local-dir DIR")
			return exitUsage
		}
	}
	if *konfidant {
		return serveKonfidant(ctx, *dir, *addr, *apiRate, stdout, stderr)
	}
	st, src, err := openLocalStore(ctx, *dir, *addr)
	if err != nil {
		fmt.Fprintln(stderr, "hoist serve:", err)
		return exitUsage
	}
	defer st.Close()
	md := uploader.Metadata{OrgID: *org, UserID: *user, TTLHours: *ttl}
	tg, err := src.PresignSample(ctx, "sample.txt", md)
	if err != nil {
		fmt.Fprintln(stderr, "hoist serve:", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "hoist local store on %s, bucket %q, files in %s\n", st.Endpoint(), st.Bucket(), st.Dir())
	fmt.Fprintf(stdout, "Sample upload URL for key sample.txt, valid until %s (it signs the local store's throwaway key, nothing else):\n\n  %s\n\n",
		tg.Expires.Local().Format("2006-01-02 15:04:05 MST"), tg.URL)
	fmt.Fprintf(stdout, "Try:\n  hoist --no-tui --url '%s' --org-id %s --user-id %s --ttl-hours %d FILE\n", tg.URL, *org, *user, *ttl)
	var hs []string
	for name := range tg.Header {
		hs = append(hs, name)
	}
	sort.Strings(hs)
	fmt.Fprint(stdout, "  curl -T FILE")
	for _, name := range hs {
		fmt.Fprintf(stdout, " -H '%s: %s'", strings.ToLower(name), tg.Header.Get(name))
	}
	fmt.Fprintf(stdout, " '%s'\n\nThe file lands at %s. Ctrl+C stops the store.\n", tg.URL, st.PathFor("sample.txt"))
	<-ctx.Done()
	return exitOK
}

func fileCRC32(ctx context.Context, path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return uploader.CRC32(ctx, f)
}
