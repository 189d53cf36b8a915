package ui

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"hoist/runreport"
	"hoist/uploader"
)

// runInfo is what finishRun needs, copied out of the model: its ledger is
// frozen (ledger.frozen), so finishRun owns it.
type runInfo struct {
	pool        *uploader.Pool
	ledger      ledger
	target      string
	md          uploader.Metadata
	settings    map[string]string
	started     time.Time
	reportPath  string // "" writes no report
	interrupted bool
}

// frozen is a copy of l the update loop no longer writes: its rows and
// maps are its own (the list and the spool are shared; the list is never
// written, and the spool takes care of itself).
func (l ledger) frozen() ledger {
	c := l
	c.rows = slices.Clone(l.rows)
	c.notes = maps.Clone(l.notes)
	c.shares = maps.Clone(l.shares)
	c.live = make(map[int]*liveRow, len(l.live))
	for id, lr := range l.live {
		cp := *lr
		cp.meter = nil
		c.live[id] = &cp
	}
	c.texts = nil
	return c
}

// finishRun takes the pool's final counts and writes the report, a file at
// a time from the ledger and its spool.
func finishRun(ri runInfo) tea.Cmd {
	return func() tea.Msg {
		sum := ri.pool.Summary()
		l := ri.ledger
		// A file the pool ended as it closed may not have reached the
		// screen yet: its spooled record has the last word.
		for id := range l.rows {
			if r := &l.rows[id]; !r.state.Finished() && r.state != uploader.StatePaused && l.spool != nil {
				if f, ok := l.spool.Get(id); ok {
					r.state, r.attempt, r.unconfirmed = stateNamed(f.State), attempts(f.Attempts), false
					l.notes[id] = f.Error
				}
			}
		}
		// The files the pool was never handed (the run stopped first) are
		// canceled all the same, as headless counts them: past the pool's
		// ids, since the pool numbers files in order.
		for id := ri.pool.Len(); id < len(l.rows); id++ {
			if !l.rows[id].state.Finished() {
				l.rows[id].state = uploader.StateCanceled
				l.notes[id] = "interrupted"
				sum.Canceled++
			}
		}
		msg := runFinishedMsg{summary: sum, ledger: l}
		if ri.reportPath != "" {
			msg.reportPath = ri.reportPath
			msg.reportErr = writeReport(ri, sum, l, time.Now())
		}
		return msg
	}
}

// writeReport writes the run's report at ri.reportPath, a file at a time
// from the ledger: each ended file's record as spooled, the others made
// from their rows.
func writeReport(ri runInfo, sum uploader.Summary, l ledger, now time.Time) error {
	head := runreport.Build(runreport.Run{
		Target: ri.target, Settings: ri.settings, Metadata: ri.md, Started: ri.started, Interrupted: ri.interrupted,
	}, sum, nil, now)
	return runreport.WriteEach(ri.reportPath, head, len(l.rows), func(id int) ([]byte, error) {
		if l.rows[id].state != uploader.StatePaused && l.spool != nil {
			if data, err := l.spool.Record(id); err != nil || data != nil {
				return data, err
			}
		}
		return json.Marshal(l.record(id))
	})
}

// stateNamed is the state whose String is name; canceled when none is.
func stateNamed(name string) uploader.State {
	for s := range uploader.State(uploader.NumStates) {
		if s.String() == name {
			return s
		}
	}
	return uploader.StateCanceled
}
