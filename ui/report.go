package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"hoist/runreport"
	"hoist/uploader"
)

// runInfo is what finishRun needs, copied out of the model: model.runInfo
// makes its maps afresh, so finishRun owns them.
type runInfo struct {
	pool        *uploader.Pool
	files       map[int]uploader.File // by id in the pool
	codes       map[int]string        // S3 error codes of failed files
	target      string
	md          uploader.Metadata
	settings    map[string]string
	started     time.Time
	reportPath  string // "" writes no report
	interrupted bool
}

// finishRun takes the pool's final counts and writes the report.
func finishRun(ri runInfo) tea.Cmd {
	// No second copy of the maps: at 100,000 files the id → file map alone
	// is megabytes, at the end of the run when RSS peaks (issue 15).
	return func() tea.Msg {
		sum := ri.pool.Summary()
		files := ri.pool.Snapshot(nil)
		// The files the pool was never handed (the run stopped first) are
		// canceled all the same, as headless counts them: past the
		// snapshot's ids, since the pool numbers files in order.
		for id := len(files); id < len(ri.files); id++ {
			f := ri.files[id]
			files = append(files, uploader.FileStatus{ID: id, Name: f.Name, Size: f.Size, State: uploader.StateCanceled, Reason: "interrupted"})
			sum.Canceled++
		}
		msg := runFinishedMsg{summary: sum, files: files}
		if ri.reportPath != "" {
			msg.reportPath = ri.reportPath
			msg.reportErr = runreport.Write(ri.reportPath, buildReport(ri, sum, files, time.Now()))
		}
		return msg
	}
}

func buildReport(ri runInfo, sum uploader.Summary, files []uploader.FileStatus, now time.Time) runreport.Report {
	return runreport.Build(runreport.Run{
		Files: ri.files, Codes: ri.codes, Target: ri.target, Settings: ri.settings,
		Metadata: ri.md, Started: ri.started, Interrupted: ri.interrupted,
	}, sum, files, now)
}
