package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"hoist/internal/human"
)

// fit cuts s to w cells (ending in "…" when cut) and pads it with spaces to
// exactly w cells, so columns line up whatever the text.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// fitRight is fit aligned to the right.
func fitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s = strings.Repeat(" ", pad) + s
	}
	return s
}

// cut shortens s to at most w cells without padding.
func cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// cutLeft shortens s from the left, for paths whose end matters most.
func cutLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.TruncateLeft(s, ansi.StringWidth(s)-w+1, "…")
}

// fitName fits a file's name (a slash-separated path inside what was
// picked) to w cells the way a person tells files apart: by the end. The
// base name is kept whole when it fits and the folders give way
// ("…/scan-0001.tiff", "ph…/scan-0001.tiff"); a base name too long on its
// own keeps its end, where the numbers and the extension are ("…0001.tiff").
func fitName(name string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(name) > w {
		dir, base := "", name
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			dir, base = name[:i], name[i+1:]
		}
		if bw := ansi.StringWidth(base); dir != "" && bw+2 <= w {
			name = ansi.Truncate(dir, w-bw-1, "…") + "/" + base
		} else {
			name = cutLeft(base, w)
		}
	}
	return fit(name, w)
}

// oneLine makes a reason safe for a single row: no newlines or tabs.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// formatBytes and formatSpeed are human's, the units headless prints too.
func formatBytes(n int64) string { return human.Bytes(n) }

func formatSpeed(bps float64) string {
	if bps < 1 {
		return "–"
	}
	return human.Rate(bps)
}

// formatDuration is short and stable in width: 45s, 3m04s, 2h05m.
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h >= 100:
		return fmt.Sprintf("%dh", h)
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

// formatElapsed is formatDuration with tenths under ten seconds, so a quick
// run does not read as taking no time at all.
func formatElapsed(d time.Duration) string {
	if d > 0 && d < 10*time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return formatDuration(d)
}

// etaCap is the longest ETA shown as a figure.
const etaCap = 24 * time.Hour

// formatETA is how long remaining bytes take at speed, or "–" when unknown.
func formatETA(remaining int64, speed float64) string {
	if remaining <= 0 {
		return "0s"
	}
	if speed < 1 {
		return "–"
	}
	secs := float64(remaining) / speed
	eta := time.Duration(secs * float64(time.Second))
	switch {
	case secs > etaCap.Seconds():
		// Past a day the figure says "slow", not when: it moves by hours
		// with every change of speed.
		return fmt.Sprintf(">%dh", int(etaCap.Hours()))
	case eta < time.Second:
		return "<1s"
	}
	return formatDuration(eta)
}

// formatAge says how long ago t was, relative to now.
func formatAge(t, now time.Time) string {
	if t.IsZero() || now.IsZero() {
		return ""
	}
	return humanize.RelTime(t, now, "ago", "from now")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last w values, scaled to the largest of them.
func sparkline(values []float64, w int) string {
	if w <= 0 {
		return ""
	}
	if len(values) > w {
		values = values[len(values)-w:]
	}
	var peak float64
	for _, v := range values {
		peak = max(peak, v)
	}
	var b strings.Builder
	b.Grow(w * 3)
	for range w - len(values) {
		b.WriteRune(' ')
	}
	for _, v := range values {
		i := 0
		if peak > 0 {
			i = int(v / peak * float64(len(sparkLevels)-1))
		}
		b.WriteRune(sparkLevels[min(max(i, 0), len(sparkLevels)-1)])
	}
	return b.String()
}
