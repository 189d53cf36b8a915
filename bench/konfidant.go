package main

import (
	"fmt"
	"strconv"
	"strings"

	"hoist/internal/konfidantemu"
)

// The konfidant scenario shares the big file through the Konfidant API
// emulator, which runs in this process and hands out upload URLs to the
// same versitygw: "hoist" is the encrypted flow (KNF1 streamed into the
// PUT, then complete), "hoist-plain" the plain flow of the API page (the
// file as it is, then status polled every 2 s as the SDK does, so its wall
// time includes up to one poll interval after the bytes arrived), and curl
// the same bytes PUT straight to a presigned URL, for scale. The target is
// the issue's: encrypted wall time ≤ 1.15× plain, peak RSS ≤ 48 MiB.

// konfidant is the emulator, started on first use over the bench's server.
func (b *bench) konfidant() (*konfidantemu.Server, error) {
	if b.emu != nil {
		return b.emu, nil
	}
	emu, err := konfidantemu.Start(konfidantemu.Options{
		Store: konfidantemu.Store{Endpoint: b.srv.endpoint, Region: region, Bucket: bucket,
			AccessKey: b.srv.accessKey, SecretKey: b.srv.secret},
		// Each run adds its own key; New wants one to start with.
		Keys: []konfidantemu.Key{konfidantemu.NewKey()},
	}, "")
	if err != nil {
		return nil, fmt.Errorf("starting the Konfidant emulator: %w", err)
	}
	b.emu = emu
	return emu, nil
}

// hoistKonfidant is hoist headless through the emulator with protocol
// "encrypted" or "plain". The run's key is of an organization named after
// the run's prefix, so its objects land under the prefix like every other
// tool's and are checked and cleared the same way.
func (r *runSpec) hoistKonfidant(protocol string) (invocation, error) {
	emu, err := r.b.konfidant()
	if err != nil {
		return invocation{}, err
	}
	key := konfidantemu.Key{Secret: "kfd_bench_" + randomHex(16), Scopes: []string{konfidantemu.ScopeFilesCreate},
		OrgID: r.prefix, UserID: "u-bench"}
	if err := emu.AddKey(key); err != nil {
		return invocation{}, err
	}
	args := []string{r.b.s.hoist, "--no-tui", "--konfidant", "--api-url", emu.URL, "--konfidant-protocol", protocol,
		"--ttl-hours", strconv.Itoa(konfidantemu.DefaultPlanMaxTTL), "--concurrency", strconv.Itoa(r.sc.concurrency)}
	if len(r.files) == 1 {
		args = append(args, r.files[0])
	} else {
		args = append(args, r.dir)
	}
	return invocation{args: args, env: append(r.baseEnv(), "KONFIDANT_API_KEY="+key.Secret)}, nil
}

// encrypts reports whether tool's objects are KNF1 ciphertext rather than
// the files' bytes.
func (sc scenario) encrypts(tool string) bool {
	return sc.konfidant && (tool == "hoist" || tool == "hoist-tui" || strings.HasPrefix(tool, "hoist:") || strings.HasPrefix(tool, "hoist-tui:"))
}

// knf1MaxOverhead bounds what KNF1 adds to a file of size bytes: the
// header, the longest metadata (a 1024-byte name, a 255-byte type), and a
// 16-byte tag per chunk at the smallest chunk size (4 KiB).
func knf1MaxOverhead(size int64) int64 {
	const chunk = 4 << 10
	meta := int64(4 + 1 + 2 + 1024 + 2 + 255)
	return 16 + meta + 16*((meta+size+chunk-1)/chunk)
}

// arrived checks what the server holds under the run's prefix: the files'
// bytes exactly, or for an encrypted run a ciphertext per file no bigger
// than KNF1 makes it.
func (sc scenario) arrived(tool string, n int, bytes int64) error {
	plain := int64(sc.files) * sc.size
	if !sc.encrypts(tool) {
		if n != sc.files || bytes != plain {
			return fmt.Errorf("the server holds %d objects, %d bytes; want %d, %d bytes", n, bytes, sc.files, plain)
		}
		return nil
	}
	most := plain + int64(sc.files)*knf1MaxOverhead(sc.size)
	if n != sc.files || bytes <= plain || bytes > most {
		return fmt.Errorf("the server holds %d objects, %d bytes; want %d ciphertexts, over %d and at most %d bytes in all",
			n, bytes, sc.files, plain, most)
	}
	return nil
}
