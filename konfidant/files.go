package konfidant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"hoist/uploader"
)

// Slot is where one file's ciphertext goes (the encrypted flow).
type Slot struct {
	UploadURL string            // presigned PUT: never printed, never logged
	FileKey   string            // names the upload in …/complete
	Headers   map[string]string // to send with the PUT, exactly
	Expires   time.Time         // when UploadURL stops working; zero when not said
}

// CreateUpload reserves a share for ciphertextSize bytes of KNF1 ciphertext
// living ttlHours (0: the plan's default). POST /api/v1/files.
func (c *Client) CreateUpload(ctx context.Context, ciphertextSize int64, ttlHours int) (Slot, error) {
	req := struct {
		CiphertextSize int64 `json:"ciphertext_size"`
		TTLHours       int   `json:"ttl_hours,omitempty"`
	}{ciphertextSize, ttlHours}
	var ans struct {
		UploadURL       string            `json:"upload_url"`
		FileKey         string            `json:"file_key"`
		UploadHeaders   map[string]string `json:"upload_headers"`
		UploadExpiresIn int64             `json:"upload_expires_in"`
	}
	asked := c.now()
	if err := c.call(ctx, http.MethodPost, "/api/v1/files", req, &ans); err != nil {
		return Slot{}, err
	}
	if err := c.checkAnswerURL(ans.UploadURL, "upload_url"); err != nil {
		return Slot{}, err
	}
	if ans.FileKey == "" {
		return Slot{}, c.badAnswer("POST /api/v1/files", "no file_key")
	}
	s := Slot{UploadURL: ans.UploadURL, FileKey: ans.FileKey, Headers: ans.UploadHeaders}
	if ans.UploadExpiresIn > 0 {
		s.Expires = asked.Add(time.Duration(ans.UploadExpiresIn) * time.Second)
	}
	return s, nil
}

// Completed is the answer to …/complete.
type Completed struct {
	DownloadURL  string // https://<host>/#t=<token>: the share link without its key
	FileID       string
	ExpiresAt    time.Time
	VerifiedBurn bool
}

// Complete tells Konfidant the ciphertext is uploaded and gets the download
// URL. POST /api/v1/files/{file_key}/complete; 409 upload_incomplete when the
// bytes did not all arrive.
func (c *Client) Complete(ctx context.Context, fileKey string) (Completed, error) {
	var ans struct {
		DownloadURL  string    `json:"download_url"`
		FileID       string    `json:"file_id"`
		ExpiresAt    time.Time `json:"expires_at"`
		VerifiedBurn bool      `json:"verified_burn"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/files/"+url.PathEscape(fileKey)+"/complete", nil, &ans); err != nil {
		return Completed{}, err
	}
	return Completed{DownloadURL: ans.DownloadURL, FileID: ans.FileID, ExpiresAt: ans.ExpiresAt, VerifiedBurn: ans.VerifiedBurn}, nil
}

// PlainSlot is where one file's bytes go as they are (the plain flow of
// SDK 0.9, the API page hoist was built from).
type PlainSlot struct {
	UploadURL string
	FileKey   string
	Headers   map[string]string // the three x-amz-meta-* headers, signed into UploadURL
}

// CreatePlainUpload reserves a share for a file sent unencrypted.
// POST /api/v1/files {filename, file_size, ttl_hours}.
func (c *Client) CreatePlainUpload(ctx context.Context, filename string, size int64, ttlHours int) (PlainSlot, error) {
	req := struct {
		Filename string `json:"filename"`
		FileSize int64  `json:"file_size"`
		TTLHours int    `json:"ttl_hours,omitempty"`
	}{filename, size, ttlHours}
	var ans struct {
		UploadURL       string            `json:"upload_url"`
		FileKey         string            `json:"file_key"`
		PollURL         string            `json:"poll_url"`
		MetadataHeaders map[string]string `json:"metadata_headers"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/files", req, &ans); err != nil {
		return PlainSlot{}, err
	}
	if err := c.checkAnswerURL(ans.UploadURL, "upload_url"); err != nil {
		return PlainSlot{}, err
	}
	if ans.FileKey == "" {
		return PlainSlot{}, c.badAnswer("POST /api/v1/files", "no file_key")
	}
	return PlainSlot{UploadURL: ans.UploadURL, FileKey: ans.FileKey, Headers: ans.MetadataHeaders}, nil
}

// PollInterval is how often the plain flow asks whether a file is ready,
// as the API page says.
var PollInterval = 2 * time.Second

// PollTimeout is how long the plain flow waits for Konfidant to finish a
// file of size bytes: five minutes, plus a minute per 100 MiB beyond the
// first, since processing grows with the file.
func PollTimeout(size int64) time.Duration {
	return 5*time.Minute + time.Duration(size/(100<<20))*time.Minute
}

// Status is the answer to …/status once the file is complete.
type Status struct {
	FileID       string
	FileName     string
	ShareURL     string
	ExpiresAt    time.Time
	VerifiedBurn bool
}

// WaitComplete polls GET /api/v1/files/{file_key}/status every PollInterval
// until Konfidant says complete, or PollTimeout(size) passes.
func (c *Client) WaitComplete(ctx context.Context, fileKey string, size int64) (Status, error) {
	limit := PollTimeout(size)
	deadline := c.now().Add(limit)
	path := "/api/v1/files/" + url.PathEscape(fileKey) + "/status"
	for {
		var ans struct {
			Status       string    `json:"status"`
			Message      string    `json:"message"`
			FileID       string    `json:"file_id"`
			FileName     string    `json:"file_name"`
			ShareURL     string    `json:"share_url"`
			ExpiresAt    time.Time `json:"expires_at"`
			VerifiedBurn bool      `json:"verified_burn"`
		}
		if err := c.call(ctx, http.MethodGet, path, nil, &ans); err != nil {
			return Status{}, err
		}
		switch ans.Status {
		case "complete":
			if err := c.checkAnswerURL(ans.ShareURL, "share_url"); err != nil {
				return Status{}, err
			}
			return Status{FileID: ans.FileID, FileName: ans.FileName, ShareURL: ans.ShareURL, ExpiresAt: ans.ExpiresAt, VerifiedBurn: ans.VerifiedBurn}, nil
		case "processing", "pending", "uploading":
		case "failed", "error":
			return Status{}, uploader.Permanent(fmt.Errorf("the file failed on Konfidant's side (status %q: %s); upload it again", ans.Status, oneLine(ans.Message)))
		default:
			return Status{}, c.badAnswer("GET "+path, fmt.Sprintf("an unknown status %q", oneLine(ans.Status)))
		}
		if c.now().After(deadline) {
			return Status{}, uploader.Permanent(fmt.Errorf("the file was still processing at Konfidant after %s (last said: %s); check its dashboard later, or upload it again", limit, oneLine(ans.Message)))
		}
		t := time.NewTimer(PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return Status{}, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// checkAnswerURL checks a URL the API handed out is an http(s) URL.
func (c *Client) checkAnswerURL(raw, field string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return c.badAnswer("its answer", "a "+field+" that is not an http(s) URL")
	}
	return nil
}

func (c *Client) badAnswer(where, what string) error {
	return uploader.Permanent(errors.New("the API at " + c.host + " gave " + what + " in " + where + "; check --api-url points at Konfidant's API"))
}

func oneLine(s string) string {
	s = string([]rune(s)[:min(len([]rune(s)), 200)])
	out := make([]rune, 0, len(s))
	space := false
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == ' ' {
			if !space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = true
			continue
		}
		out = append(out, r)
		space = false
	}
	return string(out)
}
