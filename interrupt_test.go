package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/goleak"

	"hoist/internal/s3test"
	"hoist/internal/testproc"
)

// stopLimit is how long hoist may take from the signal to its exit.
const stopLimit = 2 * time.Second

// multipartSetup is versitygw behind a proxy that counts accepted parts,
// and a file big enough to go up in parts for a while.
type multipartSetup struct {
	srv   *s3test.Server
	proxy *countingProxy
	file  string
	env   []string
	args  []string
}

func newMultipartSetup(t *testing.T) multipartSetup {
	t.Helper()
	srv := s3test.Start(t)
	srv.CreateBucket(t, "big")
	file, _ := writeTemp(t, t.TempDir(), "dataset.tar", 48<<20)
	proxy := newCountingProxy(t, srv.Endpoint)
	return multipartSetup{
		srv: srv, proxy: proxy, file: file,
		env: []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey, "AWS_REGION=" + srv.Region},
		// 10 parts at 8 MiB/s: parts are in flight for seconds.
		args: append([]string{"--s3", "s3://big/in", "--endpoint-url", proxy.URL, "--multipart-threshold", "8MiB",
			"--part-size", "5MiB", "--concurrency", "3", "--limit-rate", "8MiB"}, meta...),
	}
}

// waitParts waits until the server has accepted n more parts than before.
func (m multipartSetup) waitParts(t *testing.T, before int32, n int32) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for m.proxy.partsOK.Load() < before+n {
		if time.Now().After(deadline) {
			t.Fatalf("no part reached the server within 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitJournaledPart waits until hoist's journal (under env's
// XDG_STATE_HOME) records a part the server accepted: the server counting
// a part comes a moment before hoist hears of it.
func waitJournaledPart(t *testing.T, env []string) {
	t.Helper()
	var state string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "XDG_STATE_HOME="); ok {
			state = v
		}
	}
	testproc.WaitFor(t, "a part in the journal", func() bool {
		files, _ := filepath.Glob(filepath.Join(state, "hoist", "journal", "*.jsonl"))
		for _, f := range files {
			if b, _ := os.ReadFile(f); bytes.Contains(b, []byte(`"op":"part"`)) {
				return true
			}
		}
		return false
	})
}

// assertUploadsLeft checks that n multipart uploads are open on the server.
func (m multipartSetup) assertUploadsLeft(t *testing.T, n int) {
	t.Helper()
	out, err := m.srv.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != n {
		t.Errorf("%d multipart uploads open on the server, want %d", len(out.Uploads), n)
	}
}

func (m multipartSetup) assertNothingLeft(t *testing.T) {
	t.Helper()
	out, err := m.srv.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Uploads); n != 0 {
		t.Errorf("%d multipart uploads left on the server: the interrupted upload was not aborted", n)
	}
	if _, err := headObject(m.srv, "big", "in/dataset.tar"); err == nil {
		t.Error("an interrupted upload left an object behind")
	}
}

