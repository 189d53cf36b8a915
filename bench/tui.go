package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// screenPoll is how often the screen is read while waiting for a text.
const screenPoll = 20 * time.Millisecond

// measureTUI runs hoist's terminal UI in a private tmux server at 120×40,
// as scripts/e2e-tui.sh does, and walks it through the form and the review
// with keys. GNU time reports the process's peak RSS and CPU (the picker,
// form and review included); the wall time is from the key that starts the
// upload to the summary on screen, read every screenPoll through one tmux
// control client (tmuxControl). The run report's seconds
// (measurement.runSeconds) time the pool alone in both modes.
func (b *bench) measureTUI(ctx context.Context, r *runSpec, inv invocation) (measurement, error) {
	if _, err := exec.LookPath("tmux"); err != nil {
		return measurement{}, fmt.Errorf("-tui needs tmux")
	}
	socket := fmt.Sprintf("hoist-bench-%d", time.Now().UnixNano())
	tm := func(args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, "tmux", append([]string{"-L", socket}, args...)...)
	}
	defer func() {
		_ = tm("kill-server").Run()
		_ = os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("tmux-%d", os.Getuid()), socket))
	}()

	report := filepath.Join(r.scratch, "time.txt")
	var cmd strings.Builder
	cmd.WriteString("env -i TERM=xterm-256color")
	for _, e := range inv.env {
		cmd.WriteString(" " + shellQuote(e))
	}
	cmd.WriteString(" " + shellQuote(b.s.timeBin) + " -v -o " + shellQuote(report))
	for _, a := range inv.args {
		cmd.WriteString(" " + shellQuote(a))
	}
	cmd.WriteString(`; echo "BENCH-EXIT=$?"; sleep 600`)
	if out, err := tm("new-session", "-d", "-s", "bench", "-x", "120", "-y", "40", "-c", r.scratch, cmd.String()).CombinedOutput(); err != nil {
		return measurement{}, fmt.Errorf("starting tmux: %v: %s", err, out)
	}
	ctl, err := attachControl(ctx, socket, "bench")
	if err != nil {
		return measurement{}, err
	}
	defer ctl.close()
	var serverPid, panePid int
	if out, err := ctl.run("display-message", "-p", "-t", "bench", "#{pid} #{pane_pid}"); err != nil {
		return measurement{}, fmt.Errorf("asking tmux for its pids: %v", err)
	} else if _, err := fmt.Sscan(out, &serverPid, &panePid); err != nil {
		return measurement{}, fmt.Errorf("tmux's pids %q: %v", out, err)
	}
	screen := func() string {
		out, _ := ctl.run("capture-pane", "-p", "-t", "bench")
		return out
	}
	// waitFor waits until one of texts is on the screen.
	waitFor := func(limit time.Duration, texts ...string) error {
		deadline := time.Now().Add(limit)
		last := ""
		for time.Now().Before(deadline) {
			last = screen()
			for _, t := range texts {
				if strings.Contains(last, t) {
					return nil
				}
			}
			if strings.Contains(last, "Finished: ") { // some files failed
				break
			}
			time.Sleep(screenPoll)
		}
		return fmt.Errorf("hoist's UI never showed %q; last screen:\n%s", texts, redactQueries(last))
	}
	keys := func(k ...string) { _, _ = ctl.run(append([]string{"send-keys", "-t", "bench"}, k...)...) }

	// Given URLs fix the files, and the form comes first; with --s3 the
	// picker comes first, the file already picked from the command line.
	// A manifest of 100,000 lines takes a while to read on a busy machine;
	// the waits poll, so a long limit costs nothing when it is quick.
	if err := waitFor(3*time.Minute, "Upload details", "1 file selected"); err != nil {
		return measurement{}, err
	}
	if !strings.Contains(screen(), "Upload details") {
		keys("Tab")
		if err := waitFor(20*time.Second, "Upload details"); err != nil {
			return measurement{}, err
		}
	}
	keys("Enter", "Enter", "Enter") // the form is filled from the flags
	if err := waitFor(20*time.Second, "Review before sending"); err != nil {
		return measurement{}, err
	}
	if err := waitFor(5*time.Minute, "no problems found"); err != nil {
		return measurement{}, err
	}
	// The review ignores an Enter typed within its arming delay (ui's
	// armDelay, 400 ms) of opening, as a person's typed-ahead one: wait it
	// out, before the clock starts.
	time.Sleep(500 * time.Millisecond)
	serverBefore, busyBefore := b.srv.cpu(), machineBusy()
	hoistBefore, termBefore, pollBefore := treeCPU(panePid), processCPU(serverPid), childrenCPU()
	if os.Getenv("HOIST_CPUPROFILE_FROM") == "SIGUSR1" {
		// A hoistprof build profiles from here (profile_hoistprof.go).
		for _, pid := range descendants(panePid) {
			if args, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.HasPrefix(string(args), inv.args[0]+"\x00") {
				_ = syscall.Kill(pid, syscall.SIGUSR1)
			}
		}
	}
	start := time.Now()
	keys("Enter")
	if err := waitFor(10*time.Minute, fmt.Sprintf("All %d files uploaded", r.sc.files), "The file was uploaded"); err != nil {
		return measurement{}, err
	}
	m := measurement{wall: time.Since(start), serverCPU: b.srv.cpu() - serverBefore}
	m.runCPU, m.termCPU, m.pollCPU = treeCPU(panePid)-hoistBefore, processCPU(serverPid)-termBefore, childrenCPU()-pollBefore
	m.otherCPU = max(machineBusy()-busyBefore-m.runCPU-m.serverCPU-m.termCPU-m.pollCPU, 0)
	keys("q")
	if err := waitFor(20*time.Second, "BENCH-EXIT=0"); err != nil {
		return m, err
	}
	return m, parseTimeReport(report, &m)
}

// childrenCPU is the CPU of the bench's children that have ended (here the
// tmux clients it runs), from getrusage.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
