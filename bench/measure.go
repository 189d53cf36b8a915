package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// measurement is one timed run.
type measurement struct {
	wall      time.Duration
	cpu       time.Duration // user + system of the tool and every child it waited for
	rssKiB    int64         // peak resident set of the tool or its largest child
	serverCPU time.Duration // versitygw's CPU during the run
	// otherCPU is what the rest of the machine used meanwhile (all busy CPU
	// less the tool's and the server's): other work sharing the cores, and
	// the hypervisor's steal. A high value marks a noisy run.
	otherCPU   time.Duration
	noisyStart bool // the machine never went idle before the run began
	// For the terminal UI, measured over the timed span only (GNU time's
	// cpu covers the picker, form and review too): runCPU is hoist's,
	// termCPU the tmux server's that draws hoist's screen, pollCPU the tmux
	// clients the bench runs to read the screen and type.
	runCPU, termCPU, pollCPU time.Duration
	// runSeconds is hoist's own time for the run, from its pool's start to
	// its summary, read from the run report: the same span headless and in
	// the terminal UI, so neither the UI's keys nor startup are in it.
	runSeconds float64
}

// readRunSeconds is the summary's seconds of the run report hoist wrote
// under the run's XDG_STATE_HOME (baseEnv), 0 when there is none.
func readRunSeconds(scratch string) float64 {
	reports, _ := filepath.Glob(filepath.Join(scratch, "home", ".local", "state", "hoist", "reports", "*.json"))
	if len(reports) != 1 {
		return 0
	}
	data, err := os.ReadFile(reports[0])
	if err != nil {
		return 0
	}
	var r struct {
		Summary struct {
			Seconds float64 `json:"seconds"`
		} `json:"summary"`
	}
	if json.Unmarshal(data, &r) != nil {
		return 0
	}
	return r.Summary.Seconds
}

// measure runs inv under GNU time, which reports peak RSS and CPU from
// wait4's rusage: for `xargs curl` that is the largest single curl's RSS
// and the CPU of all of them.
func (b *bench) measure(ctx context.Context, r *runSpec, inv invocation) (measurement, error) {
	if inv.tui {
		return b.measureTUI(ctx, r, inv)
	}
	report := filepath.Join(r.scratch, "time.txt")
	args := append([]string{b.s.timeBin, "-v", "-o", report}, inv.args...)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = inv.env
	cmd.Dir = r.scratch
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // stdout goes to /dev/null: printing is not what is measured

	serverBefore, busyBefore := b.srv.cpu(), machineBusy()
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	m := measurement{wall: wall, serverCPU: b.srv.cpu() - serverBefore}
	busy := machineBusy() - busyBefore
	if err != nil {
		return m, fmt.Errorf("%s failed (%v): %s", r.tool, err, redactQueries(lastLines(stderr.String(), 5)))
	}
	if err := parseTimeReport(report, &m); err != nil {
		return m, err
	}
	// GNU time prints CPU to the hundredth of a second; the rusage of the
	// time process, which waited for the tool, has it to the microsecond.
	m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	m.otherCPU = max(busy-m.cpu-m.serverCPU, 0)
	return m, nil
}

// waitQuiet waits, up to limit, for a second in which the machine's cores
// were at most 15% busy, so a run does not start while something else
// (another build, the last run's cleanup) still holds the CPU. It reports
// whether the machine was quiet.
func waitQuiet(ctx context.Context, limit time.Duration) bool {
	const window = 500 * time.Millisecond
	deadline := time.Now().Add(limit)
	cores := time.Duration(runtime.NumCPU())
	for {
		before := machineBusy()
		select {
		case <-ctx.Done():
			return false
		case <-time.After(window):
		}
		if busy := machineBusy() - before; busy <= window*cores*15/100 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// machineBusy is the CPU time every core has spent busy since boot
// (including steal), from /proc/stat.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// parseTimeReport reads GNU time -v's CPU and peak RSS.
func parseTimeReport(path string, m *measurement) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading GNU time's report: %w", err)
	}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		name, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), ": ")
		if !ok {
			continue
		}
		switch name {
		case "User time (seconds)", "System time (seconds)":
			s, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return fmt.Errorf("GNU time's %q: %w", name, err)
			}
			m.cpu += time.Duration(s * float64(time.Second))
			found++
		case "Maximum resident set size (kbytes)":
			kib, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return fmt.Errorf("GNU time's %q: %w", name, err)
			}
			m.rssKiB = kib
			found++
		}
	}
	if found != 3 {
		return fmt.Errorf("GNU time's report %s lacks CPU or RSS lines: %s", path, redactQueries(lastLines(string(text), 5)))
	}
	return sc.Err()
}

// queryPart matches a URL's query string, where a signature lives.
var queryPart = regexp.MustCompile(`\?[^\s"']*`)

// redactQueries keeps signatures out of anything printed.
func redactQueries(s string) string { return queryPart.ReplaceAllString(s, "?…") }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
