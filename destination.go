package main

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hoist/config"
	"hoist/fileset"
	"hoist/inspect"
	"hoist/konfidant"
	"hoist/localstore"
	"hoist/source"
	"hoist/uploader"
)

// destination is the source chosen by the settings, with what main needs
// around it: the files a manifest fixes, the embedded store to close, and the
// given URLs to check before sending.
type destination struct {
	src   uploader.Source
	given *source.Given     // --url, --manifest
	store *localstore.Store // nothing configured
	files *fileset.List     // fixed by --url/--manifest; nil when PATHs or the picker choose
	close []func() error
	// sendsToken: a bearer token is set, and given URLs get it.
	sendsToken bool
	// shares: the source makes a share link per file (Konfidant).
	shares bool

	givenOnce sync.Once
	givenSum  givenSummary
}

func (d *destination) Close() {
	for _, c := range d.close {
		_ = c()
	}
}

// openDestination builds the source the settings describe: given URLs, S3
// credentials, or the embedded local store when nothing is configured.
func openDestination(ctx context.Context, cfg *config.Config, getenv env) (*destination, error) {
	d := &destination{sendsToken: cfg.Token != ""}
	switch {
	case cfg.URL != "":
		path := cfg.Paths[0]
		g, err := source.NewGiven([]source.Entry{{Path: path, URL: cfg.URL}})
		if err != nil {
			return nil, err
		}
		d.src, d.given = g, g
		d.files = &fileset.List{}
		if err := givenFile(d.files, path); err != nil {
			return nil, err
		}
	case cfg.Manifest != "":
		// The manifest stays open: its URLs are read again as files are sent.
		files := &fileset.List{}
		g, err := source.OpenManifest(cfg.Manifest, func(p string) error { return givenFile(files, p) })
		if err != nil {
			return nil, err
		}
		files.Trim()
		d.src, d.given, d.files = g, g, files
		d.close = append(d.close, g.Close)
	case cfg.S3 != "":
		bucket, prefix, err := source.ParseS3URI(cfg.S3)
		if err != nil {
			return nil, err
		}
		s, err := source.NewS3(ctx, source.S3Config{
			Bucket: bucket, Prefix: prefix, EndpointURL: cfg.EndpointURL,
			Region: cfg.Region, Profile: cfg.Profile,
			PathStyle: cfg.EndpointURL != "", Multipart: true,
		})
		if err != nil {
			return nil, err
		}
		d.src = s
		d.close = append(d.close, s.Close)
	case cfg.Konfidant:
		api, err := konfidant.New(konfidant.Config{
			// No retries of its own: the engine retries the source's calls
			// by --retries, as every other call, and reports each retry.
			APIURL: cfg.APIURL, APIKey: cfg.Token, KeySource: cfg.TokenSource(), Rate: float64(cfg.APIRate),
		})
		if err != nil {
			return nil, err
		}
		s, err := source.NewKonfidant(api, cfg.KonfidantProtocol)
		if err != nil {
			return nil, err
		}
		d.src, d.shares = s, true
		// The key goes to the API only, never to an upload URL.
		d.sendsToken = false
	case cfg.PresignURL != "":
		s, err := source.NewCompanion(source.CompanionConfig{Endpoint: cfg.PresignURL, Token: cfg.Token, Multipart: true})
		if err != nil {
			return nil, err
		}
		d.src = s
	default:
		st, s, err := openLocalStore(ctx, cfg.LocalDir, "")
		if err != nil {
			return nil, err
		}
		d.store, d.src = st, s
		d.close = append(d.close, s.Close, st.Close)
	}
	return d, nil
}

// openLocalStore starts the embedded store and a source that presigns for it
// exactly as for S3: the same path a real bucket takes.
func openLocalStore(ctx context.Context, dir, addr string) (*localstore.Store, *source.S3, error) {
	st, err := localstore.Start(dir, addr)
	if err != nil {
		return nil, nil, fmt.Errorf("starting the local store in %s: %w", dir, err)
	}
	s, err := source.NewS3(ctx, source.S3Config{
		Bucket: st.Bucket(), EndpointURL: st.Endpoint(),
		AccessKey: st.AccessKey(), SecretKey: st.SecretKey(),
		PathStyle: true, MaxSinglePut: -1, Location: st.PathFor,
		// gofakes3 assembles multipart objects in memory: never send it parts.
		Multipart: false,
		// and it reads one body at a time: the others would wait inside it
		// with nothing moving, taken for stalls (issue 14 item 4).
		OneAtATime: localstore.OneAtATime,
	})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, s, nil
}

// metadataRequirer is a source that knows which metadata it needs (an API
// that hands out URLs and says what they sign).
type metadataRequirer interface {
	RequiredMetadata() []string
}

