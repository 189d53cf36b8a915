package ui

import (
	"errors"
	"testing"
	"unsafe"

	"hoist/fileset"
	"hoist/runreport"
	"hoist/uploader"
)

// finished is the runFinishedMsg of a run whose files ended as files say
// (ids 0, 1, … in order): each status becomes the pool event that ends it,
// taken in as waitForEvent and the progress screen take it, the spool
// included. codes are the S3 error codes of failed files, by id.
func finished(sum uploader.Summary, files []uploader.FileStatus) runFinishedMsg {
	return finishedCodes(sum, files, nil)
}

func finishedCodes(sum uploader.Summary, files []uploader.FileStatus, codes map[int]string) runFinishedMsg {
	list := make([]uploader.File, len(files))
	for i, f := range files {
		list[i] = uploader.File{Path: "/x/" + f.Name, Name: f.Name, Key: f.Name, Size: f.Size}
	}
	var p progressModel
	p.begin(fileset.ListOf(list), runreport.NewSpool(len(list)), fixedNow, 4)
	sink := eventSink{files: p.files, spool: p.spool}
	for _, f := range files {
		e := uploader.Event{ID: f.ID, File: f.Name, Attempt: f.Attempt, MaxAttempts: f.MaxAttempts, Code: codes[f.ID]}
		if f.Reason != "" {
			e.Err = errors.New(f.Reason)
		}
		switch f.State {
		case uploader.StateDone:
			e.Kind, e.Result = uploader.EventDone, f.Result
			if e.Result == nil {
				e.Result = &uploader.Result{ID: f.ID, File: f.Name, Key: f.Name, Bytes: f.Size}
			}
		case uploader.StateFailed:
			e.Kind = uploader.EventFailed
		case uploader.StateCanceled:
			e.Kind = uploader.EventCanceled
		case uploader.StateSkipped:
			e.Kind = uploader.EventSkipped
		case uploader.StatePaused:
			e.Kind = uploader.EventPaused
		default:
			continue
		}
		sink.take(e)
		p, _ = p.Update(eventMsg(e))
	}
	return runFinishedMsg{summary: sum, ledger: p.ledger.frozen()}
}

// Every file of a run keeps a row: at 100,000 files each byte of it is
// 100 kB (issue 15). What only some files have lives in the ledger's maps.
func TestAFileRowStaysSmall(t *testing.T) {
	if n := unsafe.Sizeof(fileRow{}); n > 24 {
		t.Errorf("a file's row is %d bytes, want at most 24", n)
	}
}
