package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hoist/internal/apiurl"
)

const (
	bucket = "bench"
	region = "auto"
)

// metadata is what every presigned URL signs, as the API's URLs do; hoist
// fills it from flags and curl from -H.
var metadata = [][2]string{
	{"x-amz-meta-organization-id", "org-bench"},
	{"x-amz-meta-ttl-hours", "48"},
	{"x-amz-meta-user-id", "u-bench"},
}

// server is one versitygw with a posix backend: objects are plain files under
// dir/<bucket>/<key>, so a run is checked and cleared on disk.
type server struct {
	endpoint          string
	accessKey, secret string
	dir               string
	cmd               *exec.Cmd
	exited            chan struct{}
}

func startServer(ctx context.Context, bin, dir string) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &server{accessKey: "AKIDBENCH" + randomHex(6), secret: randomHex(20), dir: dir}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.endpoint = "http://" + addr
	// --quiet: a log line per request would be server work every tool pays
	// for, most in the many-small-files scenario.
	s.cmd = exec.Command(bin, "--quiet", "--port", addr, "--region", region, "posix", dir)
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.accessKey, "ROOT_SECRET_KEY="+s.secret)
	log, err := os.Create(filepath.Join(filepath.Dir(dir), "versitygw.log"))
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); log.Close(); close(s.exited) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		// Any answer (403 to an anonymous request) means it serves.
		resp, err := client.Get(s.endpoint + "/")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("versitygw exited at start; see %s", log.Name())
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("versitygw did not answer on %s within 15s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.client().CreateBucket(cctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		s.stop()
		return nil, fmt.Errorf("creating bucket %s: %w", bucket, err)
	}
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *server) client() *s3.Client {
	return s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(s.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.accessKey, s.secret, ""),
	})
}

// env is what credentials-mode tools (hoist --s3, rclone, awscli) get.
func (s *server) env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.accessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.secret,
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
	}
}

// presign signs a PUT shaped like the API's URLs (DESIGN.md) with apiurl,
// the one home of that shape, but without the API's pinned empty-body
// checksum (x-amz-checksum-crc32=AAAAAA==): versitygw ignores it, and hoist
// would print a warning per file about it, which is not what is measured.
// curl and hoist get URLs made by this one function.
func (s *server) presign(key string, at time.Time) (string, error) {
	header := map[string]string{}
	for _, m := range metadata {
		header[m[0]] = m[1]
	}
	return s.signer().PresignPut(context.Background(), apiurl.Put{
		Bucket: bucket, Key: key, Header: header, Expires: time.Hour, SignedAt: at,
		PinnedCRC32: apiurl.NoChecksum,
	})
}

func (s *server) signer() apiurl.Signer {
	return apiurl.Signer{Endpoint: s.endpoint, Region: region, AccessKey: s.accessKey, SecretKey: s.secret}
}

// cpu is the server's user+system CPU so far, from /proc.
func (s *server) cpu() time.Duration { return processCPU(s.cmd.Process.Pid) }

// processCPU is the user + system time of process pid (all its threads) so
// far, 0 when it is gone.
func processCPU(pid int) time.Duration {
	f := procStat(pid)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// procStat is /proc/pid/stat's fields after the command name (f[0] is the
// state, f[1] the parent's pid), nil when the process is gone.
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The command name is in parentheses and may hold spaces.
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.Fields(rest)
}

// treeCPU is processCPU of root and of every process under it.
func treeCPU(root int) time.Duration {
	total := processCPU(root)
	for _, pid := range descendants(root) {
		total += processCPU(pid)
	}
	return total
}

// descendants are the processes under root, from /proc.
func descendants(root int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(pid); len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	var out []int
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// objects counts the objects under prefix and their bytes, on disk.
func (s *server) objects(prefix string) (n int, bytes int64, err error) {
	root := filepath.Join(s.dir, bucket, filepath.FromSlash(prefix))
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			st, err := d.Info()
			if err != nil {
				return err
			}
			n++
			bytes += st.Size()
		}
		return nil
	})
	return n, bytes, err
}

// clear removes what a run uploaded, so the next starts from the same state.
func (s *server) clear(prefix string) error {
	return os.RemoveAll(filepath.Join(s.dir, bucket, filepath.FromSlash(prefix)))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
