// Package localstore is hoist's embedded S3-compatible store: gofakes3 with
// its filesystem backend, serving on loopback, so hoist works with nothing
// configured and files land as plain files a person can open.
//
// What gofakes3 v1.2.0 does with them (read in its source, measured in
// store_test.go):
//   - An object is the plain file <dir>/buckets/<bucket>/<key>, written by
//     streaming the request body to disk (io.Copy through an MD5 hasher); a
//     200 MiB PUT allocates ~0.2 MiB of Go heap in all. gofakes3 writes into
//     the final path and keeps a cut-short body; staging.go makes a PUT all
//     or nothing instead.
//   - Its metadata (x-amz-meta-*, x-amz-checksum-*, Content-Type…) is a JSON
//     file under <dir>/metadata/<bucket>/, named from the key and its hash.
//   - It checks no signatures, no expiry and no checksum header: it is a place
//     to put files, not a test of the request. Hence loopback only.
//   - Every PutObject runs under one backend lock held while it copies the
//     body (s3afero's MultiBucketBackend.PutObject; HEAD and GET take the
//     same lock), so uploads to it go one at a time: sent four at once, three
//     bodies wait in their connections with nothing moving once ~4 MiB of
//     each fill the loopback socket buffers (TestConcurrentPutsQueue), and
//     hoist sends it one at a time (OneAtATime). Multipart parts are kept in
//     memory and joined in memory, so it is only ever sent single PUTs
//     (there is no 5 GiB limit).
//   - Overwriting a key reads the old object's metadata through GetObject and
//     never closes that file; the descriptor lingers until garbage collection.
package localstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"

	"hoist/inspect"
)

// Bucket is the one bucket the store keeps files in.
const Bucket = "hoist"

// OneAtATime: the store serves one PUT at a time (gofakes3's backend lock,
// see the package doc), so a client should send it one at a time.
const OneAtATime = true

// Store is a running local store.
type Store struct {
	dir       string
	endpoint  string
	accessKey string
	secretKey string

	srv    *http.Server
	served chan error // Serve's result, once it returns

	closeOnce sync.Once
	closeErr  error
}

// Start creates dir (0700) with the bucket and serves on addr, which must be
// a loopback address; "" picks a free port on 127.0.0.1.
func Start(dir string, addr string) (*Store, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local store folder %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("creating the local store folder: %w; choose another with --local-dir", err)
	}

	// MultiBucket refuses a bare OsFs (it would own "/"); a base-path fs
	// keeps it inside dir, and staging makes every PUT all or nothing.
	backend, err := newStagedBackend(abs)
	if err != nil {
		return nil, fmt.Errorf("opening the local store in %s: %w", abs, err)
	}
	if err := backend.CreateBucket(Bucket); err != nil && !gofakes3.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating bucket %q in %s: %w", Bucket, abs, err)
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("local store cannot listen on %s: %w; pick a free address", addr, err)
	}

	s := &Store{
		dir:      abs,
		endpoint: "http://" + ln.Addr().String(),
		// gofakes3 checks no signatures: the keys only give the signer
		// something to sign with. Fresh ones per run leak nothing.
		accessKey: randomHex(10),
		secretKey: randomHex(20),
		srv: &http.Server{
			Handler:           noSpaceHandler{next: gofakes3.New(backend).Server(), dir: abs},
			ReadHeaderTimeout: 30 * time.Second,
		},
		served: make(chan error, 1),
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("local store address %q: %w; use host:port, e.g. 127.0.0.1:9000", addr, err)
	}
	if inspect.IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("local store address %q is not loopback: it accepts unsigned requests, so it listens on 127.0.0.1 or ::1 only", addr)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// Endpoint is the base URL, http://127.0.0.1:PORT; buckets are path-style.
func (s *Store) Endpoint() string { return s.endpoint }

// Bucket is the bucket files go to.
func (s *Store) Bucket() string { return Bucket }

// AccessKey and SecretKey are credentials a signer can use; the store does not check them.
func (s *Store) AccessKey() string { return s.accessKey }
func (s *Store) SecretKey() string { return s.secretKey }

// Dir is the store's folder, absolute.
func (s *Store) Dir() string { return s.dir }

// PathFor is the file an object with this key becomes, byte for byte.
// The key is cleaned the way gofakes3 cleans it (path.Join).
func (s *Store) PathFor(key string) string {
	return filepath.Join(s.dir, "buckets", filepath.FromSlash(path.Join(Bucket, key)))
}

// Close stops serving and releases the port. Uploads still running get a
// few seconds to finish before their connections are cut. Calling it again
// returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = s.srv.Close()
		}
		if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = fmt.Errorf("local store on %s: %w", s.endpoint, err)
		}
	})
	return s.closeErr
}
