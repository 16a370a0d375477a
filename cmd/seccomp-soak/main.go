// Command seccomp-soak drives many notifications through one listener and
// reports the process's open fds, goroutines, OS threads and resident memory
// at the start, at intervals and at the end, to show that serving
// notifications does not make any of them grow.
//
// A target thread of this process installs a filter that sends getppid to a
// listener, then calls getppid -n times, each time with its sequence number
// as the first argument. The main goroutine receives each notification and
// answers with RespondValue, a value computed from that argument, which the
// target checks. It needs Linux 5.0 and no_new_privs, which it sets on the
// target thread only.
//
// Usage:
//
//	go run ./cmd/seccomp-soak -n 1000000
//
// It writes the report to stdout and exits with status 1 when fds,
// goroutines or threads are higher at the end than at the start, when resident
// memory grew by more than -max-rss-growth after the first interval, or when
// an answer went wrong.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/internal/procstat"
	"github.com/seccompgo/seccomp/internal/thread"
)

func main() {
	n := flag.Int("n", 1000000, "number of notifications to drive through the listener")
	reports := flag.Int("reports", 10, "number of reports between the start and the end")
	killable := flag.Bool("killable", true, "install the filter with WAIT_KILLABLE_RECV when the kernel supports it (Linux 5.19)")
	maxRSSGrowth := flag.Int64("max-rss-growth", 8, "largest growth of resident memory, in MiB, from the first interval to the end")
	flag.Parse()
	if *n < 1 || *reports < 1 {
		fmt.Fprintln(os.Stderr, "seccomp-soak: -n and -reports must be at least 1")
		os.Exit(2)
	}

	if err := run(*n, *reports, *killable, *maxRSSGrowth<<20); err != nil {
		fmt.Fprintln(os.Stderr, "seccomp-soak:", err)
		os.Exit(1)
	}
}

// answer returns the value the supervisor responds with to the call with
// sequence number seq. It is positive and below 2^30, so it never looks like an errno.
func answer(seq uint64) int64 {
	return int64(seq*2654435761%(1<<30)) + 1
}

// sample is one row of the report.
type sample struct {
	phase      string
	served     int
	fds        int
	goroutines int
	threads    int
	rss        int64
	heap       uint64 // bytes in heap objects, live or not yet swept, after a collection
	allocs     uint64 // heap objects allocated since the program started
	elapsed    time.Duration
}

// takeSample measures the process. It collects garbage first, so that the
// garbage of earlier samples, which is all that this program allocates while
// serving, does not count as growth: reading /proc allocates tens of KiB.
func takeSample(phase string, served int, start time.Time) (sample, error) {
	runtime.GC()
	fds, err := procstat.FDs()
	if err != nil {
		return sample{}, err
	}
	threads, err := procstat.Threads()
	if err != nil {
		return sample{}, err
	}
	rss, err := procstat.RSS()
	if err != nil {
		return sample{}, err
	}
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:objects"}}
	metrics.Read(m)
	return sample{phase, served, len(fds), runtime.NumGoroutine(), len(threads), rss, m[0].Value.Uint64(), m[1].Value.Uint64(), time.Since(start)}, nil
}

func (s sample) print() {
	rate := 0.0
	if secs := s.elapsed.Seconds(); secs > 0 {
		rate = float64(s.served) / secs
	}
	fmt.Printf("%-8s %13d %5d %11d %8d %8.1f %9.1f %8d %8.2f %11.0f\n",
		s.phase, s.served, s.fds, s.goroutines, s.threads, float64(s.rss)/(1<<20), float64(s.heap)/(1<<20), s.allocs, s.elapsed.Seconds(), rate)
}

// targetResult is what the target thread reports when it is done.
type targetResult struct {
	wrong int   // calls that returned another value than answer(seq)
	err   error // a failure to set up the filter
}

// startTarget installs the filter on a new thread and makes n getppid calls
// there. It returns the listener fd, and a channel that receives the
// target's result once the thread has made every call. The thread then ends,
// which hangs the listener up.
func startTarget(n int, flags seccomp.FilterFlag) (int, <-chan targetResult, error) {
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, // seccomp_data.arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, K: seccomp.AuditArchNative},
		{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionKillProcess)},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: 1, K: unix.SYS_GETPPID},
		{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionUserNotif)},
		{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)},
	}

	fds := make(chan int, 1)
	results := make(chan targetResult, 1)
	thread.Disposable(func() {
		// The filter and no_new_privs stay on this thread, which ends when
		// this function returns.
		if err := seccomp.SetNoNewPrivs(); err != nil {
			results <- targetResult{err: err}
			return
		}
		fd, err := seccomp.SetModeFilter(prog, flags|seccomp.FilterFlagNewListener)
		if err != nil {
			results <- targetResult{err: err}
			return
		}
		fds <- fd

		wrong := 0
		for seq := range uint64(n) {
			r, _, errno := unix.Syscall(unix.SYS_GETPPID, uintptr(seq), 0, 0)
			if errno != 0 || int64(r) != answer(seq) {
				wrong++
			}
		}
		results <- targetResult{wrong: wrong}
	})

	select {
	case fd := <-fds:
		return fd, results, nil
	case r := <-results:
		return -1, nil, r.err
	}
}

