// Command bench times hoist against curl, rclone and awscli uploading the same
// files to one versitygw on 127.0.0.1, in one run: tools alternate within each
// round, the order rotates between rounds, and the table shows medians, the
// ratio of hoist's wall time to each peer's, peak RSS and CPU seconds.
//
//	go run ./bench -rounds 3
//
// It is a main package of its own so `go test ./...` only builds it and tests
// its in-process discarding server: nothing here starts versitygw unless it
// is run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// settings are the command line.
type settings struct {
	rounds    int
	scenarios []string
	tools     []string
	dir       string
	big       int64
	bigSet    bool    // -big was given: it overrides a scenario's own default
	scale     float64 // fraction of the many-file scenarios' files, for a quick run
	keep      bool
	warmup    bool
	tui       bool
	markdown  string
	quietWait time.Duration

	args       []string // as given, for the report's command to rerun
	builtHoist bool     // hoist was built from this checkout, not given with -hoist

	hoist, versitygw, curl, rclone, aws, timeBin string
	mc                                           string // MinIO's client
	peers                                        string // bench/peers, built when a library tool runs
	// variants are other hoist builds run beside this one, as tools named
	// hoist:NAME: the before and after of an engine change, in one run.
	variants map[string]string

	serveDiscard string // -serve-discard: the file its URL goes to
}

func parseSettings(args []string) (settings, error) {
	s := settings{args: args}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&s.rounds, "rounds", 3, "rounds; each runs every tool once per scenario, in a rotated order")
	scen := fs.String("scenarios", strings.Join(scenarioNames(), ","), "scenarios to run, comma-separated")
	tools := fs.String("tools", "", "tools to run, comma-separated (default: every tool a scenario names)")
	fs.StringVar(&s.dir, "dir", defaultDir(), "work folder for test files and the server's data (tmpfs keeps the disk out of the numbers)")
	big := fs.String("big", "1GiB", "size of the big file in the single, multipart, konfidant and discard scenarios (multipart-discard: 20GiB unless given)")
	fs.Float64Var(&s.scale, "scale", 1, "run the many-file scenarios with this fraction of their files (0.02: a quick look)")
	fs.BoolVar(&s.keep, "keep", false, "keep the work folder")
	fs.BoolVar(&s.warmup, "warmup", true, "run every tool once, untimed, before the first round")
	fs.BoolVar(&s.tui, "tui", false, "also run hoist's terminal UI in tmux (peak RSS and CPU; its wall time includes driving the keys)")
	fs.StringVar(&s.markdown, "markdown", "", "also write the tables to this file")
	fs.DurationVar(&s.quietWait, "quiet-wait", 30*time.Second, "before each run, wait up to this long for the machine to be idle (0: do not wait)")
	fs.StringVar(&s.hoist, "hoist", "", "hoist binary (default: build this checkout)")
	fs.StringVar(&s.versitygw, "versitygw", "", "versitygw binary (default: $HOIST_VERSITYGW, PATH, then GOPATH/bin)")
	fs.StringVar(&s.curl, "curl", "curl", "curl binary")
	fs.StringVar(&s.rclone, "rclone", "/usr/bin/rclone", "rclone binary (the Debian package)")
	// A pyenv shim for aws-cli v1 may come first on PATH; the Debian
	// package's v2 is the one measured.
	fs.StringVar(&s.aws, "aws", "/usr/bin/aws", "aws binary (the Debian package)")
	fs.StringVar(&s.timeBin, "time", "/usr/bin/time", "GNU time, for peak RSS and CPU")
	fs.StringVar(&s.mc, "mc", "mc", "MinIO client binary (go install github.com/minio/mc@latest)")
	fs.StringVar(&s.serveDiscard, "serve-discard", "", "only run the discarding server until interrupted, writing a URL to PUT a file to into this file (strace or perf one tool in its own process)")
	variants := fs.String("variants", "", "other hoist binaries to run beside this one, NAME=PATH,… (tools hoist:NAME, and hoist-s3:NAME and hoist-tui:NAME beside those)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if s.rounds < 1 {
		return s, errors.New("-rounds must be at least 1")
	}
	n, err := parseSize(*big)
	if err != nil {
		return s, fmt.Errorf("-big: %w", err)
	}
	s.big = n
	fs.Visit(func(f *flag.Flag) { s.bigSet = s.bigSet || f.Name == "big" })
	for _, name := range splitList(*scen) {
		if _, ok := scenarioByName(name); !ok {
			return s, fmt.Errorf("-scenarios: no scenario %q; have %s", name, strings.Join(scenarioNames(), ", "))
		}
		s.scenarios = append(s.scenarios, name)
	}
	s.variants = map[string]string{}
	for _, v := range splitList(*variants) {
		name, path, ok := strings.Cut(v, "=")
		if !ok || name == "" || path == "" {
			return s, fmt.Errorf("-variants: %q is not NAME=PATH", v)
		}
		s.variants[name] = path
	}
	s.tools = splitList(*tools)
	for _, t := range s.tools {
		if !slices.Contains(toolNames(), t) && !strings.HasPrefix(t, "hoist:") && !strings.HasPrefix(t, "hoist-s3:") && !strings.HasPrefix(t, "hoist-tui:") {
			return s, fmt.Errorf("-tools: no tool %q; have %s", t, strings.Join(toolNames(), ", "))
		}
	}
	return s, nil
}

func defaultDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	s, err := parseSettings(args)
	if err != nil {
		return err
	}
	if s.serveDiscard != "" {
		return serveDiscard(ctx, s.serveDiscard)
	}
	work, err := os.MkdirTemp(s.dir, "hoist-bench-")
	if err != nil {
		return err
	}
	if s.keep {
		fmt.Fprintln(stdout, "work folder:", work)
	} else {
		defer os.RemoveAll(work)
	}

	if err := findBinaries(&s, work); err != nil {
		return err
	}
	machine := describeMachine(s)
	fmt.Fprint(stdout, machine)

	srv, err := startServer(ctx, s.versitygw, filepath.Join(work, "server"))
	if err != nil {
		return err
	}
	defer srv.stop()

	discard, err := startDiscardServer()
	if err != nil {
		return err
	}
	defer discard.close()
	discard.echoCRC = true // measure the client, not the server's hashing
	b := &bench{s: s, work: work, srv: srv, discard: discard, out: stdout}
	defer func() {
		if b.emu != nil {
			_ = b.emu.Close()
		}
	}()
	var results []*scenarioResult
	for _, name := range s.scenarios {
		sc, _ := scenarioByName(name)
		if sc.bigFile {
			sc.size = s.big
			if sc.bigDefault > 0 && !s.bigSet {
				sc.size = sc.bigDefault
			}
		} else if s.scale > 0 && s.scale < 1 {
			sc.files = max(1, int(float64(sc.files)*s.scale))
		}
		r, err := b.runScenario(ctx, sc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		results = append(results, r)
		fmt.Fprintln(stdout)
		fmt.Fprint(stdout, r.table())
	}
	report := machine + "\n" + renderAll(results, s)
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, renderTargets(results))
	if s.markdown != "" {
		if err := os.WriteFile(s.markdown, []byte(report+"\n"+renderTargets(results)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// findBinaries builds hoist unless given and checks every tool is there.
func findBinaries(s *settings, work string) error {
	if s.hoist == "" {
		s.builtHoist = true
		s.hoist = filepath.Join(work, "hoist")
		cmd := exec.Command("go", "build", "-o", s.hoist, ".")
		cmd.Dir = repoRoot()
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building hoist in %s: %w", cmd.Dir, err)
		}
	}
	if s.versitygw == "" {
		s.versitygw = findVersitygw()
		if s.versitygw == "" {
			return errors.New("versitygw not found: install it with `make deps`, or pass -versitygw PATH")
		}
	}
	for tool, bin := range map[string]*string{"curl": &s.curl, "rclone": &s.rclone, "aws": &s.aws, "time": &s.timeBin} {
		if tool != "time" && !s.runs(tool) && !(tool == "curl" && s.runs("curl-crc")) {
			continue
		}
		p, err := exec.LookPath(*bin)
		if err != nil {
			return fmt.Errorf("%s not found: install the Debian packages curl, rclone, awscli and time (apt-get install -y curl rclone awscli time)", *bin)
		}
		*bin = p
	}
	if s.runs("mc") {
		p, err := exec.LookPath(s.mc)
		if err != nil {
			return fmt.Errorf("%s not found: install MinIO's client (go install github.com/minio/mc@latest), pass -mc PATH, or leave it out with -tools", s.mc)
		}
		s.mc = p
	}
	if s.runs("minio-go") || s.runs("s3manager") || s.runs("transfermanager") {
		s.peers = filepath.Join(work, "peers")
		cmd := exec.Command("go", "build", "-o", s.peers, ".")
		cmd.Dir = filepath.Join(repoRoot(), "bench", "peers")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building the library peers in %s: %w", cmd.Dir, err)
		}
	}
	return nil
}

// runs reports whether tool is in any scenario of the run.
func (s *settings) runs(tool string) bool {
	if len(s.tools) > 0 && !slices.Contains(s.tools, tool) {
		return false
	}
	for _, name := range s.scenarios {
		if sc, _ := scenarioByName(name); slices.Contains(sc.tools, tool) {
			return true
		}
	}
	return false
}

// repoRoot is the module's folder: the working directory when run from the
// checkout as the README says, else the folder above this file's package.
func repoRoot() string {
	if _, err := os.Stat("go.mod"); err == nil {
		return "."
	}
	if _, err := os.Stat("../go.mod"); err == nil {
		return ".."
	}
	return "."
}

func findVersitygw() string {
	if p := os.Getenv("HOIST_VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	for _, gp := range filepath.SplitList(strings.TrimSpace(string(out))) {
		p := filepath.Join(gp, "bin", "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}