// allMetadata is what the API hoist was built for signs into every URL.
var allMetadata = []string{uploader.HeaderOrgID, uploader.HeaderUserID, uploader.HeaderTTLHours}

// required lists the metadata headers that must be set before sending: the
// one rule the TUI's form and headless preflight both follow. Given URLs
// need what they sign; the embedded local store needs none (the form still
// offers the three, each optional); a source that
// says what it needs is asked; S3 credentials and a presign service (--s3,
// --presign-url) send the three the API signs, which is nil here, as
// ui.Options.Required reads it ("all three; the source signs them"); any
// other source needs none unless it says so.
func (d *destination) required() []string {
	switch {
	case d.shares:
		// Konfidant knows the organization and the user from the API key:
		// only the share's lifetime is asked.
		return []string{uploader.HeaderTTLHours}
	case d.store != nil:
		return []string{}
	case d.given == nil:
		switch src := d.src.(type) {
		case metadataRequirer:
			return src.RequiredMetadata()
		case *source.S3, *source.Companion:
			return nil
		}
		return []string{} // a source that does not say needs nothing
	}
	return d.givenURLs().required
}

// givenSummary is what the given URLs say as a whole: the metadata they
// sign and when the first stops working.
type givenSummary struct {
	required []string
	expires  time.Time
}

// givenURLs reads every given URL once, for both required and expires: a
// manifest's URLs are read again from its file, and at 10,000 lines each
// pass cost the terminal UI 0.2 s of CPU before sending.
func (d *destination) givenURLs() givenSummary {
	d.givenOnce.Do(func() {
		seen := map[string]bool{}
		g := givenSummary{required: []string{}} // URLs that sign no metadata: ask for nothing
		for i := range d.files.Len() {
			r, ok := d.given.Report(d.files.At(i).Path)
			if !ok {
				continue
			}
			for _, h := range r.SignedHeaders {
				if strings.HasPrefix(h, "x-amz-meta-") && !seen[h] {
					seen[h] = true
					g.required = append(g.required, h)
				}
			}
			if !r.ExpiresAt.IsZero() && (g.expires.IsZero() || r.ExpiresAt.Before(g.expires)) {
				g.expires = r.ExpiresAt
			}
		}
		d.givenSum = g
	})
	return d.givenSum
}

// formIntro is what the form says above its fields, when the source has
// its own reason for what is asked; "" leaves the form's default.
func (d *destination) formIntro() string {
	if d.shares {
		return "Konfidant knows who you are from the API key: only the links' lifetime is asked."
	}
	return ""
}

// expires is when the first of the given URLs stops working; zero when the
// source signs its own.
func (d *destination) expires() time.Time {
	if d.given == nil {
		return time.Time{}
	}
	return d.givenURLs().expires
}

// problem is one thing found before sending.
type problem struct {
	File    string
	Error   bool
	Message string
}

// preflight checks given URLs against the files and metadata before a byte
// is sent: expiry, headers the URL signs, pinned checksums, size. A file
// whose URL pins a checksum (other than the empty body's) is read once here,
// so a URL made for other content is refused before sending (exit 2), not
// found out by the engine as a failed upload.
func (d *destination) preflight(ctx context.Context, files *fileset.List, md uploader.Metadata) []problem {
	var out []problem
	for i := range files.Len() {
		f := files.At(i)
		if err := fileset.TooLarge(f.Size); err != nil {
			out = append(out, problem{File: f.Name, Error: true, Message: err.Error()})
		}
		if d.store != nil {
			if err := localstore.CheckKey(f.Key); err != nil {
				out = append(out, problem{File: f.Name, Error: true, Message: err.Error()})
			}
		}
	}
	if d.shares {
		// Konfidant's TTL may be left to the plan's default headless; the
		// API checks it against the plan and its answer is explained.
		return out
	}
	if d.given == nil {
		// Given URLs are checked per file below, against what each signs.
		have := md.Values()
		req := d.required()
		if req == nil {
			req = allMetadata
		}
		for _, h := range req {
			if have[h] == "" {
				flag := strings.TrimPrefix(inspect.MetadataFlag(h), "--")
				out = append(out, problem{Error: true, Message: fmt.Sprintf("uploads to %s carry %s, and it is not set; set %s",
					d.src.Describe(), h, config.WaysToSet(flag))})
			}
		}
		return out
	}
	return append(out, d.checkGiven(ctx, files, md)...)
}

