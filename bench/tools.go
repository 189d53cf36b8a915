package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// toolNames are the tools a scenario may name.
func toolNames() []string {
	return []string{"hoist", "hoist-s3", "hoist-tui", "hoist-plain", "curl", "curl-crc", "rclone", "aws", "minio-go", "s3manager", "transfermanager", "mc"}
}

// runSpec is one tool's run of one scenario.
type runSpec struct {
	b       *bench
	sc      scenario
	tool    string
	prefix  string   // key prefix all of this run's objects go under
	dir     string   // the folder holding the files
	files   []string // their paths
	scratch string   // this run's manifest, configs and HOME
}

// invocation is the command to time, with its whole environment.
type invocation struct {
	args []string
	env  []string
	// tui runs args in tmux and drives the terminal UI with keys (tui.go).
	tui bool
}

// baseEnv is a clean environment: no AWS_*, HOIST_* or rc files of the
// machine leak into a tool, and each run has its own HOME and XDG folders.
func (r *runSpec) baseEnv() []string {
	home := filepath.Join(r.scratch, "home")
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + home,
		"LANG=C.UTF-8",
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local/state"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local/share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		// The AWS tools look for an EC2 metadata service (169.254.169.254)
		// when they miss a setting: everything stays on 127.0.0.1.
		"AWS_EC2_METADATA_DISABLED=true",
	}
	// A hoist built with -tags hoistprof writes profiles where these say
	// (profile_hoistprof.go): the one way into a run the bench drives.
	for _, name := range []string{"HOIST_CPUPROFILE", "HOIST_CPUPROFILE_FROM", "HOIST_HEAPPROFILE", "HOIST_MEMSTATS"} {
		if v := os.Getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// invocation is the run's command; a hoist:NAME, hoist-s3:NAME or
// hoist-tui:NAME variant is that mode's with the variant's binary.
func (r *runSpec) invocation() (invocation, error) {
	if err := os.MkdirAll(filepath.Join(r.scratch, "home"), 0o755); err != nil {
		return invocation{}, err
	}
	if mode, name, ok := strings.Cut(r.tool, ":"); ok {
		bin := r.b.s.variants[name]
		inv, err := r.command(mode)
		if len(inv.args) > 0 {
			inv.args[0] = bin
		}
		return inv, err
	}
	return r.command(r.tool)
}

// command builds tool's command line for the run's scenario.
func (r *runSpec) command(tool string) (invocation, error) {
	switch tool {
	case "hoist":
		if r.sc.konfidant {
			return r.hoistKonfidant("encrypted")
		}
		if r.sc.multipart {
			return r.hoistS3(), nil
		}
		return r.hoistManifest()
	case "hoist-s3":
		return r.hoistS3(), nil
	case "hoist-plain":
		return r.hoistKonfidant("plain")
	case "hoist-tui":
		inv, err := r.command("hoist")
		if err != nil {
			return inv, err
		}
		inv.args = slicesWithout(inv.args, "--no-tui")
		inv.tui = true
		return inv, nil
	case "curl":
		return r.curl()
	case "curl-crc":
		return r.curlCRC()
	case "rclone":
		return r.rclone(), nil
	case "aws":
		return r.aws()
	case "minio-go", "s3manager", "transfermanager":
		return r.peer(tool)
	case "mc":
		return r.mc(), nil
	}
	return invocation{}, fmt.Errorf("no tool %q", tool)
}

// metadataFlags fill the headers the presigned URLs sign.
var metadataFlags = []string{"--org-id", "org-bench", "--user-id", "u-bench", "--ttl-hours", "48"}

// signAll presigns one URL per file, key prefix/<name>.
func (r *runSpec) signAll() ([]string, error) {
	at := time.Now()
	urls := make([]string, len(r.files))
	for i, f := range r.files {
		u, err := r.b.srv.presign(r.prefix+"/"+filepath.Base(f), at)
		if err != nil {
			return nil, err
		}
		if r.sc.discard {
			// The discarding server checks no signature: same URL, its address.
			u = r.b.discard.url + strings.TrimPrefix(u, r.b.srv.endpoint)
		}
		urls[i] = u
	}
	return urls, nil
}

// hoistManifest is hoist headless with given URLs: --manifest of JSON lines.
func (r *runSpec) hoistManifest() (invocation, error) {
	urls, err := r.signAll()
	if err != nil {
		return invocation{}, err
	}
	var sb strings.Builder
	for i, f := range r.files {
		line, _ := json.Marshal(map[string]string{"path": f, "url": urls[i]})
		sb.Write(line)
		sb.WriteByte('\n')
	}
	manifest := filepath.Join(r.scratch, "manifest.jsonl")
	if err := os.WriteFile(manifest, []byte(sb.String()), 0o600); err != nil {
		return invocation{}, err
	}
	args := append([]string{r.b.s.hoist, "--no-tui", "--manifest", manifest,
		"--concurrency", strconv.Itoa(r.sc.concurrency)}, metadataFlags...)
	return invocation{args: args, env: r.baseEnv()}, nil
}

// hoistS3 is hoist headless in credentials mode: it hashes each file (or
// part) for the signed CRC32 header, then signs and sends.
func (r *runSpec) hoistS3() invocation {
	endpoint := r.b.srv.endpoint
	if r.sc.discard { // it checks no signature: versitygw's keys do
		endpoint = r.b.discard.url
	}
	args := []string{r.b.s.hoist, "--no-tui", "--s3", "s3://" + bucket + "/" + r.prefix,
		"--endpoint-url", endpoint, "--concurrency", strconv.Itoa(r.sc.concurrency),
		"--multipart-threshold", strconv.Itoa(multipartThreshold), "--part-size", strconv.Itoa(partSize)}
	args = append(args, metadataFlags...)
	if len(r.files) == 1 {
		args = append(args, r.files[0])
	} else {
		args = append(args, r.dir)
	}
	return invocation{args: args, env: append(r.baseEnv(), r.b.srv.env()...)}
}

// curl sends the same kind of presigned URL: one `curl -T` for a single
// file, `xargs -P N` running one curl per file for many.
func (r *runSpec) curl() (invocation, error) {
	urls, err := r.signAll()
	if err != nil {
		return invocation{}, err
	}
	args := []string{r.b.s.curl, "-sS", "--fail", "-o", "/dev/null"}
	for _, m := range metadata {
		args = append(args, "-H", m[0]+": "+m[1])
	}
	if len(r.files) == 1 {
		args = append(args, "-T", r.files[0], urls[0])
		return invocation{args: args, env: r.baseEnv()}, nil
	}
	// One argument per line (-d '\n'), so nothing in a URL is taken for
	// xargs quoting; two per curl: the file after -T, then its URL.
	var sb strings.Builder
	for i, f := range r.files {
		sb.WriteString(f + "\n" + urls[i] + "\n")
	}
	list := filepath.Join(r.scratch, "curl.list")
	if err := os.WriteFile(list, []byte(sb.String()), 0o600); err != nil {
		return invocation{}, err
	}
	xargs := []string{"xargs", "-d", `\n`, "-a", list, "-n", "2", "-P", strconv.Itoa(r.sc.concurrency)}
	return invocation{args: append(append(xargs, args...), "-T"), env: r.baseEnv()}, nil
}

// curlCRC is curl given the work hoist does beyond it: hoist proves the
// bytes it sent against a CRC32 of the file, read once more after the PUT
// (or before it, when the URL signs the checksum). Here coreutils' cksum
// (a CRC with PCLMUL, as hoist's) reads the file once, then the same curl.
func (r *runSpec) curlCRC() (invocation, error) {
	if len(r.files) != 1 {
		return invocation{}, fmt.Errorf("curl-crc sends one file; the %s scenario has %d", r.sc.name, len(r.files))
	}
	inv, err := r.curl()
	if err != nil {
		return inv, err
	}
	script := `cksum "$1" >/dev/null && shift && exec "$@"`
	inv.args = append([]string{"/bin/sh", "-c", script, "sh", r.files[0]}, inv.args...)
	return inv, nil
}

// rclone runs with an S3 remote from the environment, tuned as a person
// after speed would: no listing of the (empty) destination, no bucket check
// and no HEAD after each upload; its checksums stay on. Its S3 library sends
// "Expect: 100-Continue" with bodies over 2 MiB, which versitygw does not
// answer (it answers curl's lower-case "100-continue"), so each such request
// would wait out Go's 1 s timeout: --expect-continue-timeout 0 sends the
// body at once.
func (r *runSpec) rclone() invocation {
	env := append(r.baseEnv(),
		"RCLONE_CONFIG="+filepath.Join(r.scratch, "rclone.conf"),
		"RCLONE_CONFIG_BENCH_TYPE=s3",
		"RCLONE_CONFIG_BENCH_PROVIDER=Other",
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+r.b.srv.accessKey,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+r.b.srv.secret,
		"RCLONE_CONFIG_BENCH_ENDPOINT="+r.b.srv.endpoint,
		"RCLONE_CONFIG_BENCH_REGION="+region,
	)
	c := strconv.Itoa(r.sc.concurrency)
	common := []string{"-q", "--expect-continue-timeout", "0", "--no-check-dest", "--s3-no-check-bucket", "--s3-no-head",
		"--s3-upload-cutoff", strconv.Itoa(multipartThreshold>>20) + "M",
		"--s3-chunk-size", strconv.Itoa(partSize>>20) + "M"}
	var args []string
	if len(r.files) == 1 {
		args = append([]string{r.b.s.rclone, "copyto", r.files[0], "bench:" + bucket + "/" + r.prefix + "/" + filepath.Base(r.files[0]),
			"--s3-upload-concurrency", c}, common...)
	} else {
		args = append([]string{r.b.s.rclone, "copy", r.dir, "bench:" + bucket + "/" + r.prefix,
			"--transfers", c, "--checkers", c}, common...)
	}
	return invocation{args: args, env: env}
}

// aws is the Debian package's aws-cli v2 with the s3 transfer settings of
// the scenario in its own config file.
func (r *runSpec) aws() (invocation, error) {
	cfg := filepath.Join(r.scratch, "aws-config")
	text := fmt.Sprintf("[default]\nregion = %s\ns3 =\n  max_concurrent_requests = %d\n  multipart_threshold = %dMB\n  multipart_chunksize = %dMB\n",
		region, r.sc.concurrency, multipartThreshold>>20, partSize>>20)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		return invocation{}, err
	}
	env := append(r.baseEnv(), r.b.srv.env()...)
	env = append(env, "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(r.scratch, "aws-credentials"),
		"AWS_PAGER=")
	args := []string{r.b.s.aws, "s3", "cp", "--endpoint-url", r.b.srv.endpoint, "--only-show-errors", "--no-progress"}
	if len(r.files) == 1 {
		args = append(args, r.files[0], "s3://"+bucket+"/"+r.prefix+"/"+filepath.Base(r.files[0]))
	} else {
		args = append(args, "--recursive", r.dir, "s3://"+bucket+"/"+r.prefix+"/")
	}
	return invocation{args: args, env: env}, nil
}

