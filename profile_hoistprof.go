//go:build hoistprof

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// Profiles of a real run, for finding what costs memory or CPU at scale
// (issue 15). Built only with -tags hoistprof:
//
//	go build -tags hoistprof -o /tmp/hoist-prof .
//	HOIST_CPUPROFILE=cpu.out HOIST_HEAPPROFILE=heap.out /tmp/hoist-prof --no-tui …
//	go tool pprof -sample_index=inuse_space /tmp/hoist-prof heap.out
//
// The heap profile is the one taken when live heap objects were at their
// largest (sampled every 50 ms), so it shows what holds the peak.
func init() {
	if path := os.Getenv("HOIST_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hoist: HOIST_CPUPROFILE:", err)
			os.Exit(exitUsage)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "hoist: HOIST_CPUPROFILE:", err)
			os.Exit(exitUsage)
		}
		atExit = append(atExit, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if path := os.Getenv("HOIST_HEAPPROFILE"); path != "" {
		runtime.MemProfileRate = 4096
		stop := make(chan struct{})
		finished := make(chan struct{})
		go samplePeakHeap(path, stop, finished)
		atExit = append(atExit, func() { close(stop); <-finished })
	}
}

// samplePeakHeap writes a heap profile each time the live heap grows past
// the largest seen by a tenth, and once at the end if none was written.
func samplePeakHeap(path string, stop <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	write := func() {
		runtime.GC() // the profile's in-use figures are as of the last GC
		f, err := os.Create(path)
		if err != nil {
			return
		}
		_ = pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			if peak == 0 {
				write()
			}
			fmt.Fprintf(os.Stderr, "hoist: peak live heap objects %.1f MiB\n", float64(peak)/(1<<20))
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > peak+peak/10 {
			peak = v
			write()
		}
	}
}
