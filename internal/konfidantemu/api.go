package konfidantemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"hoist/internal/apiurl"
)

type flow int

const (
	flowEncrypted flow = iota
	flowPlain
)

// slot is an upload a key asked for.
type slot struct {
	flow     flow
	key      Key    // the API key that made it
	fileKey  string // also the object key
	size     int64  // ciphertext_size or file_size
	ttlHours int
	fileName string            // plain flow
	meta     map[string]string // plain flow: the signed metadata values
	polls    int               // plain flow: status answers after arrival
	share    *share            // set once complete
}

// share is a completed upload's one-time link.
type share struct {
	token     string
	orgID     string
	userID    string
	fileKey   string
	size      int64
	fileID    string
	createdAt time.Time
	expiresAt time.Time
	opened    bool
	openedAt  time.Time
}

// maxBody bounds what the API reads of a request body.
const maxBody = 64 << 10

// authed checks the bearer key, the key's rate and its scope before the
// handler runs.
func (e *Emulator) authed(scope string, h func(http.ResponseWriter, *http.Request, Key)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		k, known := e.key(secret)
		if !ok || !known {
			writeError(w, http.StatusUnauthorized, "unauthorized", "Missing or invalid Authorization header.")
			return
		}
		if wait, ok := e.limit.allow(secret, e.o.Now()); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			if secs < 1 {
				secs = 1
			}
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, "rate_limited",
				fmt.Sprintf("Rate limit exceeded: %d requests per %s. Retry in %d s.", e.o.Rate, per(e.o.RateWindow), secs))
			return
		}
		if !k.has(scope) {
			writeError(w, http.StatusForbidden, "insufficient_scope", "This API key lacks the "+scope+" scope.")
			return
		}
		h(w, r, k)
	}
}

// per names a rate window: "minute", or a duration.
func per(window time.Duration) string {
	if window == time.Minute {
		return "minute"
	}
	return window.String()
}

// createRequest is the body of POST /api/v1/files in either flow; the
// fields present tell which.
type createRequest struct {
	CiphertextSize *int64  `json:"ciphertext_size"`
	Filename       *string `json:"filename"`
	FileSize       *int64  `json:"file_size"`
	TTLHours       *int    `json:"ttl_hours"`
}

func (e *Emulator) createFile(w http.ResponseWriter, r *http.Request, k Key) {
	var req createRequest
	if !decodeBody(w, r, &req) {
		return
	}
	ttl := e.o.PlanMaxTTL
	if req.TTLHours != nil {
		ttl = *req.TTLHours
	}
	if ttl <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_ttl", "ttl_hours must be a positive number of hours.")
		return
	}
	if ttl > e.o.PlanMaxTTL {
		writeError(w, http.StatusBadRequest, "invalid_ttl", fmt.Sprintf("TTL above plan maximum (%d hours)", e.o.PlanMaxTTL))
		return
	}

	s := &slot{key: k, ttlHours: ttl}
	switch {
	case req.CiphertextSize != nil && req.Filename == nil && req.FileSize == nil:
		s.flow, s.size = flowEncrypted, *req.CiphertextSize
		if s.size <= 0 {
			writeError(w, http.StatusBadRequest, "invalid_size", "ciphertext_size must be a positive number of bytes.")
			return
		}
		s.fileKey = k.OrgID + "/" + randomHex(12) + ".knf"
	case req.CiphertextSize == nil && req.Filename != nil && req.FileSize != nil:
		s.flow, s.size, s.fileName = flowPlain, *req.FileSize, *req.Filename
		if s.fileName == "" || s.size < 0 {
			writeError(w, http.StatusBadRequest, "invalid_request", "filename must not be empty and file_size must not be negative.")
			return
		}
		s.fileKey = k.OrgID + "/" + randomHex(12)
		s.meta = map[string]string{
			"x-amz-meta-user-id":         k.UserID,
			"x-amz-meta-ttl-hours":       strconv.Itoa(ttl),
			"x-amz-meta-organization-id": k.OrgID,
		}
	default:
		writeError(w, http.StatusBadRequest, "invalid_request",
			"Send either ciphertext_size (encrypted upload) or filename and file_size (plain upload), with an optional ttl_hours.")
		return
	}
	if s.size > e.o.MaxSize {
		writeError(w, http.StatusRequestEntityTooLarge, "file_too_large",
			fmt.Sprintf("The file is %d bytes; the limit is %d bytes.", s.size, e.o.MaxSize))
		return
	}

	header := s.meta
	if s.flow == flowEncrypted {
		header = map[string]string{
			"Content-Type":               "application/octet-stream",
			"x-amz-meta-organization-id": k.OrgID,
		}
	}
	uploadURL, err := e.signer.PresignPut(r.Context(), apiurl.Put{
		Bucket: e.o.Store.Bucket, Key: s.fileKey, Header: header, Expires: e.o.UploadExpires,
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", "Could not sign the upload URL.")
		return
	}
	e.mu.Lock()
	e.slots[s.fileKey] = s
	e.mu.Unlock()

	if s.flow == flowEncrypted {
		writeJSON(w, http.StatusCreated, map[string]any{
			"upload_url":        uploadURL,
			"file_key":          s.fileKey,
			"upload_headers":    header,
			"upload_expires_in": int(e.o.UploadExpires / time.Second),
		})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"upload_url":       uploadURL,
		"file_key":         s.fileKey,
		"poll_url":         e.origin(r) + "/api/v1/files/" + url.PathEscape(s.fileKey) + "/status",
		"metadata_headers": header,
	})
}

