package seccomp_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/internal/procstat"
	"github.com/seccompgo/seccomp/internal/thread"
	"github.com/seccompgo/seccomp/sysnum"
)

// childEnv selects a child mode when the test binary re-executes itself.
const childEnv = "SECCOMP_TEST_CHILD"

// childModes are the programs a re-executed test binary can run. They write
// their findings to stdout and exit with 0 on success.
var childModes = map[string]func() int{}

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		run, ok := childModes[mode]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown child mode %q\n", mode)
			os.Exit(2)
		}
		os.Exit(run())
	}
	os.Exit(m.Run())
}

func init() {
	// getppid: call getppid once and print its result.
	childModes["getppid"] = func() int {
		r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		fmt.Printf("ret=%d errno=%d\n", int(r), int(errno))
		return 0
	}
	// getppid-loop: call getppid COUNT times.
	childModes["getppid-loop"] = func() int {
		count, _ := strconv.Atoi(os.Getenv("COUNT"))
		for range count {
			unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		}
		return 0
	}
	// getppid-fd: treat getppid's result as an fd and print what it reads.
	childModes["getppid-fd"] = func() int {
		r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		if errno != 0 {
			fmt.Printf("errno=%d\n", int(errno))
			return 1
		}
		buf := make([]byte, 64)
		n, err := unix.Read(int(r), buf)
		if err != nil {
			fmt.Printf("fd=%d read error: %v\n", int(r), err)
			return 1
		}
		flags, _ := unix.FcntlInt(uintptr(r), unix.F_GETFD, 0)
		fmt.Printf("fd=%d cloexec=%t data=%s\n", int(r), flags&unix.FD_CLOEXEC != 0, buf[:n])
		return 0
	}
	// getppid-twice-then-wait: call getppid twice, PAUSE apart (a
	// time.Duration, 0 by default), then block until stdin is closed.
	childModes["getppid-twice-then-wait"] = func() int {
		pause, _ := time.ParseDuration(os.Getenv("PAUSE"))
		unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		time.Sleep(pause)
		unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
		return 0
	}
	// wait-stdin: block until stdin is closed, making no notified call.
	childModes["wait-stdin"] = func() int {
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
		return 0
	}
}

// notifyFilter returns a filter that kills the process on a foreign
// architecture, sends nr to the listener and allows everything else.
func notifyFilter(nr uint32) []unix.SockFilter {
	return []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, // arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, K: seccomp.AuditArchNative},
		{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionKillProcess)},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: 1, K: nr},
		{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionUserNotif)},
		{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)},
	}
}

func allowFilter() []unix.SockFilter {
	return []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)}}
}

// onDiscardedThread runs f on an OS thread that ends when f returns, so
// whatever f installs on it (no_new_privs, filters) never reaches another
// goroutine of the test, and waits for f.
func onDiscardedThread(f func()) {
	done := make(chan struct{})
	thread.Disposable(func() {
		defer close(done)
		f()
	})
	<-done
}

// child is a re-executed test binary running under a test filter.
type child struct {
	cmd    *exec.Cmd
	l      *seccomp.Listener
	stdout *bytes.Buffer
	stdin  *os.File // write end of the child's stdin, or nil
}

type childOptions struct {
	flags seccomp.FilterFlag
	prog  []unix.SockFilter
	env   []string
	stdin bool // give the child a pipe as stdin
}

// startChild installs a filter with a listener on a discarded thread, starts
// the test binary in mode from that thread, and returns the child with its
// listener. Cleanup kills and reaps the child and closes the listener.
func startChild(t *testing.T, mode string, opts childOptions) *child {
	t.Helper()
	if opts.prog == nil {
		opts.prog = notifyFilter(unix.SYS_GETPPID)
	}

	c := &child{stdout: new(bytes.Buffer)}
	c.cmd = childCommand(mode, opts.env...)
	c.cmd.Stdout = c.stdout
	var stdinRead *os.File
	if opts.stdin {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		c.cmd.Stdin, stdinRead, c.stdin = r, r, w
	}

	var err error
	onDiscardedThread(func() {
		if err = seccomp.SetNoNewPrivs(); err != nil {
			return
		}
		var fd int
		fd, err = seccomp.SetModeFilter(opts.prog, opts.flags|seccomp.FilterFlagNewListener)
		if err != nil {
			return
		}
		if c.l, err = seccomp.NewListener(fd); err != nil {
			unix.Close(fd)
			return
		}
		err = c.cmd.Start()
	})
	if stdinRead != nil {
		stdinRead.Close()
	}
	if err != nil {
		if c.l != nil {
			c.l.Close()
		}
		if c.stdin != nil {
			c.stdin.Close()
		}
		t.Fatalf("start child %s: %v", mode, err)
	}

	t.Cleanup(func() {
		if c.stdin != nil {
			c.stdin.Close()
		}
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
		c.l.Close()
	})
	return c
}

