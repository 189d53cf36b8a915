package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hoist/internal/konfidantemu"
)

// scenario is one workload every tool in it uploads, once per round.
type scenario struct {
	name        string
	title       string
	files       int
	size        int64 // bytes per file
	bigFile     bool  // size comes from -big
	concurrency int   // files (or parts) in flight
	multipart   bool  // the big file goes in parts of partSize
	konfidant   bool  // hoist shares through the Konfidant emulator (konfidant.go)
	// discard sends to a server in the bench process that reads every
	// body and keeps nothing: the client's own cost, with no store behind.
	discard bool
	// sparse makes the files holes (os.Truncate, no byte written): a file
	// bigger than tmpfs can hold, read at memory speed.
	sparse bool
	// bigDefault is the big file's size when -big is not given; 0 means -big's default.
	bigDefault int64
	maxRSS     float64 // hoist's peak RSS target in MiB; 0 means maxRSSMiB
	maxCPU     float64 // hoist's CPU s/GiB over curl's; 0 means maxCPUPerGiBRate
	tools      []string
	targets    []target
}

// target is one goal from the issue: hoist's wall time over the best of
// peers' must be at most max.
type target struct {
	hoist string // the hoist tool held to it; "" means hoist
	peers []string
	max   float64
}

const (
	partSize           = 16 << 20
	multipartThreshold = 64 << 20
)

var scenarios = []scenario{
	{
		name: "single", title: "one big file, single PUT", files: 1, bigFile: true, concurrency: 1,
		tools:   []string{"hoist", "curl"},
		targets: []target{{peers: []string{"curl"}, max: 1.05}},
	},
	{
		name: "multipart", title: "one big file, multipart, 16 MiB parts, 4 in parallel", files: 1, bigFile: true,
		concurrency: 4, multipart: true,
		tools:   []string{"hoist", "rclone", "aws"},
		targets: []target{{peers: []string{"rclone", "aws"}, max: 0.9}},
	},
	{
		name: "konfidant", title: "one big file shared through the Konfidant emulator, encrypted vs plain flow",
		files: 1, bigFile: true, concurrency: 1, konfidant: true,
		tools:   []string{"hoist", "hoist-plain", "curl"},
		targets: []target{{peers: []string{"hoist-plain"}, max: 1.15}},
	},
	{
		name: "many4m", title: "256 files × 4 MiB, concurrency 4", files: 256, size: 4 << 20, concurrency: 4,
		tools: []string{"hoist", "curl", "rclone", "aws", "hoist-s3"},
		targets: []target{
			{peers: []string{"curl"}, max: 1.0},
			{peers: []string{"rclone", "aws"}, max: 0.9},
		},
	},
	{
		name: "many4k", title: "2,000 files × 4 KiB, concurrency 4", files: 2000, size: 4 << 10, concurrency: 4,
		tools: []string{"hoist", "curl", "rclone", "aws", "hoist-s3", "minio-go", "s3manager", "transfermanager", "mc"},
		targets: []target{
			{peers: []string{"curl", "rclone", "aws"}, max: 1.0},
			{hoist: "hoist-s3", peers: []string{"minio-go"}, max: 1.0},
		},
	},
	{
		name: "many1k", title: "100,000 files × 1 KiB, concurrency 16", files: 100000, size: 1 << 10, concurrency: 16,
		maxRSS: 64,
		tools:  []string{"hoist", "hoist-s3", "minio-go", "s3manager", "transfermanager", "mc", "rclone"},
		targets: []target{
			{peers: []string{"minio-go"}, max: 1.0},
			{hoist: "hoist-s3", peers: []string{"minio-go"}, max: 1.0},
		},
	},
	{
		name: "discard", title: "one big file, single PUT, to a server that discards it (the client's cost)", files: 1, bigFile: true,
		concurrency: 1, discard: true, maxCPU: 1.05,
		tools:   []string{"hoist", "curl", "curl-crc"},
		targets: []target{{peers: []string{"curl"}, max: 1.05}, {peers: []string{"curl-crc"}, max: 1.05}},
	},
	{
		// Issue 15: memory stays flat however big the file. No store here
		// could keep 20 GiB on tmpfs (and versitygw would keep it twice,
		// parts then object), so the parts go to the discarding server.
		name: "multipart-discard", title: "one sparse big file, --s3 multipart, 16 MiB parts, 4 in parallel, to a server that discards it (peak RSS)",
		files: 1, bigFile: true, bigDefault: 20 << 30, sparse: true, concurrency: 4, multipart: true, discard: true,
		maxRSS: 28,
		tools:  []string{"hoist-s3"},
	},
}