// slotFor finds the caller's slot of the given flow; another organization's
// or the other flow's is "not found".
func (e *Emulator) slotFor(r *http.Request, k Key, f flow) *slot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.slots[r.PathValue("file_key")]
	if s == nil || s.flow != f || s.key.OrgID != k.OrgID {
		return nil
	}
	return s
}

func (e *Emulator) completeFile(w http.ResponseWriter, r *http.Request, k Key) {
	if n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, 1)); n > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "complete takes no body.")
		return
	}
	s := e.slotFor(r, k, flowEncrypted)
	if s == nil {
		writeError(w, http.StatusNotFound, "not_found", "No upload with this file_key.")
		return
	}
	if sh := e.shareOf(s); sh != nil {
		e.writeCompleted(w, r, sh)
		return
	}
	obj, err := e.store.head(r.Context(), s.fileKey)
	switch {
	case errors.Is(err, errNoObject):
		writeError(w, http.StatusConflict, "upload_incomplete", "The ciphertext has not been uploaded yet.")
		return
	case err != nil:
		writeError(w, http.StatusBadGateway, "storage_unavailable", "The file store did not answer; try again.")
		return
	case obj.size != s.size:
		writeError(w, http.StatusConflict, "upload_incomplete",
			fmt.Sprintf("The upload holds %d bytes; ciphertext_size was %d.", obj.size, s.size))
		return
	}
	e.writeCompleted(w, r, e.makeShare(s))
}

func (e *Emulator) writeCompleted(w http.ResponseWriter, r *http.Request, sh *share) {
	writeJSON(w, http.StatusCreated, map[string]any{
		"download_url":  e.downloadURL(r, sh),
		"file_id":       sh.fileID,
		"expires_at":    sh.expiresAt.Format(time.RFC3339),
		"verified_burn": !e.o.NoShareRecords,
	})
}

func (e *Emulator) downloadURL(r *http.Request, sh *share) string {
	return e.origin(r) + "/#t=" + url.QueryEscape(sh.token)
}

func (e *Emulator) shareOf(s *slot) *share {
	e.mu.Lock()
	defer e.mu.Unlock()
	return s.share
}

// makeShare completes s once; a second call returns the first share.
func (e *Emulator) makeShare(s *slot) *share {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.share != nil {
		return s.share
	}
	now := e.o.Now().UTC().Truncate(time.Second)
	sh := &share{
		token:     newToken(),
		orgID:     s.key.OrgID,
		userID:    s.key.UserID,
		fileKey:   s.fileKey,
		size:      s.size,
		createdAt: now,
		expiresAt: now.Add(time.Duration(s.ttlHours) * time.Hour),
	}
	if !e.o.NoShareRecords {
		sh.fileID = "file_" + randomHex(8)
	}
	s.share = sh
	e.shares[sh.token] = sh
	return sh
}

// newToken is a one-time download token; its padding always needs
// escaping in a link (see the package doc).
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "emu." + base64.StdEncoding.EncodeToString(b)
}

func (e *Emulator) fileStatus(w http.ResponseWriter, r *http.Request, k Key) {
	s := e.slotFor(r, k, flowPlain)
	if s == nil {
		writeError(w, http.StatusNotFound, "not_found", "No upload with this file_key.")
		return
	}
	if sh := e.shareOf(s); sh != nil {
		e.writeStatusComplete(w, r, s, sh)
		return
	}
	obj, err := e.store.head(r.Context(), s.fileKey)
	switch {
	case errors.Is(err, errNoObject):
		writeProcessing(w, "Waiting for the upload.")
		return
	case err != nil:
		writeError(w, http.StatusBadGateway, "storage_unavailable", "The file store did not answer; try again.")
		return
	case obj.size != s.size:
		writeProcessing(w, fmt.Sprintf("The upload holds %d bytes of %d.", obj.size, s.size))
		return
	}
	for name, want := range s.meta {
		if obj.meta[name] != want {
			writeProcessing(w, "The upload lacks its metadata header "+name+"; upload it again with metadata_headers.")
			return
		}
	}
	e.mu.Lock()
	s.polls++
	still := s.polls <= e.o.ProcessingPolls
	e.mu.Unlock()
	if still {
		writeProcessing(w, "Encrypting the file.")
		return
	}
	e.writeStatusComplete(w, r, s, e.makeShare(s))
}

