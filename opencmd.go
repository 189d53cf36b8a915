package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"hoist/fileset"
	"hoist/konfidant"
)

const openUsage = "Usage: hoist open LINK|- [-o DIR] [--force]"

// runOpen is `hoist open LINK`: a Konfidant share link opened as its
// recipient, once, decrypted while it streams into DIR. No API key is sent.
// "-" reads the link from standard input, keeping it out of shell history.
func runOpen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("open", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.StringP("output", "o", ".", "folder to save the file in")
	force := fs.Bool("force", false, "replace a file of the same name")
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "hoist open: %v\n%s\n", err, openUsage)
		return exitUsage
	}
	if *help {
		fmt.Fprintln(stdout, openUsage)
		fmt.Fprintln(stdout, "Downloads a Konfidant share once and decrypts it into DIR (default .) under the name it was shared with.")
		fmt.Fprintln(stdout, "An existing file is kept (the share is saved beside it) unless --force.")
		fmt.Fprintln(stdout, "Exit: 0 saved, 1 the download failed or did not authenticate, 2 usage or a malformed link.")
		return exitOK
	}
	if len(fs.Args()) != 1 {
		fmt.Fprintf(stderr, "hoist open: give one share link (or - to read it from standard input)\n%s\n", openUsage)
		return exitUsage
	}
	link := fs.Args()[0]
	if link == "-" {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintln(stderr, "hoist open: reading the link from standard input:", err)
			return exitUsage
		}
		link = strings.TrimSpace(line)
	}
	if _, err := konfidant.ParseLink(link); err != nil {
		fmt.Fprintln(stderr, "hoist open:", err)
		return exitUsage
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		problem := "it is not a directory"
		if err != nil {
			problem = fileset.Problem(err)
		}
		fmt.Fprintf(stderr, "hoist open: cannot save into %s: %s; the link was not used\n", *dir, problem)
		return exitUsage
	}
	got, err := konfidant.Open(ctx, nil, link, *dir, *force)
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(stderr, "hoist open: interrupted; nothing was kept")
		return exitInterrupted(ctx)
	case err != nil:
		fmt.Fprintln(stderr, "hoist open:", err)
		return exitFailed
	}
	note := ""
	if got.Renamed {
		note = "; a file by its name was already there and was kept"
	}
	fmt.Fprintf(stdout, "✓ %s (%s)%s\n", got.Path, humanize.IBytes(uint64(got.Bytes)), note)
	return exitOK
}