func scenarioNames() []string {
	var out []string
	for _, s := range scenarios {
		out = append(out, s.name)
	}
	return out
}

func scenarioByName(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// bench holds what every run shares.
type bench struct {
	s       settings
	work    string
	srv     *server
	emu     *konfidantemu.Server // started by the konfidant scenario
	discard *discardServer
	out     interface{ Write([]byte) (int, error) }
}

// runScenario makes the scenario's files and runs its tools round by round,
// rotating their order each round so no tool always goes first (cold) or
// last (after the server has warmed up, or filled up).
func (b *bench) runScenario(ctx context.Context, sc scenario) (*scenarioResult, error) {
	tools := sc.tools
	if len(b.s.tools) > 0 {
		tools = slices.DeleteFunc(slices.Clone(tools), func(t string) bool { return !slices.Contains(b.s.tools, t) })
	}
	// -tui adds the terminal UI beside hoist; -tools hoist-tui runs it alone.
	if b.s.tui && slices.Contains(tools, "hoist") || slices.Contains(b.s.tools, "hoist-tui") && slices.Contains(sc.tools, "hoist") {
		tools = append(tools, "hoist-tui")
	}
	// Each variant runs as each of hoist's modes in the run: hoist:NAME
	// headless, hoist-s3:NAME with credentials, hoist-tui:NAME in the
	// terminal UI.
	for _, mode := range []string{"hoist", "hoist-s3", "hoist-tui"} {
		if slices.Contains(tools, mode) {
			for _, name := range slices.Sorted(maps.Keys(b.s.variants)) {
				tools = append(tools, mode+":"+name)
			}
		}
	}
	if len(tools) == 0 {
		return nil, fmt.Errorf("no tools to run")
	}
	dir := filepath.Join(b.work, "files", sc.name)
	fmt.Fprintf(b.out, "\n== %s: %s (%d × %s)\n", sc.name, sc.title, sc.files, formatBytes(sc.size))
	create := makeFiles
	if sc.sparse {
		create = makeSparseFiles
	}
	files, err := create(dir, sc.files, sc.size)
	if err != nil {
		return nil, fmt.Errorf("making test files: %w", err)
	}
	defer os.RemoveAll(dir)

	res := &scenarioResult{sc: sc, tools: tools, runs: map[string][]measurement{}}
	if b.s.warmup {
		// One untimed run of each tool first: the server's first big
		// upload cost it almost twice the CPU of later ones, and every
		// tool's binary and the test files get into the page cache.
		for _, tool := range tools {
			if _, err := b.runOne(ctx, sc, tool, -1, dir, files); err != nil {
				return nil, fmt.Errorf("warm-up, %s: %w", tool, err)
			}
		}
		fmt.Fprintf(b.out, "warm-up done (%s)\n", strings.Join(tools, ", "))
	}
	for round := range b.s.rounds {
		order := rotate(tools, round)
		for _, tool := range order {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			m, err := b.runOne(ctx, sc, tool, round, dir, files)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", round+1, tool, err)
			}
			note := ""
			if m.runSeconds > 0 {
				note = fmt.Sprintf("  (run report %.2fs)", m.runSeconds)
			}
			if m.runCPU > 0 {
				note += fmt.Sprintf("  (during the upload: hoist %.2fs, tmux %.2fs, screen reads %.2fs CPU)", m.runCPU.Seconds(), m.termCPU.Seconds(), m.pollCPU.Seconds())
			}
			if m.noisyStart {
				note += "  (the machine was busy at the start)"
			}
			fmt.Fprintf(b.out, "round %d  %-11s %8.2fs  %6.1f MiB RSS  %6.3fs CPU  (server %5.2fs, other %5.2fs CPU)%s\n",
				round+1, tool, m.wall.Seconds(), float64(m.rssKiB)/1024, m.cpu.Seconds(), m.serverCPU.Seconds(), m.otherCPU.Seconds(), note)
			res.runs[tool] = append(res.runs[tool], m)
		}
	}
	return res, nil
}

