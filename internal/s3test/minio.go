package s3test

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

var minio = kind{
	name: "MinIO", binary: "minio", env: "HOIST_MINIO", ports: 2, startup: 60 * time.Second,
	command: func(bin string, ports []int, s *Server) (*exec.Cmd, error) {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		console := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
		cmd := exec.Command(bin, "server", s.Dir, "--address", addr, "--console-address", console, "--quiet")
		cmd.Env = append(os.Environ(),
			"MINIO_ROOT_USER="+s.AccessKey,
			"MINIO_ROOT_PASSWORD="+s.SecretKey,
			"MINIO_REGION="+s.Region,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"MINIO_CI_CD=1",
		)
		if s.Domain != "" {
			cmd.Env = append(cmd.Env, "MINIO_DOMAIN="+s.Domain)
		}
		return cmd, nil
	},
}

// StartMinIO runs MinIO on free loopback ports, signing for region "auto"
// like versitygw. domain, when not "", is MINIO_DOMAIN: MinIO then also
// takes virtual-hosted requests, BUCKET.domain/KEY.
func StartMinIO(t testing.TB, domain string) *Server {
	t.Helper()
	return start(t, minio, Server{Region: Region, Domain: domain})
}
