//go:build hoistprof

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"syscall"
	"time"
)

// Profiles of a real run, for finding what costs memory or CPU at scale
// (issue 15). Built only with -tags hoistprof:
//
//	go build -tags hoistprof -o /tmp/hoist-prof .
//	HOIST_CPUPROFILE=cpu.out HOIST_HEAPPROFILE=heap.out /tmp/hoist-prof --no-tui …
//	go tool pprof -sample_index=inuse_space /tmp/hoist-prof heap.out
//	HOIST_MEMSTATS=mem.txt /tmp/hoist-prof …   # where the peak RSS went
//
// With HOIST_CPUPROFILE_FROM=SIGUSR1 the CPU profile starts at that signal
// (the bench sends it when a TUI upload starts).
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
		if os.Getenv("HOIST_CPUPROFILE_FROM") == "SIGUSR1" {
			// From a signal on: the bench sends it at the key that
			// starts a TUI upload, so the picker, form and review are
			// left out.
			started := make(chan struct{})
			usr1 := make(chan os.Signal, 1)
			signal.Notify(usr1, syscall.SIGUSR1)
			go func() {
				<-usr1
				startCPUProfile(f)
				close(started)
			}()
			atExit = append(atExit, func() {
				select {
				case <-started:
					pprof.StopCPUProfile()
				default:
				}
				f.Close()
			})
		} else {
			startCPUProfile(f)
			atExit = append(atExit, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("HOIST_MEMSTATS"); path != "" {
		stop := make(chan struct{})
		finished := make(chan struct{})
		go sampleMemory(path, stop, finished)
		atExit = append(atExit, func() { close(stop); <-finished })
	}
	if path := os.Getenv("HOIST_HEAPPROFILE"); path != "" {
		runtime.MemProfileRate = 4096
		stop := make(chan struct{})
		finished := make(chan struct{})
		go samplePeakHeap(path, stop, finished)
		atExit = append(atExit, func() { close(stop); <-finished })
	}
}

func startCPUProfile(f *os.File) {
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "hoist: HOIST_CPUPROFILE:", err)
		os.Exit(exitUsage)
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

// sampleMemory writes to path, at the end, where the resident memory went
// besides live objects, each class at its largest (sampled every 10 ms):
// peak RSS is what a person sees, and the live heap is only part of it.
func sampleMemory(path string, stop <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	classes := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/memory/classes/metadata/other:bytes"}, {Name: "/gc/heap/goal:bytes"},
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"},
	}
	peaks := make([]uint64, len(classes))
	var mapped uint64 // total less released: what may be resident
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			f, err := os.Create(path)
			if err != nil {
				return
			}
			defer f.Close()
			fmt.Fprintf(f, "peak total less released: %.1f MiB\n", float64(mapped)/(1<<20))
			for i, c := range classes {
				fmt.Fprintf(f, "peak %s: %.1f MiB (%d)\n", c.Name, float64(peaks[i])/(1<<20), peaks[i])
			}
			return
		case <-tick.C:
		}
		metrics.Read(classes)
		for i, c := range classes {
			peaks[i] = max(peaks[i], c.Value.Uint64())
		}
		mapped = max(mapped, classes[0].Value.Uint64()-classes[1].Value.Uint64())
	}
}