func run(n, reports int, killable bool, maxRSSGrowth int64) error {
	var flags seccomp.FilterFlag
	if killable && seccomp.HaveFilterFlag(seccomp.FilterFlagWaitKillableRecv) == nil {
		flags |= seccomp.FilterFlagWaitKillableRecv
	}
	fmt.Printf("seccomp-soak: %d notifications, filter flags %v, GOMAXPROCS %d\n", n, flags|seccomp.FilterFlagNewListener, runtime.GOMAXPROCS(0))
	fmt.Printf("%-8s %13s %5s %11s %8s %8s %9s %8s %8s %11s\n",
		"phase", "notifications", "fds", "goroutines", "threads", "rss_MiB", "heap_MiB", "allocs", "seconds", "per_second")

	// The runtime creates its poller's fds when the first file is added to
	// it, and keeps them; a pipe brings that forward, before the baseline.
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	r.Close()
	w.Close()

	start := time.Now()
	before, err := takeSample("before", 0, start)
	if err != nil {
		return err
	}
	before.print()

	fd, results, err := startTarget(n, flags)
	if err != nil {
		return err
	}
	l, err := seccomp.NewListener(fd)
	if err != nil {
		unix.Close(fd)
		return err
	}

	every := max(n/reports, 1)
	var samples []sample
	var notif seccomp.Notif
	served, gone := 0, 0
	for {
		if err := l.Receive(&notif); err != nil {
			if errors.Is(err, seccomp.ErrNoTargets) {
				break
			}
			l.Close()
			return err
		}
		err := l.RespondValue(notif.ID, answer(notif.Data.Args[0]))
		switch {
		case err == nil:
			served++
		case errors.Is(err, seccomp.ErrNotifGone):
			gone++ // interrupted by a signal; the call comes back with a new id
		default:
			l.Close()
			return err
		}

		if served%every == 0 && err == nil {
			phase := "serving"
			if len(samples) == 0 {
				phase = "first"
			}
			s, err := takeSample(phase, served, start)
			if err != nil {
				l.Close()
				return err
			}
			s.print()
			samples = append(samples, s)
		}
	}

	end, err := takeSample("end", served, start)
	if err != nil {
		l.Close()
		return err
	}
	end.print()
	if err := l.Close(); err != nil {
		return err
	}
	// The runtime poller's goroutines and the target thread wind down
	// shortly after the listener is closed.
	time.Sleep(100 * time.Millisecond)
	after, err := takeSample("closed", served, start)
	if err != nil {
		return err
	}
	after.print()

	result := <-results
	fmt.Printf("answers the target checked wrong: %d; answers that found the call interrupted: %d\n", result.wrong, gone)

	var problems []string
	if result.wrong != 0 {
		problems = append(problems, fmt.Sprintf("%d calls returned a wrong value", result.wrong))
	}
	if served != n {
		problems = append(problems, fmt.Sprintf("%d calls answered, want %d", served, n))
	}
	first := samples[0]
	if end.fds > first.fds || end.goroutines > first.goroutines || end.threads > first.threads {
		problems = append(problems, fmt.Sprintf("grew from the first interval to the end: fds %d to %d, goroutines %d to %d, threads %d to %d",
			first.fds, end.fds, first.goroutines, end.goroutines, first.threads, end.threads))
	}
	if after.fds > before.fds {
		problems = append(problems, fmt.Sprintf("%d fds open after the listener was closed, %d before the start", after.fds, before.fds))
	}
	if growth := end.rss - first.rss; growth > maxRSSGrowth {
		problems = append(problems, fmt.Sprintf("resident memory grew by %.1f MiB from the first interval to the end", float64(growth)/(1<<20)))
	}
	if len(problems) > 0 {
		return errors.New(fmt.Sprint(problems))
	}
	fmt.Println("no growth")
	return nil
}
