package uploader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// alreadyStored is why a file was skipped.
const alreadyStored = "already on the server"

// skipIfStored asks an Exister source whether f's object is stored, and
// ends the file as skipped when it is. It reports whether the file ended.
func (p *Pool) skipIfStored(ctx context.Context, t *fileTask, f File) bool {
	ex, ok := p.src.(Exister)
	if !p.opts.SkipExisting || !ok {
		return false
	}
	// A destination that serves one request at a time would hold the check
	// behind a whole upload, past its timeout: it waits for its turn too.
	release, err := p.takeTurn(ctx, t, 0)
	if err != nil {
		p.finishErr(ctx, t, err)
		return true
	}
	hctx, cancel := context.WithTimeout(ctx, p.controlTimeout())
	found, err := ex.Exists(hctx, f)
	cancel()
	release()
	switch {
	case err != nil:
		p.finishErr(ctx, t, fmt.Errorf("checking whether it is already stored (--skip-existing): %w", err))
		return true
	case found:
		p.finishSkipped(t, alreadyStored)
		return true
	}
	return false
}

// refusedOverwrite reports whether the store answered a PUT sent with
// If-None-Match: * with 412: the object exists and was left as it was.
// Measured on versitygw v1.8.0: 412 PreconditionFailed, object unchanged.
func refusedOverwrite(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Status == http.StatusPreconditionFailed
}
