package main

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scenarioResult is every run of one scenario, by tool.
type scenarioResult struct {
	sc    scenario
	tools []string
	runs  map[string][]measurement
}

// Limits from the issue that hold in every scenario.
const (
	maxRSSMiB        = 48
	maxCPUPerGiBRate = 1.3 // hoist's CPU seconds per GiB over curl's
)

func (r *scenarioResult) wall(tool string) time.Duration {
	return median(r.runs[tool], func(m measurement) time.Duration { return m.wall })
}

func (r *scenarioResult) cpu(tool string) time.Duration {
	return median(r.runs[tool], func(m measurement) time.Duration { return m.cpu })
}

func (r *scenarioResult) peakRSS(tool string) int64 {
	var peak int64
	for _, m := range r.runs[tool] {
		peak = max(peak, m.rssKiB)
	}
	return peak
}

func (r *scenarioResult) gib() float64 {
	return float64(int64(r.sc.files)*r.sc.size) / (1 << 30)
}

// cpuPerGiB is the median CPU seconds per GiB sent.
func (r *scenarioResult) cpuPerGiB(tool string) float64 {
	return r.cpu(tool).Seconds() / r.gib()
}

func median(ms []measurement, f func(measurement) time.Duration) time.Duration {
	if len(ms) == 0 {
		return 0
	}
	v := make([]time.Duration, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// table is one scenario as Markdown: medians over the rounds, the spread,
// hoist's wall time over each tool's, and the resources used.
func (r *scenarioResult) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s — %s (%d × %s, %d rounds)\n\n", r.sc.name, r.sc.title, r.sc.files, formatBytes(r.sc.size), len(r.runs[r.tools[0]]))
	b.WriteString("| tool | wall (median) | min–max | MiB/s | hoist ÷ tool | peak RSS | CPU (median) | CPU s/GiB | server CPU | other CPU |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	hoist := r.wall("hoist")
	for _, t := range r.tools {
		ms := r.runs[t]
		if len(ms) == 0 {
			continue
		}
		w := r.wall(t)
		lo, hi := ms[0].wall, ms[0].wall
		for _, m := range ms {
			lo, hi = min(lo, m.wall), max(hi, m.wall)
		}
		ratio := "—"
		if hoist > 0 && t != "hoist" {
			ratio = fmt.Sprintf("%.2f", hoist.Seconds()/w.Seconds())
		}
		server := median(ms, func(m measurement) time.Duration { return m.serverCPU })
		other := median(ms, func(m measurement) time.Duration { return m.otherCPU })
		fmt.Fprintf(&b, "| %s | %.2f s | %.2f–%.2f | %.0f | %s | %.1f MiB | %.3f s | %.3f | %.2f s | %.2f s |\n",
			t, w.Seconds(), lo.Seconds(), hi.Seconds(), r.gib()*1024/w.Seconds(), ratio,
			float64(r.peakRSS(t))/1024, r.cpu(t).Seconds(), r.cpuPerGiB(t), server.Seconds(), other.Seconds())
	}
	if r.sc.name == "many4k" || r.sc.name == "many4m" {
		b.WriteString("\nhoist-s3 is hoist in credentials mode (--s3): it hashes each file for its signed CRC32 header and presigns each URL itself.\n")
	}
	return b.String()
}

func renderAll(results []*scenarioResult, s settings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rerun: `%s`\n", strings.Join(append([]string{"go run ./bench"}, s.args...), " "))
	for _, r := range results {
		b.WriteString("\n")
		b.WriteString(r.table())
	}
	return b.String()
}

// renderTargets checks the targets against the medians.
func renderTargets(results []*scenarioResult) string {
	var b strings.Builder
	b.WriteString("### Targets\n\n| scenario | target | measured | |\n|---|---|---:|---|\n")
	row := func(scen, what, measured string, ok bool) {
		mark := "met"
		if !ok {
			mark = "**missed**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", scen, what, measured, mark)
	}
	for _, r := range results {
		if r.wall("hoist") == 0 && r.wall("hoist-s3") == 0 {
			continue
		}
		for _, t := range r.sc.targets {
			name := cmp.Or(t.hoist, "hoist")
			hoist := r.wall(name)
			if hoist == 0 {
				continue
			}
			best, bestName := time.Duration(0), ""
			for _, p := range t.peers {
				if w := r.wall(p); w > 0 && (best == 0 || w < best) {
					best, bestName = w, p
				}
			}
			if best == 0 {
				continue
			}
			ratio := hoist.Seconds() / best.Seconds()
			row(r.sc.name, fmt.Sprintf("%s wall ≤ %.2f× best of %s", name, t.max, strings.Join(t.peers, "/")),
				fmt.Sprintf("%.2f× (%s)", ratio, bestName), ratio <= t.max)
		}
		for _, t := range r.tools {
			if !strings.HasPrefix(t, "hoist") {
				continue
			}
			rss, limit := float64(r.peakRSS(t))/1024, cmp.Or(r.sc.maxRSS, maxRSSMiB)
			row(r.sc.name, fmt.Sprintf("%s peak RSS ≤ %.0f MiB", t, limit), fmt.Sprintf("%.1f MiB", rss), rss <= limit)
		}
		for _, peer := range []string{"curl", "curl-crc"} {
			if c := r.cpuPerGiB(peer); c > 0 && r.sc.size >= 1<<20 {
				ratio, limit := r.cpuPerGiB("hoist")/c, cmp.Or(r.sc.maxCPU, maxCPUPerGiBRate)
				row(r.sc.name, fmt.Sprintf("CPU s/GiB ≤ %.2f× %s's", limit, peer),
					fmt.Sprintf("%.2f× (%.2f vs %.2f)", ratio, r.cpuPerGiB("hoist"), c), ratio <= limit)
			}
		}
	}
	return b.String()
}

// describeMachine says what the numbers were measured on.
func describeMachine(s settings) string {
	var b strings.Builder
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores (server and client share them)\n", cpuModel(), runtime.NumCPU())
	fmt.Fprintf(&b, "- memory: %s\n", memTotal())
	fmt.Fprintf(&b, "- kernel: %s; %s\n", firstLine(exec.Command("uname", "-r")), runtime.Version())
	fmt.Fprintf(&b, "- work folder: %s\n", s.dir)
	from := s.hoist
	if s.builtHoist {
		from = "built from this checkout"
	}
	fmt.Fprintf(&b, "- hoist: %s (%s)\n", firstLine(exec.Command(s.hoist, "--version")), from)
	fmt.Fprintf(&b, "- server: versitygw %s, posix backend, 127.0.0.1, plain http\n", versitygwVersion(s.versitygw))
	fmt.Fprintf(&b, "- curl: %s\n", firstLine(exec.Command(s.curl, "--version")))
	fmt.Fprintf(&b, "- rclone: %s\n", firstLine(exec.Command(s.rclone, "version")))
	fmt.Fprintf(&b, "- aws: %s\n", firstLine(exec.Command(s.aws, "--version")))
	return b.String()
}

func firstLine(cmd *exec.Cmd) string {
	out, err := cmd.Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

func versitygwVersion(bin string) string {
	// A `go install …@v1.8.0` binary records its module version.
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) >= 3 && f[0] == "mod" {
				return f[2]
			}
		}
	}
	return "(version unknown)"
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if name, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			f := strings.Fields(v)
			if kib, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
			}
		}
	}
	return "unknown"
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// parseSize reads 1GiB, 64MiB, 4096 and the like.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("%q is not a size like 1GiB or 64MiB", s)
			}
			return n * u.mult, nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size like 1GiB or 64MiB", s)
	}
	return n, nil
}