// Headless, mid-multipart: SIGINT, SIGTERM and SIGHUP each stop hoist
// within 2 s with exit 128+signal and a summary. The upload is kept on the
// server with its journal (issue 13 item 16: it used to be aborted, so the
// rerun sent every byte again), and hoist says how to resume and discard
// it. After SIGINT the same command resumes it; after SIGTERM and SIGHUP
// `hoist uploads` lists it and `hoist uploads --abort` discards it.
func TestInterruptMidMultipartKeepsItResumable(t *testing.T) {
	m := newMultipartSetup(t)
	// SIGINT last: its rerun stores the object the others check is absent.
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			env := append(m.env, "XDG_STATE_HOME="+t.TempDir()) // one journal for every run below
			cmd := hoistCmd(t, env, append(append([]string{"--no-tui"}, m.args...), m.file)...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			before := m.proxy.partsOK.Load()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			m.waitParts(t, before, 1)
			waitJournaledPart(t, env)
			took, code := signalAndWait(t, cmd, sig)
			t.Logf("%v: exit %d %v after the signal", sig, code, took.Round(time.Millisecond))
			if code != 128+int(sig) {
				t.Errorf("exit %d, want %d\n%s%s", code, 128+int(sig), out.String(), errb.String())
			}
			if took > stopLimit {
				t.Errorf("hoist took %v to stop, more than %v", took, stopLimit)
			}
			s := out.String()
			if !strings.Contains(s, "0 uploaded") || !strings.Contains(s, "1 canceled") || !strings.Contains(s, "interrupted") {
				t.Errorf("no summary of the interrupted run: %s", s)
			}
			if !strings.Contains(s, "run the same command again to resume") || !strings.Contains(s, "hoist uploads --abort") {
				t.Errorf("the output does not say how to resume or discard the upload: %s", s)
			}
			m.assertUploadsLeft(t, 1)
			assertNothingLeaks(t, result{stdout: out.String(), stderr: errb.String()}, cmd, m.srv.SecretKey, m.srv.AccessKey)

			if sig == syscall.SIGINT {
				r := runHoist(t, env, append(append([]string{"--no-tui"}, m.args...), m.file)...)
				if r.code != 0 || !strings.Contains(r.stderr, "resuming") {
					t.Fatalf("rerun: exit %d, want 0 and a resume\nfirst run:\n%s%s\nrerun:\n%s%s", r.code, out.String(), errb.String(), r.stdout, r.stderr)
				}
				body, _ := m.srv.Object(t, "big", "in/dataset.tar")
				want, _ := os.ReadFile(m.file)
				if !bytes.Equal(body, want) {
					t.Error("the resumed object differs from the file")
				}
				m.assertUploadsLeft(t, 0)
				return
			}
			list := runHoist(t, env, "uploads")
			if list.code != 0 || !strings.Contains(list.stdout, "dataset.tar") || !strings.Contains(list.stdout, "in/dataset.tar") {
				t.Fatalf("hoist uploads: exit %d\n%s%s", list.code, list.stdout, list.stderr)
			}
			ab := runHoist(t, env, "uploads", "--abort", "--all")
			if ab.code != 0 || !strings.Contains(ab.stdout, "aborted") {
				t.Fatalf("hoist uploads --abort --all: exit %d\n%s%s", ab.code, ab.stdout, ab.stderr)
			}
			m.assertNothingLeft(t)
			if again := runHoist(t, env, "uploads"); !strings.Contains(again.stdout, "No multipart uploads") {
				t.Errorf("the journal still lists the aborted upload: %s", again.stdout)
			}
		})
	}
}

// signalAndWait sends sig and waits for the process, killing it after 10 s.
func signalAndWait(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) (time.Duration, int) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	sent := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("hoist did not stop within 10s of %v", sig)
	}
	took := time.Since(sent)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return took, ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return took, 0
}

// tuiSession is hoist's terminal UI running in a private tmux server, as a
// person runs it: a 120×40 terminal, xterm-256color.
type tuiSession struct {
	t        *testing.T
	socket   string
	dir      string // the script, its exit code and the terminal settings
	cmd      *exec.Cmd
	shellPID int
}

