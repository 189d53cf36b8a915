package config

import (
	"fmt"
	"io"
	"strings"
)

// Shells Completion writes a script for.
var Shells = []string{"bash", "zsh", "fish"}

// Completion writes a completion script for shell, made from the settings
// table and Commands, so a new flag completes without anyone editing a
// script. It completes subcommands, flags, file names where a flag takes a
// path, and files as PATHs.
func Completion(w io.Writer, shell string) error {
	switch shell {
	case "bash":
		bashCompletion(w)
	case "zsh":
		zshCompletion(w)
	case "fish":
		fishCompletion(w)
	default:
		return usageErr(nil, "no completion for %q; the shells are %s", shell, strings.Join(Shells, ", "))
	}
	return nil
}

func commandNames() []string {
	names := make([]string, len(Commands))
	for i, c := range Commands {
		names[i] = c.Name
	}
	return names
}

func bashCompletion(w io.Writer) {
	var flags, pathFlags, argFlags []string
	for _, d := range flagDocs() {
		flags = append(flags, "--"+d.name)
		if d.short != "" {
			flags = append(flags, "-"+d.short)
		}
		switch {
		case d.path:
			pathFlags = append(pathFlags, "--"+d.name)
		case d.arg != "":
			argFlags = append(argFlags, "--"+d.name)
		}
	}
	fmt.Fprintf(w, `# bash completion for hoist; load it with: source <(hoist completion bash)
_hoist() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        %s) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        %s) COMPREPLY=(); return ;;
    esac
    if [[ ${COMP_WORDS[1]} == completion && $COMP_CWORD -eq 2 ]]; then
        COMPREPLY=($(compgen -W %q -- "$cur")); return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W %q -- "$cur")); return
    fi
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W %q -- "$cur") $(compgen -f -- "$cur")); return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _hoist hoist
`, strings.Join(pathFlags, "|"), strings.Join(argFlags, "|"), strings.Join(Shells, " "),
		strings.Join(flags, " "), strings.Join(commandNames(), " "))
}

// zshQuote escapes text for a description inside _arguments' [...] in
// single quotes.
func zshQuote(s string) string {
	return strings.NewReplacer(`'`, `'\''`, `[`, `\[`, `]`, `\]`, `:`, `\:`).Replace(s)
}

func zshCompletion(w io.Writer) {
	fmt.Fprint(w, "#compdef hoist\n# zsh completion for hoist; load it with: source <(hoist completion zsh)\n_hoist() {\n    local -a commands\n    commands=(\n")
	for _, c := range Commands {
		fmt.Fprintf(w, "        '%s:%s'\n", c.Name, zshQuote(c.Summary))
	}
	fmt.Fprint(w, "    )\n    if (( CURRENT == 3 )) && [[ ${words[2]} == completion ]]; then\n")
	fmt.Fprintf(w, "        _values shell %s; return\n    fi\n", strings.Join(Shells, " "))
	fmt.Fprint(w, "    _arguments -s \\\n")
	for _, d := range flagDocs() {
		spec := "--" + d.name
		if d.short != "" {
			spec = "(-" + d.short + " --" + d.name + ")'{-" + d.short + ",--" + d.name + "}'"
		}
		switch {
		case d.path:
			fmt.Fprintf(w, "        '%s=[%s]:%s:_files' \\\n", spec, zshQuote(d.usage), zshQuote(d.arg))
		case d.arg != "":
			fmt.Fprintf(w, "        '%s=[%s]:%s: ' \\\n", spec, zshQuote(d.usage), zshQuote(d.arg))
		default:
			fmt.Fprintf(w, "        '%s[%s]' \\\n", spec, zshQuote(d.usage))
		}
	}
	fmt.Fprint(w, "        '1: :->first' \\\n        '*:file:_files'\n")
	fmt.Fprint(w, "    [[ $state == first ]] && _alternative 'commands:command:_describe command commands' 'files:file:_files'\n}\n")
	fmt.Fprint(w, "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _hoist \"$@\"; else compdef _hoist hoist; fi\n")
}

// fishQuote escapes text for a single-quoted fish string.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func fishCompletion(w io.Writer) {
	fmt.Fprint(w, "# fish completion for hoist; load it with: hoist completion fish | source\n")
	for _, c := range Commands {
		fmt.Fprintf(w, "complete -c hoist -n __fish_use_subcommand -a %s -d %s\n", c.Name, fishQuote(c.Summary))
	}
	fmt.Fprintf(w, "complete -c hoist -n '__fish_seen_subcommand_from completion' -f -a %s\n", fishQuote(strings.Join(Shells, " ")))
	for _, d := range flagDocs() {
		line := "complete -c hoist -l " + d.name
		if d.short != "" {
			line += " -s " + d.short
		}
		switch {
		case d.path:
			line += " -r -F"
		case d.arg != "":
			line += " -x"
		}
		fmt.Fprintf(w, "%s -d %s\n", line, fishQuote(d.usage))
	}
}
