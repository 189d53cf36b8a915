package main

import (
	"cmp"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The discarding server also answers the S3 calls hoist makes in --s3 mode
// around a multipart upload, the way S3 answers them, so one file far larger
// than tmpfs can hold (the multipart-discard scenario: a sparse 20 GiB) goes
// up in parts and nothing is kept but each part's size, ETag and CRC32.
// Like the single PUT, it checks no signature.
//
// Where it differs from S3, on purpose: a part's ETag is made from the
// upload, part number, size and CRC32, not the MD5 of its bytes (MD5 of
// 20 GiB would cost the bench process half a minute of the two cores the
// client is measured on); so the object's ETag, the MD5 of the parts' ETags,
// has S3's shape ("…-N") but not S3's value. The CRC32 a request signs as
// x-amz-checksum-crc32 is checked, as S3 checks it (400 BadDigest).

// s3Namespace is the XML namespace of every S3 answer.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// minS3PartSize is S3's smallest part but the last: a smaller one makes
// CompleteMultipartUpload fail with EntityTooSmall.
const minS3PartSize = 5 << 20

// fakeUpload is one multipart upload in progress: its parts' sizes, ETags and
// checksums, never their bytes.
type fakeUpload struct {
	key       string
	initiated time.Time
	algorithm string // x-amz-checksum-algorithm it was created with, e.g. CRC32
	parts     map[int]fakePart
}

type fakePart struct {
	size     int64
	etag     string // quoted, as S3 sends it
	crc32    string // base64, "" when the part carried none
	modified time.Time
}

// fakeObject is what HeadObject reports of a stored object.
type fakeObject struct {
	size     int64
	etag     string
	modified time.Time
}

// s3Call is the S3 operation a request is, by method and query (path style:
// /bucket/key).
func s3Call(r *http.Request, key string) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && key != "" && q.Has("uploadId") && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPut && key != "" && !q.Has("uploadId") && !q.Has("partNumber") &&
		r.Header.Get("X-Amz-Copy-Source") == "":
		return "PutObject"
	case r.Method == http.MethodPost && key != "" && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && key != "" && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && key != "" && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodGet && key != "" && q.Has("uploadId"):
		return "ListParts"
	case r.Method == http.MethodGet && key == "" && q.Has("uploads"):
		return "ListMultipartUploads"
	case r.Method == http.MethodHead && key != "" && len(q) == 0:
		return "HeadObject"
	}
	return ""
}

func (d *discardServer) createMultipartUpload(w http.ResponseWriter, r *http.Request, key string) {
	algorithm := strings.ToUpper(r.Header.Get("X-Amz-Checksum-Algorithm"))
	if algorithm != "" && algorithm != "CRC32" {
		// S3 knows more (CRC32C, SHA1, SHA256, CRC64NVME); hoist sends CRC32.
		d.refuse(w, r, http.StatusNotImplemented, "NotImplemented", "the bench's discarding server checks CRC32 only, not "+algorithm)
		return
	}
	id := randomHex(24)
	d.mu.Lock()
	d.uploads[id] = &fakeUpload{key: key, initiated: time.Now().UTC(), algorithm: algorithm, parts: map[int]fakePart{}}
	d.mu.Unlock()
	if algorithm != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", algorithm)
		w.Header().Set("X-Amz-Checksum-Type", "COMPOSITE")
	}
	writeXML(w, http.StatusOK, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}{NS: s3Namespace, Bucket: bucket, Key: key, UploadID: id})
}