// wait waits for the child and returns its stdout, failing on a non-zero exit.
func (c *child) wait(t *testing.T) string {
	t.Helper()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child: %v; stdout: %q", err, c.stdout.String())
	}
	return strings.TrimSpace(c.stdout.String())
}

// receive receives one notification with a timeout, so a broken kernel or
// filter fails the test instead of hanging it.
func receive(t *testing.T, l *seccomp.Listener) seccomp.Notif {
	t.Helper()
	if err := l.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var n seccomp.Notif
	if err := l.Receive(&n); err != nil {
		t.Fatalf("receive: %v", err)
	}
	if err := l.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkNoLeaks records the open fds, goroutines and OS threads now and fails
// the test if more remain at its end. See checkThreads for the threads.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	fds := openFDs(t)
	goroutines := runtime.NumGoroutine()
	threads := takeThreadCensus(t)
	t.Cleanup(func() {
		// Goroutines of os/exec and of the runtime poller end shortly after
		// the calls that started them return, and locked threads shortly
		// after their goroutines.
		deadline := time.Now().Add(5 * time.Second)
		for {
			now, g := openFDs(t), runtime.NumGoroutine()
			threadErr := checkThreads(threads, takeThreadCensus(t))
			hot := seccomp.HotWaiters()
			if (len(now) <= len(fds) && g <= goroutines && threadErr == "" && hot == 0) || time.Now().After(deadline) {
				if extra := newFDs(fds, now); len(extra) > 0 {
					t.Errorf("fds leaked: %s", strings.Join(extra, ", "))
				}
				if g > goroutines {
					t.Errorf("goroutines leaked: %d at start, %d at end", goroutines, g)
				}
				if threadErr != "" {
					t.Errorf("threads leaked: %s", threadErr)
				}
				if hot != 0 {
					t.Errorf("%d receivers still wait in the kernel's poll", hot)
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// idleThreadAllowance is how many OS threads a test may leave behind beyond
// those it started with, as long as each of them is idle.
//
// The Go runtime ends a thread only when a goroutine exits while locked to it.
// Every other thread it starts stays for the life of the process, parked in
// futex until the scheduler needs it again. A test that blocks several
// goroutines in system calls at once (os/exec's wait4 for each child, a
// target's blocking call in this process) makes the runtime start one thread
// for each, and they outlive the test. The tests here block at most about a
// dozen goroutines at once, so 16 bounds that growth. A thread per
// notification, for example, would exceed it.
const idleThreadAllowance = 16

// idleSyscalls are the system calls an idle runtime thread waits in: futex
// for a parked thread, epoll for the network poller, nanosleep for sysmon.
var idleSyscalls = sync.OnceValue(func() map[int]bool {
	idle := make(map[int]bool)
	for _, name := range []string{"futex", "epoll_wait", "epoll_pwait", "epoll_pwait2", "nanosleep", "clock_nanosleep"} {
		if nr, ok := sysnum.Number(name); ok {
			idle[int(nr)] = true
		}
	}
	return idle
})

// threadCensus counts a process's OS threads.
type threadCensus struct {
	total    int
	filtered []int          // threads in seccomp filter mode
	busy     map[int]string // threads blocked in a call other than idleSyscalls, by tid, with the call's name
}

func takeThreadCensus(t *testing.T) threadCensus {
	t.Helper()
	// The thread reading /proc is itself in a read system call, so it is
	// left out; it stays the same thread until the census is done.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := unix.Gettid()

	threads, err := procstat.Threads()
	if err != nil {
		t.Fatalf("list threads: %v", err)
	}
	c := threadCensus{total: len(threads), busy: make(map[int]string)}
	for _, th := range threads {
		if th.Filtered {
			c.filtered = append(c.filtered, th.TID)
		}
		if th.Syscall >= 0 && !idleSyscalls()[th.Syscall] && th.TID != self {
			name, ok := sysnum.Name(uint32(th.Syscall))
			if !ok {
				name = strconv.Itoa(th.Syscall)
			}
			c.busy[th.TID] = name
		}
	}
	return c
}

// checkThreads compares the threads at the end of a test with those at its
// start and describes a leak, or returns "". A leak is a thread still in
// filter mode, a thread blocked in a system call that idle runtime threads do
// not use, or more idle threads than idleThreadAllowance.
func checkThreads(start, end threadCensus) string {
	var problems []string
	if len(end.filtered) > len(start.filtered) {
		problems = append(problems, fmt.Sprintf("%d threads in seccomp filter mode, %d at start (tids %v)", len(end.filtered), len(start.filtered), end.filtered))
	}
	if len(end.busy) > len(start.busy) {
		var calls []string
		for tid, name := range end.busy {
			if _, ok := start.busy[tid]; !ok {
				calls = append(calls, fmt.Sprintf("%d in %s", tid, name))
			}
		}
		problems = append(problems, fmt.Sprintf("threads blocked in system calls: %s", strings.Join(calls, ", ")))
	}
	if end.total > start.total+idleThreadAllowance {
		problems = append(problems, fmt.Sprintf("%d threads, %d at start, more than the %d idle runtime threads allowed", end.total, start.total, idleThreadAllowance))
	}
	return strings.Join(problems, "; ")
}

func openFDs(t *testing.T) map[string]string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := make(map[string]string, len(entries))
	for _, e := range entries {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds[e.Name()] = target
	}
	return fds
}

func newFDs(before, after map[string]string) []string {
	var extra []string
	for fd, target := range after {
		if before[fd] != target && !strings.HasPrefix(target, "/proc/") {
			extra = append(extra, fd+" -> "+target)
		}
	}
	return extra
}

// kernelRelease returns the running kernel's release and its major and minor
// version.
var kernelRelease = sync.OnceValues(func() (string, [2]int) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "unknown", [2]int{}
	}
	release := unix.ByteSliceToString(uts.Release[:])
	return release, parseVersion(release)
})

// parseVersion returns the major and minor numbers at the start of a kernel
// release or version string such as "6.1.0-50-amd64" or "5.19".
func parseVersion(s string) [2]int {
	var v [2]int
	parts := strings.SplitN(s, ".", 3)
	for i := 0; i < 2 && i < len(parts); i++ {
		part := parts[i]
		end := strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' })
		if end >= 0 {
			part = part[:end]
		}
		v[i], _ = strconv.Atoi(part)
	}
	return v
}

func versionBefore(a, b [2]int) bool {
	return a[0] < b[0] || a[0] == b[0] && a[1] < b[1]
}

// requireFeature skips the test when the running kernel lacks a feature, and
// fails it when the feature's declared first kernel version disagrees with
// the running kernel: missing on a kernel at least that new, or present on
// an older one. minVersion is "none" for a feature in no released kernel.
// probeErr is the result of probing the feature.
//
// It prints a line the VM test runner collects to check the same claims on
// every kernel of its matrix.
func requireFeature(t *testing.T, feature, minVersion string, probeErr error) {
	t.Helper()
	release, running := kernelRelease()
	result := "run"
	if probeErr != nil {
		result = "skip"
	}
	fmt.Printf("seccomp-feature: name=%s min=%s kernel=%s result=%s\n", feature, minVersion, release, result)

	if probeErr != nil && !errors.Is(probeErr, seccomp.ErrNotSupported) {
		t.Fatalf("probe %s: %v", feature, probeErr)
	}
	if minVersion == "none" {
		if probeErr != nil {
			t.Skipf("%s is in no released kernel and kernel %s lacks it: %v", feature, release, probeErr)
		}
		return
	}

	min := parseVersion(minVersion)
	switch {
	case probeErr != nil && !versionBefore(running, min):
		t.Fatalf("%s should be supported since Linux %s, but kernel %s lacks it: %v", feature, minVersion, release, probeErr)
	case probeErr == nil && versionBefore(running, min):
		t.Fatalf("%s is declared to need Linux %s, but kernel %s supports it", feature, minVersion, release)
	case probeErr != nil:
		t.Skipf("%s needs Linux %s or later; kernel %s lacks it: %v", feature, minVersion, release, probeErr)
	}
}

// childCommand returns a command that runs the test binary in mode, with no
// filter of the test's own.
func childCommand(mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, childEnv+"="+mode)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// startReceivers starts count goroutines that each call Receive once on l,
// and returns the channel their errors arrive on.
func startReceivers(l *seccomp.Listener, count int) <-chan error {
	errs := make(chan error, count)
	for range count {
		go func() {
			var n seccomp.Notif
			errs <- l.Receive(&n)
		}()
	}
	return errs
}
