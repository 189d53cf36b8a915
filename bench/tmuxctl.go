package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// tmuxControl is one tmux client in control mode (tmux -C) that the bench
// sends its commands through: reading the screen every few milliseconds
// with a new tmux process each time cost 0.8–1.0 s of CPU in a 5 s upload
// of 10,000 files (issue 15), CPU the TUI then lacked on a 2-core machine
// and headless hoist did not. Through one client a read costs the server's
// capture only.
type tmuxControl struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// attachControl attaches a control client to session, one that neither
// sizes the session's window nor receives the panes' output.
func attachControl(ctx context.Context, socket, session string) (*tmuxControl, error) {
	cmd := exec.CommandContext(ctx, "tmux", "-L", socket, "-C", "attach-session", "-f", "ignore-size,no-output", "-t", session)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("tmux control client: %w", err)
	}
	c := &tmuxControl{cmd: cmd, in: in, out: bufio.NewReader(out)}
	// The attach answers with a block of its own: skip blocks until the
	// one that answers this, so each later answer is its command's.
	const ready = "hoist-bench-ready"
	if _, err := fmt.Fprintf(in, "display-message -p %s\n", ready); err != nil {
		c.close()
		return nil, err
	}
	for {
		block, err := c.block()
		if err != nil {
			c.close()
			return nil, fmt.Errorf("tmux control client: %w", err)
		}
		if strings.TrimSpace(block) == ready {
			return c, nil
		}
	}
}

// run sends one command (its words quoted for tmux's parser) and returns
// its output.
func (c *tmuxControl) run(args ...string) (string, error) {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	if _, err := io.WriteString(c.in, strings.Join(quoted, " ")+"\n"); err != nil {
		return "", err
	}
	return c.block()
}

// block reads the next command's answer, %begin … %end, skipping the
// notifications around it; %error makes it an error.
func (c *tmuxControl) block() (string, error) {
	var b strings.Builder
	inside := false
	var skipped []string
	for {
		line, err := c.out.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("%w after %q", err, skipped)
		}
		if !inside {
			skipped = append(skipped, line)
		}
		switch {
		case !inside && strings.HasPrefix(line, "%begin ") && strings.HasSuffix(line, " 1\n"):
			// Flags 1: the answer to a command of this client's, not
			// one tmux ran itself (the attach's own comes unasked).
			inside = true
		case inside && strings.HasPrefix(line, "%end "):
			return b.String(), nil
		case inside && strings.HasPrefix(line, "%error "):
			return "", fmt.Errorf("tmux: %s", strings.TrimSpace(b.String()))
		case inside:
			b.WriteString(line)
		}
	}
}

// close detaches the client.
func (c *tmuxControl) close() {
	_ = c.in.Close()
	_ = c.cmd.Wait()
}