func writeProcessing(w http.ResponseWriter, message string) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "processing", "message": message})
}

func (e *Emulator) writeStatusComplete(w http.ResponseWriter, r *http.Request, s *slot, sh *share) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status":        "complete",
		"file_id":       sh.fileID,
		"file_name":     s.fileName,
		"share_url":     e.downloadURL(r, sh),
		"expires_at":    sh.expiresAt.Format(time.RFC3339),
		"verified_burn": !e.o.NoShareRecords,
	})
}

// download is the recipient's endpoint: the stored bytes, once.
func (e *Emulator) download(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		writeError(w, http.StatusBadRequest, "invalid_request",
			"The download endpoint takes no Authorization header: the link alone grants access.")
		return
	}
	var req struct {
		T string `json:"t"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	sh := e.open(req.T)
	if sh == nil {
		writeError(w, http.StatusGone, "gone", "This link has already been used or has expired.")
		return
	}
	body, err := e.store.get(r.Context(), sh.fileKey)
	if err != nil {
		e.unopen(sh) // nothing was delivered: the link still works
		writeError(w, http.StatusBadGateway, "storage_unavailable", "The file store did not answer; try again.")
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(sh.size, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if n, err := io.Copy(w, body); err == nil && n == sh.size {
		// Burned: the bytes are gone once delivered. Detached from the
		// request, which is over for the client.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
		defer cancel()
		_ = e.store.remove(ctx, sh.fileKey)
	}
}

// open consumes a share's token: the share when it is still unopened and
// unexpired, else nil.
func (e *Emulator) open(token string) *share {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh := e.shares[token]
	if sh == nil || sh.opened || !e.o.Now().Before(sh.expiresAt) {
		return nil
	}
	sh.opened, sh.openedAt = true, e.o.Now().UTC().Truncate(time.Second)
	return sh
}

func (e *Emulator) unopen(sh *share) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh.opened, sh.openedAt = false, time.Time{}
}

// listShares is GET /api/v1/shares: the organization's shares, newest
// first, metadata only (no name, no link), filtered by type and status.
func (e *Emulator) listShares(w http.ResponseWriter, r *http.Request, k Key) {
	q := r.URL.Query()
	typ, status := q.Get("type"), q.Get("status")
	if typ != "" && typ != "file" && typ != "text" || status != "" && status != "active" && status != "accessed" {
		writeError(w, http.StatusBadRequest, "invalid_request", "type is file or text; status is active or accessed.")
		return
	}
	limit, offset := 50, 0
	for name, v := range map[string]*int{"limit": &limit, "offset": &offset} {
		if s := q.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || name == "limit" && (n < 1 || n > 100) {
				writeError(w, http.StatusBadRequest, "invalid_request", "limit is 1 to 100 and offset is 0 or more.")
				return
			}
			*v = n
		}
	}
	type item struct {
		Type          string  `json:"type"`
		FileSizeBytes int64   `json:"file_size_bytes"`
		CreatedAt     string  `json:"created_at"`
		ExpiresAt     string  `json:"expires_at"`
		AccessedAt    *string `json:"accessed_at"`
		CreatedBy     string  `json:"created_by"`
	}
	var all []share
	e.mu.Lock()
	for _, sh := range e.shares {
		if sh.orgID == k.OrgID && typ != "text" && (status == "" || (status == "accessed") == sh.opened) {
			all = append(all, *sh)
		}
	}
	e.mu.Unlock()
	sort.Slice(all, func(a, b int) bool { return all[a].createdAt.After(all[b].createdAt) })
	page := []item{}
	for _, sh := range all[min(offset, len(all)):min(offset+limit, len(all))] {
		it := item{Type: "file", FileSizeBytes: sh.size, CreatedAt: sh.createdAt.Format(time.RFC3339),
			ExpiresAt: sh.expiresAt.Format(time.RFC3339), CreatedBy: sh.userID}
		if sh.opened {
			at := sh.openedAt.Format(time.RFC3339)
			it.AccessedAt = &at
		}
		page = append(page, it)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"shares": page,
		"pagination": map[string]any{"total": len(all), "limit": limit, "offset": offset,
			"has_more": offset+len(page) < len(all)},
	})
}

// decodeBody reads a JSON body of at most maxBody bytes into v, refusing
// unknown fields and trailing data; on failure it has answered 400.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "The request body could not be read.")
		return false
	}
	if len(b) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is over 64 KiB.")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		msg := "The request body is not the JSON object this endpoint takes"
		if err != nil {
			msg += ": " + err.Error()
		}
		writeError(w, http.StatusBadRequest, "invalid_json", msg+".")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}