// startTUI runs hoist (this test binary as main) in tmux through a small
// shell script that records the terminal settings before and after, and
// hoist's exit code.
func startTUI(t *testing.T, env []string, args ...string) *tuiSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed; .ci/run installs it")
	}
	cmd := hoistCmd(t, append([]string{"TERM=xterm-256color", "LANG=C.UTF-8"}, env...), args...)
	dir := t.TempDir()
	var script strings.Builder
	script.WriteString("echo $$ > " + shq(filepath.Join(dir, "sh.pid")) + "\n")
	script.WriteString("stty -g > " + shq(filepath.Join(dir, "stty.before")) + "\n")
	script.WriteString("env -i")
	for _, kv := range cmd.Env {
		script.WriteString(" " + shq(kv))
	}
	script.WriteString(" " + shq(cmd.Path))
	for _, a := range cmd.Args[1:] {
		script.WriteString(" " + shq(a))
	}
	script.WriteString("\ncode=$?\n")
	script.WriteString("stty -g > " + shq(filepath.Join(dir, "stty.after")) + "\n")
	script.WriteString("echo $code > " + shq(filepath.Join(dir, "exit.code")) + "\n")
	script.WriteString("echo HOIST-EXIT=$code\nsleep 600\n")
	if err := os.WriteFile(filepath.Join(dir, "run.sh"), []byte(script.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	// A private server on a socket in the test's folder: removed with it.
	s := &tuiSession{t: t, socket: filepath.Join(dir, "tmux"), dir: dir, cmd: cmd}
	s.tmux("new-session", "-d", "-s", "hoist", "-x", "120", "-y", "40", "sh "+shq(filepath.Join(dir, "run.sh")))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", s.screen())
		}
		_ = exec.Command("tmux", "-S", s.socket, "kill-server").Run()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "sh.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				s.shellPID = pid
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the tmux session did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (s *tuiSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (s *tuiSession) screen() string {
	out, _ := exec.Command("tmux", "-S", s.socket, "capture-pane", "-p", "-t", "hoist").Output()
	return string(out)
}

func (s *tuiSession) keys(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", "hoist"}, keys...)...)
}

// waitFor waits until text is on the screen.
func (s *tuiSession) waitFor(text string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.screen(), text) {
		if time.Now().After(deadline) {
			s.t.Fatalf("%q never showed on the screen:\n%s", text, s.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hoistPID finds hoist: the child of the script's shell.
func (s *tuiSession) hoistPID() int {
	s.t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut after ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(s.shellPID) {
			return pid
		}
	}
	s.t.Fatal("hoist is not running under the tmux shell")
	return 0
}

// interrupt sends sig to hoist and returns how long it took to exit and
// its exit code.
func (s *tuiSession) interrupt(sig syscall.Signal) (time.Duration, int) {
	s.t.Helper()
	pid := s.hoistPID()
	sent := time.Now()
	if err := syscall.Kill(pid, sig); err != nil {
		s.t.Fatal(err)
	}
	codeFile := filepath.Join(s.dir, "exit.code")
	for {
		if b, err := os.ReadFile(codeFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			took := time.Since(sent)
			code, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return took, code
		}
		if time.Since(sent) > 10*time.Second {
			s.t.Fatalf("hoist did not exit within 10s of %v:\n%s", sig, s.screen())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// assertRestored checks the terminal is as hoist found it: the same stty
// settings, the normal screen, the cursor shown, no mouse reporting.
func (s *tuiSession) assertRestored() {
	s.t.Helper()
	s.waitFor("HOIST-EXIT=")
	before, _ := os.ReadFile(filepath.Join(s.dir, "stty.before"))
	after, _ := os.ReadFile(filepath.Join(s.dir, "stty.after"))
	if len(before) == 0 || !bytes.Equal(before, after) {
		s.t.Errorf("terminal settings not restored:\nbefore %s\nafter  %s", before, after)
	}
	flags := strings.TrimSpace(s.tmux("display", "-p", "-t", "hoist", "#{alternate_on} #{cursor_flag} #{mouse_any_flag}"))
	if flags != "0 1 0" {
		s.t.Errorf("terminal left with alternate screen, cursor, mouse = %q, want \"0 1 0\"", flags)
	}
}

// report reads the JSON report the TUI wrote under its state folder.
func (s *tuiSession) report() map[string]any {
	s.t.Helper()
	state := envValue(s.cmd, "XDG_STATE_HOME")
	var found []string
	_ = filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") && strings.Contains(p, "report") {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		s.t.Fatalf("%d reports under %s, want 1", len(found), state)
	}
	b, err := os.ReadFile(found[0])
	if err != nil {
		s.t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil {
		s.t.Fatalf("report %s: %v", found[0], err)
	}
	return r
}

// The terminal UI, SIGINT, SIGTERM or SIGHUP while a file is waiting on a
// server that never answers: hoist exits 128+signal within 2 s, the terminal is restored
// and the report says the run was interrupted.
func TestTUIInterruptRestoresTerminal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) { tuiInterruptGivenURL(t, sig) })
	}
}

func tuiInterruptGivenURL(t *testing.T, sig syscall.Signal) {
	srv, got := silentServer(t)
	p, _ := writeTemp(t, t.TempDir(), "a.bin", 2<<20)
	u := presign(t, srv.URL, "a.bin", time.Hour)
	const token = "tok_tui_3e8f1a6b2c"
	s := startTUI(t, []string{"HOIST_TOKEN=" + token}, append([]string{"--url", u, p}, meta...)...)
	s.waitFor("Upload details")
	s.keys("Enter", "Enter", "Enter")
	s.waitFor("Review before sending")
	s.waitFor("no problems found")
	s.waitFor("enter send") // the review takes enter once it is armed
	s.keys("Enter")
	deadline := time.Now().Add(20 * time.Second)
	for got.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the upload never reached the server:\n%s", s.screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.waitFor("a.bin")
	took, code := s.interrupt(sig)
	t.Logf("%v: exit %d %v after the signal", sig, code, took.Round(time.Millisecond))
	if code != 128+int(sig) {
		t.Errorf("exit %d, want %d", code, 128+int(sig))
	}
	if took > stopLimit {
		t.Errorf("hoist took %v to stop, more than %v", took, stopLimit)
	}
	s.assertRestored()
	if r := s.report(); r["interrupted"] != true {
		t.Errorf("the report does not say the run was interrupted: %v", r)
	}
	assertNothingLeaks(t, result{stdout: s.screen()}, s.cmd, append(secretsOf(t, u), token)...)
}

// The terminal UI, SIGTERM or SIGINT mid-multipart against versitygw: exit
// 128+signal within 2 s, terminal restored, the report written, and the
// upload kept for a resume until `hoist uploads --abort` discards it.
func TestTUIInterruptMidMultipartKeepsIt(t *testing.T) {
	m := newMultipartSetup(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) { tuiInterruptMultipart(t, m, sig) })
	}
}

func tuiInterruptMultipart(t *testing.T, m multipartSetup, sig syscall.Signal) {
	before := m.proxy.partsOK.Load()
	s := startTUI(t, m.env, append(m.args, m.file)...)
	s.waitFor("1 file selected")
	s.keys("Tab")
	s.waitFor("Upload details")
	s.keys("Enter", "Enter", "Enter")
	s.waitFor("Review before sending")
	s.waitFor("no problems found")
	s.waitFor("enter send") // the review takes enter once it is armed
	s.keys("Enter")
	m.waitParts(t, before, 1)
	s.waitFor("dataset.tar")
	took, code := s.interrupt(sig)
	t.Logf("%v: exit %d %v after the signal", sig, code, took.Round(time.Millisecond))
	if code != 128+int(sig) {
		t.Errorf("exit %d, want %d", code, 128+int(sig))
	}
	if took > stopLimit {
		t.Errorf("hoist took %v to stop, more than %v", took, stopLimit)
	}
	s.assertRestored()
	m.assertUploadsLeft(t, 1)
	env := m.env
	for _, kv := range s.cmd.Env { // the TUI's own journal
		if strings.HasPrefix(kv, "XDG_STATE_HOME=") {
			env = append(env, kv)
		}
	}
	if ab := runHoist(t, env, "uploads", "--abort", "--all"); ab.code != 0 {
		t.Errorf("hoist uploads --abort --all: exit %d\n%s%s", ab.code, ab.stdout, ab.stderr)
	}
	m.assertNothingLeft(t)
	r := s.report()
	if r["interrupted"] != true {
		t.Errorf("the report does not say the run was interrupted: %v", r)
	}
	assertNothingLeaks(t, result{stdout: s.screen()}, s.cmd, m.srv.SecretKey, m.srv.AccessKey)
}

// runInProcess runs hoist's run() in this process with its own
// environment, and returns its exit code once it ends.
func runInProcess(t *testing.T, env map[string]string, args ...string) (stdout, stderr *bytes.Buffer, code <-chan int) {
	t.Helper()
	home := t.TempDir()
	vars := map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_DATA_HOME": filepath.Join(home, "data"),
		"XDG_STATE_HOME": filepath.Join(home, "state"), "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	c := make(chan int, 1)
	go func() { c <- run(args, stdout, stderr, getenv) }()
	return stdout, stderr, c
}

// hoist's own run(), interrupted by a real SIGINT to this process while a
// file waits on a server that never answers and while a multipart upload
// is under way: it returns 130 with a summary, and every goroutine it
// started has ended.
func TestInterruptInProcessLeavesNoGoroutines(t *testing.T) {
	t.Run("given URL", func(t *testing.T) {
		var got atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}))
		defer srv.Close()
		p, _ := writeTemp(t, t.TempDir(), "a.bin", 1<<20)
		u := presign(t, srv.URL, "a.bin", time.Hour)
		ignore := goleak.IgnoreCurrent()
		stdout, stderr, code := runInProcess(t, nil, append([]string{"--no-tui", "--url", u, p}, meta...)...)
		testproc.WaitFor(t, "the first request", func() bool { return got.Load() > 0 })
		interruptSelf(t, code, stdout, stderr)
		srv.Close()
		goleak.VerifyNone(t, ignore)
	})
	t.Run("multipart", func(t *testing.T) {
		m := newMultipartSetup(t)
		// The AWS credential chain reads the process's environment.
		for _, kv := range append(m.env, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null") {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
		ignore := goleak.IgnoreCurrent()
		stdout, stderr, code := runInProcess(t, nil, append(append([]string{"--no-tui"}, m.args...), m.file)...)
		m.waitParts(t, 0, 1)
		interruptSelf(t, code, stdout, stderr)
		m.assertUploadsLeft(t, 1) // kept for a resume
		// The test's own proxy forwards with the default transport.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, ignore)
	})
}

// interruptSelf sends SIGINT to this process, which run() is listening
// for, and checks how it ends.
func interruptSelf(t *testing.T, code <-chan int, stdout, stderr *bytes.Buffer) {
	t.Helper()
	sent := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		took := time.Since(sent)
		if c != 130 || took > stopLimit {
			t.Errorf("run returned %d after %v, want 130 within %v\n%s%s", c, took, stopLimit, stdout, stderr)
		}
		if !strings.Contains(stdout.String(), "interrupted") {
			t.Errorf("no summary: %s", stdout)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of SIGINT")
	}
}
