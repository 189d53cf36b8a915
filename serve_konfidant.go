package main

import (
	"context"
	"fmt"
	"io"

	"hoist/internal/konfidantemu"
	"hoist/localstore"
)

// serveKonfidant is `hoist serve --konfidant`: the Konfidant API emulator on
// addr over the embedded store (on a port of its own), with one throwaway
// key, so `hoist --konfidant --api-url …` works with no account.
func serveKonfidant(ctx context.Context, dir, addr string, rate int, stdout, stderr io.Writer) int {
	if rate <= 0 {
		fmt.Fprintln(stderr, "hoist serve: --api-rate must be a positive number of requests per minute")
		return exitUsage
	}
	st, err := localstore.Start(dir, "")
	if err != nil {
		fmt.Fprintf(stderr, "hoist serve: starting the local store in %s: %v\n", dir, err)
		return exitUsage
	}
	defer st.Close()
	key := konfidantemu.NewKey()
	emu, err := konfidantemu.Start(konfidantemu.Options{
		Store: konfidantemu.Store{Endpoint: st.Endpoint(), Bucket: st.Bucket(),
			AccessKey: st.AccessKey(), SecretKey: st.SecretKey()},
		Keys: []konfidantemu.Key{key},
		Rate: rate,
	}, addr)
	if err != nil {
		fmt.Fprintln(stderr, "hoist serve:", err)
		return exitUsage
	}
	defer emu.Close()

	fmt.Fprintf(stdout, "Konfidant API emulator on %s (plan: TTL up to %d hours, %d requests per minute)\n",
		emu.URL, konfidantemu.DefaultPlanMaxTTL, rate)
	fmt.Fprintf(stdout, "Uploads go to the local store on %s; ciphertext lands in %s until its link is opened.\n",
		st.Endpoint(), st.PathFor(""))
	fmt.Fprintf(stdout, "Throwaway API key, valid while this runs (it opens nothing else):\n\n  %s\n\n", key.Secret)
	fmt.Fprintf(stdout, "Try:\n  KONFIDANT_API_KEY=%s hoist --konfidant --api-url %s FILE\n  hoist open LINK\n\nCtrl+C stops it.\n",
		key.Secret, emu.URL)
	<-ctx.Done()
	return exitOK
}
