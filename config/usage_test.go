package config

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHelpFits80ColumnsAndEndsWithExamples(t *testing.T) {
	var b bytes.Buffer
	Usage(&b)
	help := b.String()
	for i, line := range strings.Split(help, "\n") {
		if n := utf8.RuneCountInString(line); n > helpWidth {
			t.Errorf("line %d is %d columns: %q", i+1, n, line)
		}
	}
	_, examples, ok := strings.Cut(help, "\nexamples:\n")
	if !ok || strings.Contains(examples, "\n\n") || !strings.Contains(examples, "hoist history --retry 1") {
		t.Errorf("help does not end with the examples:\n%s", help)
	}
	for _, s := range settings {
		if !strings.Contains(help, "--"+s.name+" ") && !strings.Contains(help, "--"+s.name+"\n") {
			t.Errorf("help lacks --%s", s.name)
		}
	}
	for _, c := range Commands {
		if !strings.Contains(help, "hoist "+c.Name) {
			t.Errorf("help lacks hoist %s", c.Name)
		}
	}
}

func TestCompletionScriptsNameEveryFlagAndCommand(t *testing.T) {
	for _, shell := range Shells {
		var b bytes.Buffer
		if err := Completion(&b, shell); err != nil {
			t.Fatal(err)
		}
		script := b.String()
		for _, d := range flagDocs() {
			want := "--" + d.name
			if shell == "fish" {
				want = "-l " + d.name
			}
			if !strings.Contains(script, want) {
				t.Errorf("%s: no %s", shell, want)
			}
		}
		for _, c := range Commands {
			if !strings.Contains(script, c.Name) {
				t.Errorf("%s: no command %s", shell, c.Name)
			}
		}
	}
	if err := Completion(new(bytes.Buffer), "tcsh"); err == nil {
		t.Error("tcsh: no error")
	}
}

// The bash script completes as a person would see it, in a real bash.
func TestBashCompletionCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed to test the bash completion")
	}
	var script bytes.Buffer
	if err := Completion(&script, "bash"); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) string {
		t.Helper()
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := script.String() + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
			string(rune('0'+len(words)-1)) + "\n_hoist\necho \"${COMPREPLY[*]}\"\n"
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := complete("hoist", "--mani"); got != "--manifest" {
		t.Errorf("--mani → %q", got)
	}
	if got := complete("hoist", "compl"); got != "completion" {
		t.Errorf("compl → %q", got)
	}
	if got := complete("hoist", "completion", "z"); got != "zsh" {
		t.Errorf("completion z → %q", got)
	}
	if got := complete("hoist", "--progress-i"); got != "--progress-interval" {
		t.Errorf("--progress-i → %q", got)
	}
}

func TestManPage(t *testing.T) {
	var b bytes.Buffer
	Man(&b, "v1.2.3")
	page := b.String()
	for _, want := range []string{`.TH HOIST 1 "" "hoist v1.2.3"`, ".SH SYNOPSIS", ".SH OPTIONS", ".SH EXIT CODES", ".SH EXAMPLES",
		`\-\-org\-id`, "HOIST_ORG_ID", `hoist history \-\-retry 1`} {
		if !strings.Contains(page, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	for _, r := range page {
		if r > 127 {
			t.Fatalf("man page holds %q: troff wants ASCII and \\[u…] escapes", r)
		}
	}
	// groff, where it is installed, reads it without a warning.
	if groff, err := exec.LookPath("groff"); err == nil {
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = &b
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff: %v\n%s", err, out)
		}
	}
}