func rotate(s []string, n int) []string {
	n %= len(s)
	return append(slices.Clone(s[n:]), s[:n]...)
}

// makeFiles writes n files of size random bytes (incompressible, so no
// layer can take a shortcut) and returns their paths.
func makeFiles(dir string, n int, size int64) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var seed [32]byte
	copy(seed[:], "hoist bench: the same bytes each run")
	rng := rand.NewChaCha8(seed)
	buf := make([]byte, min(size, 4<<20))
	var paths []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("f%04d.bin", i))
		f, err := os.Create(p)
		if err != nil {
			return nil, err
		}
		for left := size; left > 0; {
			chunk := buf[:min(int64(len(buf)), left)]
			_, _ = rng.Read(chunk)
			if _, err := f.Write(chunk); err != nil {
				f.Close()
				return nil, err
			}
			left -= int64(len(chunk))
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// makeSparseFiles makes n files of size bytes that are all hole: nothing
// is written, so they take no room, and every byte reads as zero.
func makeSparseFiles(dir string, n int, size int64) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("f%04d.bin", i))
		f, err := os.Create(p)
		if err != nil {
			return nil, err
		}
		err = f.Truncate(size)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// runOne prepares one tool's run (URLs, manifest, config: not timed), times
// it, checks every object arrived whole, and clears them.
func (b *bench) runOne(ctx context.Context, sc scenario, tool string, round int, dir string, files []string) (measurement, error) {
	prefix := fmt.Sprintf("%s/r%d-%s", sc.name, round+1, strings.ReplaceAll(tool, ":", "-"))
	scratch := filepath.Join(b.work, "runs", prefix)
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(scratch)
	r := &runSpec{sc: sc, tool: tool, prefix: prefix, dir: dir, files: files, scratch: scratch, b: b}
	inv, err := r.invocation()
	if err != nil {
		return measurement{}, err
	}
	quiet := b.s.quietWait <= 0 || waitQuiet(ctx, b.s.quietWait)
	m, err := b.measure(ctx, r, inv)
	m.noisyStart = !quiet
	m.runSeconds = readRunSeconds(scratch)
	if err != nil {
		return m, err
	}
	if sc.discard {
		if unknown := b.discard.unansweredRequests(); len(unknown) > 0 {
			return m, fmt.Errorf("the discarding server had no answer (501) for %s", strings.Join(unknown, "; "))
		}
		n, bytes := b.discard.received(prefix)
		if want := int64(sc.files) * sc.size; n != sc.files || bytes != want {
			return m, fmt.Errorf("the discarding server stored %d objects, %d bytes under %s; want %d, %d bytes", n, bytes, prefix, sc.files, want)
		}
		return m, nil
	}
	n, bytes, err := b.srv.objects(prefix)
	if err != nil {
		return m, fmt.Errorf("checking what arrived: %w", err)
	}
	if err := sc.arrived(tool, n, bytes); err != nil {
		return m, fmt.Errorf("under %s: %w", prefix, err)
	}
	if err := b.srv.clear(prefix); err != nil {
		return m, err
	}
	// Let the server settle (and the kernel reclaim) between runs.
	time.Sleep(300 * time.Millisecond)
	return m, nil
}
