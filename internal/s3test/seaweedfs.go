package s3test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

var seaweedfs = kind{
	name: "SeaweedFS", binary: "weed", env: "HOIST_WEED", ports: 8, startup: 90 * time.Second,
	command: func(bin string, ports []int, s *Server) (*exec.Cmd, error) {
		// An identity with keys makes the S3 gateway check SigV4; without
		// one it lets anyone in.
		identities, err := json.Marshal(map[string]any{"identities": []any{map[string]any{
			"name":        "root",
			"credentials": []any{map[string]string{"accessKey": s.AccessKey, "secretKey": s.SecretKey}},
			"actions":     []string{"Admin", "Read", "List", "Tagging", "Write"},
		}}})
		if err != nil {
			return nil, err
		}
		config := filepath.Join(s.Dir, "identities.json")
		if err := os.WriteFile(config, identities, 0o600); err != nil {
			return nil, err
		}
		data := filepath.Join(s.Dir, "data")
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		port := func(i int) string { return strconv.Itoa(ports[i]) }
		// Every port explicit: by default each gRPC port is its HTTP port
		// plus 10000, which a free port can push past 65535, and the
		// Iceberg and Lance listeners take fixed ports.
		cmd := exec.Command(bin, "server",
			"-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir="+data,
			"-master.port="+port(1), "-master.port.grpc="+port(2),
			"-master.telemetry=false", "-master.volumeSizeLimitMB=64",
			"-volume.port="+port(3), "-volume.port.grpc="+port(4), "-volume.max=0",
			"-filer", "-filer.port="+port(5), "-filer.port.grpc="+port(6),
			"-s3", "-s3.port="+port(0), "-s3.port.grpc="+port(7),
			"-s3.port.iceberg=0", "-s3.port.lance=0",
			"-s3.config="+config,
		)
		cmd.Dir = s.Dir
		return cmd, nil
	},
}

// StartSeaweedFS runs SeaweedFS (`weed server -s3`: master, volume, filer
// and S3 gateway in one process) on free loopback ports, with an identity
// file so it checks signatures.
func StartSeaweedFS(t testing.TB) *Server {
	t.Helper()
	return start(t, seaweedfs, Server{Region: Region})
}