func (d *discardServer) uploadPart(w http.ResponseWriter, r *http.Request, key string) {
	q := r.URL.Query()
	id := q.Get("uploadId")
	number, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || number < 1 || number > 10_000 {
		d.refuse(w, r, http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
		return
	}
	if !d.hasUpload(id, key) {
		// S3 reads no body it will not keep: the connection closes after.
		d.refuse(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	}
	n, sum, ok := d.readBody(w, r)
	if !ok {
		return
	}
	etag := fmt.Sprintf(`"%x"`, md5.Sum(fmt.Appendf(nil, "%s/%d/%d/%s", id, number, n, sum)))
	d.mu.Lock()
	u, found := d.uploads[id]
	if found {
		// A part sent again replaces the one before, as in S3.
		u.parts[number] = fakePart{size: n, etag: etag, crc32: sum, modified: time.Now().UTC()}
	}
	d.mu.Unlock()
	if !found { // aborted or completed while its body was read
		d.refuse(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
}

// completedPart is one <Part> of a CompleteMultipartUpload request.
type completedPart struct {
	PartNumber    int
	ETag          string
	ChecksumCRC32 string
}

func (d *discardServer) completeMultipartUpload(w http.ResponseWriter, r *http.Request, key string) {
	var req struct {
		XMLName xml.Name        `xml:"CompleteMultipartUpload"`
		Parts   []completedPart `xml:"Part"`
	}
	// The list of 10,000 parts is under 2 MiB.
	if err := xml.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&req); err != nil || len(req.Parts) == 0 {
		d.refuse(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		return
	}
	id := r.URL.Query().Get("uploadId")
	d.mu.Lock()
	u, ok := d.uploads[id]
	if !ok || u.key != key {
		d.mu.Unlock()
		d.refuse(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	}
	size, etag, crc, code, msg := u.join(req.Parts)
	if code != "" {
		d.mu.Unlock()
		d.refuse(w, r, http.StatusBadRequest, code, msg)
		return
	}
	// The parts not named are discarded with the upload, as in S3.
	delete(d.uploads, id)
	d.store(key, fakeObject{size: size, etag: etag, modified: time.Now().UTC()})
	d.mu.Unlock()

	res := struct {
		XMLName       xml.Name `xml:"CompleteMultipartUploadResult"`
		NS            string   `xml:"xmlns,attr"`
		Location      string
		Bucket        string
		Key           string
		ETag          string
		ChecksumCRC32 string `xml:",omitempty"`
		ChecksumType  string `xml:",omitempty"`
	}{NS: s3Namespace, Location: d.url + "/" + bucket + "/" + key, Bucket: bucket, Key: key, ETag: etag, ChecksumCRC32: crc}
	if crc != "" {
		res.ChecksumType = "COMPOSITE"
	}
	writeXML(w, http.StatusOK, res)
}

// join checks the parts a CompleteMultipartUpload names against those
// received, as S3 does, and returns the object's size, ETag and composite
// CRC32; or the S3 error code and message that refuse it.
func (u *fakeUpload) join(named []completedPart) (size int64, etag, crc, code, msg string) {
	etags := md5.New()
	crcs := crc32.NewIEEE()
	for i, p := range named {
		if i > 0 && p.PartNumber <= named[i-1].PartNumber {
			return 0, "", "", "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number."
		}
		got, ok := u.parts[p.PartNumber]
		if !ok || strings.Trim(p.ETag, `"`) != strings.Trim(got.etag, `"`) {
			return 0, "", "", "InvalidPart", fmt.Sprintf("Part %d could not be found, or its ETag does not match the part's.", p.PartNumber)
		}
		if u.algorithm != "" && p.ChecksumCRC32 != got.crc32 {
			return 0, "", "", "InvalidPart", fmt.Sprintf("Part %d: the checksum %q given does not match the part's %q.", p.PartNumber, p.ChecksumCRC32, got.crc32)
		}
		if i < len(named)-1 && got.size < minS3PartSize {
			return 0, "", "", "EntityTooSmall", fmt.Sprintf("Your proposed upload is smaller than the minimum allowed size: part %d is %d bytes, at least 5 MiB is needed but for the last part.", p.PartNumber, got.size)
		}
		raw, _ := hex.DecodeString(strings.Trim(got.etag, `"`))
		etags.Write(raw)
		if c, err := base64.StdEncoding.DecodeString(got.crc32); err == nil {
			crcs.Write(c)
		}
		size += got.size
	}
	etag = fmt.Sprintf(`"%x-%d"`, etags.Sum(nil), len(named))
	if u.algorithm != "" {
		crc = base64.StdEncoding.EncodeToString(crcs.Sum(nil)) + "-" + strconv.Itoa(len(named))
	}
	return size, etag, crc, "", ""
}

func (d *discardServer) abortMultipartUpload(w http.ResponseWriter, r *http.Request, key string) {
	id := r.URL.Query().Get("uploadId")
	d.mu.Lock()
	u, ok := d.uploads[id]
	if ok && u.key == key {
		delete(d.uploads, id)
	}
	d.mu.Unlock()
	if !ok || u.key != key {
		d.refuse(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// xmlPart is a part as ListParts lists it.
type xmlPart struct {
	PartNumber    int
	LastModified  string
	ETag          string
	Size          int64
	ChecksumCRC32 string `xml:",omitempty"`
}

func (d *discardServer) listParts(w http.ResponseWriter, r *http.Request, key string) {
	q := r.URL.Query()
	id := q.Get("uploadId")
	marker, _ := strconv.Atoi(q.Get("part-number-marker"))
	limit := 1000
	if v, err := strconv.Atoi(q.Get("max-parts")); err == nil && v >= 0 && v < limit {
		limit = v
	}
	d.mu.Lock()
	u, ok := d.uploads[id]
	var parts []xmlPart
	var algorithm string
	if ok && u.key == key {
		algorithm = u.algorithm
		for n, p := range u.parts {
			if n > marker {
				parts = append(parts, xmlPart{PartNumber: n, LastModified: s3Time(p.modified), ETag: p.etag, Size: p.size, ChecksumCRC32: p.crc32})
			}
		}
	}
	d.mu.Unlock()
	if !ok || u.key != key {
		d.refuse(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	}
	slices.SortFunc(parts, func(a, b xmlPart) int { return cmp.Compare(a.PartNumber, b.PartNumber) })
	truncated := len(parts) > limit
	parts = parts[:min(len(parts), limit)]
	next := marker
	if len(parts) > 0 {
		next = parts[len(parts)-1].PartNumber
	}
	writeXML(w, http.StatusOK, struct {
		XMLName              xml.Name `xml:"ListPartsResult"`
		NS                   string   `xml:"xmlns,attr"`
		Bucket               string
		Key                  string
		UploadID             string `xml:"UploadId"`
		PartNumberMarker     int
		NextPartNumberMarker int
		MaxParts             int
		IsTruncated          bool
		ChecksumAlgorithm    string `xml:",omitempty"`
		StorageClass         string
		Parts                []xmlPart `xml:"Part"`
	}{NS: s3Namespace, Bucket: bucket, Key: key, UploadID: id, PartNumberMarker: marker, NextPartNumberMarker: next,
		MaxParts: limit, IsTruncated: truncated, ChecksumAlgorithm: algorithm, StorageClass: "STANDARD", Parts: parts})
}

func (d *discardServer) listMultipartUploads(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	type xmlUpload struct {
		Key          string
		UploadID     string `xml:"UploadId"`
		Initiated    string
		StorageClass string
		initiated    time.Time
	}
	var ups []xmlUpload
	d.mu.Lock()
	for id, u := range d.uploads {
		if strings.HasPrefix(u.key, prefix) {
			ups = append(ups, xmlUpload{Key: u.key, UploadID: id, Initiated: s3Time(u.initiated), StorageClass: "STANDARD", initiated: u.initiated})
		}
	}
	d.mu.Unlock()
	// S3 lists by key, then by when each began; a bench run has a handful,
	// never a page's worth (1,000), so there is no next page.
	slices.SortFunc(ups, func(a, b xmlUpload) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), a.initiated.Compare(b.initiated))
	})
	writeXML(w, http.StatusOK, struct {
		XMLName     xml.Name `xml:"ListMultipartUploadsResult"`
		NS          string   `xml:"xmlns,attr"`
		Bucket      string
		KeyMarker   string
		Prefix      string
		MaxUploads  int
		IsTruncated bool
		Uploads     []xmlUpload `xml:"Upload"`
	}{NS: s3Namespace, Bucket: bucket, Prefix: prefix, MaxUploads: 1000, Uploads: ups})
}

func (d *discardServer) headObject(w http.ResponseWriter, key string) {
	d.mu.Lock()
	o, ok := d.objects[key]
	d.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound) // a HEAD's answer has no body to say NoSuchKey in
		return
	}
	w.Header().Set("Content-Length", strconv.FormatInt(o.size, 10))
	w.Header().Set("ETag", o.etag)
	w.Header().Set("Last-Modified", o.modified.Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
}

// store keeps key's size and ETag, and counts it under its run's prefix
// (/bench/<scenario>/<run>/<file>: all but the file). With d.mu held.
func (d *discardServer) store(key string, o fakeObject) {
	d.objects[key] = o
	prefix := key[:max(strings.LastIndex(key, "/"), 0)]
	d.bodies[prefix]++
	d.bytes[prefix] += o.size
}

func (d *discardServer) hasUpload(id, key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.uploads[id]
	return ok && u.key == key
}

// readBody reads a PUT's body to its end and checks it against its
// Content-Length and the CRC32 it signs, answering S3's error when either is
// wrong. It returns the bytes read and their CRC32 in base64 ("" when the
// request carried none).
func (d *discardServer) readBody(w http.ResponseWriter, r *http.Request) (int64, string, bool) {
	if r.ContentLength < 0 {
		d.refuse(w, r, http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
		return 0, "", false
	}
	want := r.Header.Get("X-Amz-Checksum-Crc32")
	var h hash.Hash32
	if want != "" && !d.echoCRC {
		h = crc32.NewIEEE()
	}
	bp := discardBufs.Get().(*[]byte)
	n, err := readAll(r.Body, *bp, h)
	discardBufs.Put(bp)
	if err != nil || n != r.ContentLength {
		d.refuse(w, r, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return n, "", false
	}
	if want == "" {
		return n, "", true
	}
	if d.echoCRC {
		w.Header().Set("X-Amz-Checksum-Crc32", want)
		return n, want, true
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], h.Sum32())
	got := base64.StdEncoding.EncodeToString(sum[:])
	if got != want {
		d.refuse(w, r, http.StatusBadRequest, "BadDigest", "The CRC32 you specified did not match the calculated checksum.")
		return n, "", false
	}
	w.Header().Set("X-Amz-Checksum-Crc32", got)
	return n, got, true
}

// refuse answers S3's error document (no body to a HEAD). A request the
// server has no answer for is also kept, so the run that made it fails with
// what to add here rather than with a puzzling 501 from deep inside a tool.
func (d *discardServer) refuse(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeXML(w, status, struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: msg})
}

// unanswered records a request no case of serve knows: its method, path and
// query names (never their values: a presigned query holds a signature).
func (d *discardServer) unanswered(w http.ResponseWriter, r *http.Request) {
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range r.URL.Query() {
			if !yield(name) {
				return
			}
		}
	})
	what := r.Method + " " + r.URL.Path
	if len(names) > 0 {
		what += " ?" + strings.Join(names, "&")
	}
	d.mu.Lock()
	if len(d.unknown) < 10 {
		d.unknown = append(d.unknown, what)
	}
	d.mu.Unlock()
	d.refuse(w, r, http.StatusNotImplemented, "NotImplemented",
		"the bench's discarding S3 server has no answer for "+what+": add one in bench/discard_multipart.go")
}

// unansweredRequests are the requests the server could not answer, at most ten.
func (d *discardServer) unansweredRequests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.unknown)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}

// s3Time is S3's XML timestamp: ISO 8601 with milliseconds.
func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