// checkGiven is preflight's check of each file against its given URL, in
// the files' order. A manifest's line is read again for each file (a read,
// a decode and a parse: 1.5 s of CPU at 100,000 files, all before the first
// byte is sent), so the files are checked by a worker per CPU, a chunk at
// a time.
func (d *destination) checkGiven(ctx context.Context, files *fileset.List, md uploader.Metadata) []problem {
	const chunk = 1024
	now := time.Now()
	values := md.Values()
	chunks := make([][]problem, (files.Len()+chunk-1)/chunk)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunks)) {
		wg.Go(func() {
			for c := int(next.Add(1) - 1); c < len(chunks); c = int(next.Add(1) - 1) {
				for i := c * chunk; i < min(files.Len(), (c+1)*chunk); i++ {
					chunks[c] = d.checkGivenFile(ctx, chunks[c], files.At(i), values, now)
				}
			}
		})
	}
	wg.Wait()
	return slices.Concat(chunks...)
}

// checkGivenFile appends to out what is wrong with sending f to its URL.
func (d *destination) checkGivenFile(ctx context.Context, out []problem, f uploader.File, md map[string]string, now time.Time) []problem {
	r, ok := d.given.Report(f.Path)
	if !ok {
		return append(out, problem{File: f.Name, Error: true, Message: "no upload URL was given for it"})
	}
	plan := inspect.Plan{
		Now: now, FileName: f.Name, HasFile: true, FileSize: f.Size,
		Metadata: md, MaxSinglePut: inspect.S3MaxSinglePut,
	}
	if r.PinnedCRC32 != "" && r.PinnedCRC32 != inspect.EmptyCRC32 {
		// Unreadable now: the engine finds it and says so in the file's words.
		if crc, err := fileCRC32(ctx, f.Path); err == nil {
			plan.CRC32, plan.HasCRC32 = crc, true
		}
	}
	for _, p := range r.Check(plan) {
		if p.Code == inspect.CodeInsecure && d.sendsToken {
			// The engine would refuse at send time; say it before.
			p.Severity = inspect.Error
			p.Message = fmt.Sprintf("the URL is plain http:// to %s, and hoist never sends the bearer token unencrypted to another machine; ask for an https:// URL, or unset HOIST_TOKEN if that server needs no token", r.Host)
		}
		out = append(out, problem{File: f.Name, Error: p.Severity == inspect.Error, Message: p.Message})
	}
	return out
}

// groupProblems says once what many files share: a manifest of 2,000 URLs
// made the same way has the same problem 2,000 times.
func groupProblems(ps []problem) []problem {
	type key struct {
		err bool
		msg string
	}
	count := map[key]int{}
	for _, p := range ps {
		count[key{p.Error, p.Message}]++
	}
	var out []problem
	seen := map[key]bool{}
	for _, p := range ps {
		k := key{p.Error, p.Message}
		if seen[k] {
			continue
		}
		seen[k] = true
		if n := count[k]; n > 1 {
			p.File = fmt.Sprintf("%s and %d other files", p.File, n-1)
		}
		out = append(out, p)
	}
	return out
}

// checkKeys refuses two files that would land on the same object key. It
// keeps a 64-bit hash of each key, not the key (at 100,000 files a map of
// the keys was about 10 MB, issue 15), and compares the keys themselves
// only where two hashes are equal.
func checkKeys(files *fileset.List, d *destination) error {
	seed := maphash.MakeSeed()
	type keyHash struct {
		hash uint64
		file int32
	}
	hashes := make([]keyHash, files.Len())
	for i := range hashes {
		f := files.At(i)
		h, ok := uint64(0), false
		if d.given != nil {
			h, ok = d.given.ObjectKeyHash(f.Path) // without parsing every URL again
		}
		if !ok {
			h = maphash.String(seed, f.Key)
		}
		hashes[i] = keyHash{h, int32(i)}
	}
	slices.SortFunc(hashes, func(a, b keyHash) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.file, b.file)) })
	first, second := -1, -1 // the duplicate whose second file comes first
	for k := 1; k < len(hashes); k++ {
		for m := k - 1; m >= 0 && hashes[m].hash == hashes[k].hash; m-- {
			i, j := int(hashes[m].file), int(hashes[k].file)
			if (second < 0 || j < second) && d.objectKey(files.At(i)) == d.objectKey(files.At(j)) {
				first, second = i, j
			}
		}
	}
	if second >= 0 {
		a, b := files.At(first), files.At(second)
		return fmt.Errorf("%s and %s would both be uploaded as %q; rename one or upload them separately", a.Name, b.Name, d.objectKey(b))
	}
	return nil
}

// objectKey is where f lands, for telling two files' places apart: the
// host, bucket and key of a given URL, else the key hoist gives it.
func (d *destination) objectKey(f uploader.File) string {
	if d.given != nil {
		if r, ok := d.given.Report(f.Path); ok {
			return source.ObjectKey(r)
		}
	}
	return f.Key
}