func slicesWithout(s []string, drop string) []string {
	var out []string
	for _, v := range s {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}

// peer is a Go library's upload call (bench/peers): minio-go's FPutObject,
// aws-sdk-go-v2's upload manager or transfer manager, with the server's
// credentials, one call per file and the scenario's concurrency. The paths
// go in a list file: 100,000 of them as arguments exceed the kernel's limit
// on a command line, and exec fails with "argument list too long".
func (r *runSpec) peer(lib string) (invocation, error) {
	list := filepath.Join(r.scratch, "peers.list")
	if err := os.WriteFile(list, []byte(strings.Join(r.files, "\n")+"\n"), 0o600); err != nil {
		return invocation{}, err
	}
	args := []string{r.b.s.peers, "-lib", lib, "-endpoint", r.b.srv.endpoint, "-bucket", bucket, "-prefix", r.prefix,
		"-concurrency", strconv.Itoa(r.sc.concurrency), "-part-size", strconv.Itoa(partSize), "-list", list}
	return invocation{args: args, env: append(r.baseEnv(), r.b.srv.env()...)}, nil
}

// mc is MinIO's client copying the folder, its alias from MC_HOST_bench.
func (r *runSpec) mc() invocation {
	u := strings.Replace(r.b.srv.endpoint, "://", "://"+r.b.srv.accessKey+":"+r.b.srv.secret+"@", 1)
	env := append(r.baseEnv(), "MC_HOST_bench="+u, "MC_CONFIG_DIR="+filepath.Join(r.scratch, "mc"))
	args := []string{r.b.s.mc, "--quiet", "--no-color", "cp", "--recursive"}
	for _, m := range metadata {
		args = append(args, "--attr", m[0]+"="+m[1])
	}
	if len(r.files) == 1 {
		return invocation{args: append(args, r.files[0], "bench/"+bucket+"/"+r.prefix+"/"+filepath.Base(r.files[0])), env: env}
	}
	return invocation{args: append(args, r.dir+"/", "bench/"+bucket+"/"+r.prefix+"/"), env: env}
}
