package launch_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/internal/procstat"
	"github.com/seccompgo/seccomp/launch"
)

// hardeningEnv selects a mode of this file when the test binary re-executes
// itself. It is separate from childEnv, whose modes are the targets.
const hardeningEnv = "LAUNCH_HARDENING_CHILD"

func init() {
	if os.Getenv(hardeningEnv) == "start-trapping" {
		os.Exit(startTrapping(os.Getenv("TRAP")))
	}
}

// startTrapping starts the getppid target with launch.Start under a filter
// that notifies the system call trap and getppid, with a Serve that lets
// every call continue, while another goroutine keeps the garbage collector
// stopping the world. It prints "rejected: ERROR" or "started: OUTPUT".
func startTrapping(trap string) int {
	prog, err := launch.NotifyFilterNames([]string{trap, "getppid"})
	if err != nil {
		fmt.Println(err)
		return 1
	}

	stopGC := make(chan struct{})
	defer close(stopGC)
	go func() {
		for {
			select {
			case <-stopGC:
				return
			default:
			}
			runtime.GC()
		}
	}()

	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, hardeningEnv+"=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(env, childEnv+"=getppid")
	out := new(bytes.Buffer)
	cmd.Stdout = out
	cmd.Stderr = os.Stderr

	served := make(chan error, 1)
	l, err := launch.Start(cmd, launch.Options{Filter: prog, Serve: func(l *seccomp.Listener) {
		var n seccomp.Notif
		for {
			if err := l.Receive(&n); err != nil {
				served <- err
				return
			}
			if err := l.Continue(n.ID); err != nil && !errors.Is(err, seccomp.ErrNotifGone) {
				served <- err
				return
			}
		}
	}})
	if err != nil {
		fmt.Printf("rejected: %v\n", err)
		return 0
	}
	defer l.Close()
	if err := cmd.Wait(); err != nil {
		fmt.Printf("target: %v\n", err)
		return 1
	}
	if err := <-served; !errors.Is(err, seccomp.ErrNoTargets) {
		fmt.Printf("serve: %v\n", err)
		return 1
	}
	fmt.Printf("started: %s", out)
	return 0
}

// TestStartTrappingLauncherCalls runs launch.Start with filters that notify
// a system call the launch itself makes, in a child process with GOMAXPROCS=1
// while the garbage collector runs in a loop. Start must either start the
// target, with Serve answering, or reject the filter up front naming the
// call. A deadlock shows up as a child that does not finish within a minute.
func TestStartTrappingLauncherCalls(t *testing.T) {
	checkNoLeaks(t)
	checkThreads(t)
	const (
		mustStart = "start"  // Start must start the target
		either    = "either" // Start may also reject the filter, but must not deadlock
	)
	tests := []struct {
		trap, outcome string
	}{
		// The runtime may call futex on the launching thread before Serve
		// runs. The child makes the others before its execve completes, or
		// the parent while it waits for the child without giving up its P.
		{"futex", either},
		{"clone", either},
		{"clone3", either},
		{"pipe2", either},
		{"execve", either},
		{"fcntl", either},
		{"dup3", either},
		{"write", either},
		{"prlimit64", either},
		// The launch makes these only where Serve can answer them.
		{"sendmsg", mustStart},
		{"read", mustStart},
		{"openat", mustStart},
		{"close", mustStart},
	}
	for _, tt := range tests {
		if _, err := launch.Resolve([]string{tt.trap}); err != nil {
			continue // not a system call on this architecture
		}
		t.Run(tt.trap, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), hardeningEnv+"=start-trapping", "TRAP="+tt.trap, "GOMAXPROCS=1")
			cmd.Stderr = os.Stderr
			timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
			out, err := cmd.Output()
			if !timer.Stop() {
				t.Fatalf("launch.Start with %s notified did not finish within 60s: a deadlock; output %q", tt.trap, out)
			}
			if err != nil {
				t.Fatalf("child: %v; output %q", err, out)
			}

			got := strings.TrimSpace(string(out))
			started := fmt.Sprintf("started: ret=%d errno=0", cmd.Process.Pid)
			rejected := strings.HasPrefix(got, "rejected: launch: filter returns USER_NOTIF for "+tt.trap+", ")
			switch {
			case got == started:
			case rejected && tt.outcome == either:
			default:
				t.Errorf("output %q, want %s (%q, or a rejection naming %s)", got, tt.outcome, started, tt.trap)
			}
			t.Logf("%s: %s", tt.trap, got)
		})
	}
}

func TestStartMoreBadInput(t *testing.T) {
	checkNoLeaks(t)
	checkThreads(t)
	prog, err := launch.NotifyFilterNames([]string{"getppid"})
	if err != nil {
		t.Fatal(err)
	}
	started := exec.Command(os.Args[0], "-test.run=^$")
	started.Env = append(os.Environ(), childEnv+"=getppid")
	if err := started.Start(); err != nil {
		t.Fatal(err)
	}
	defer started.Wait()

	tests := []struct {
		name    string
		cmd     *exec.Cmd
		opts    launch.Options
		wantErr string
	}{
		{"nil command", nil, launch.Options{Filter: prog}, "launch: nil command"},
		{"started command", started, launch.Options{Filter: prog}, "launch: command already started"},
		{"no path", &exec.Cmd{}, launch.Options{Filter: prog}, "launch: command has no path"},
		{"unknown flag", exec.Command(os.Args[0]), launch.Options{Filter: prog, Flags: 0x400},
			"launch: seccomp: probe filter flags: unknown filter flag bits 0x400"},
		{"nil filter with Serve", exec.Command(os.Args[0]), launch.Options{Serve: func(*seccomp.Listener) {}}, "launch: empty filter program"},
		{"not executable", exec.Command("/etc/passwd"), launch.Options{Filter: prog}, "launch: command /etc/passwd: not executable"},
		{"relative path in missing dir", &exec.Cmd{Path: "prog", Dir: "/nonexistent"}, launch.Options{Filter: prog},
			"launch: command prog: stat /nonexistent/prog: no such file or directory"},
	}
	for _, tt := range tests {
		l, err := launch.Start(tt.cmd, tt.opts)
		if err == nil {
			l.Close()
			t.Fatalf("%s: Start succeeded", tt.name)
		}
		if err.Error() != tt.wantErr {
			t.Errorf("%s: error %q, want %q", tt.name, err, tt.wantErr)
		}
	}

	// A directory that does not exist fails in the child, after the filter
	// is installed: Start must still leave nothing behind.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = "/nonexistent"
	served := make(chan error, 1)
	l, err := launch.Start(cmd, launch.Options{Filter: prog, Serve: func(l *seccomp.Listener) {
		var n seccomp.Notif
		served <- l.Receive(&n)
	}})
	if err == nil {
		l.Close()
		t.Fatal("Start succeeded in a directory that does not exist")
	}
	if !strings.Contains(err.Error(), "chdir /nonexistent: no such file or directory") {
		t.Errorf("error %q, want the chdir failure", err)
	}
	// Serve finds the listener closed, or the filter's last user, the
	// launching thread, gone if that happened first.
	if got := <-served; !errors.Is(got, seccomp.ErrClosed) && !errors.Is(got, seccomp.ErrNoTargets) {
		t.Errorf("Serve's Receive after the failed Start: %v, want ErrClosed or ErrNoTargets", got)
	}

	started.Process.Kill()
}

func TestNotifyFilterRejectsX32Range(t *testing.T) {
	checkNoLeaks(t)
	checkThreads(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("the x32 ABI exists only on amd64")
	}
	for _, nr := range []uint32{0x40000000 | unix.SYS_GETPPID, 0x9f303030, 0xffffffff} {
		_, err := launch.NotifyFilter([]uint32{unix.SYS_GETPPID, nr})
		want := fmt.Sprintf("launch: notify filter: system call number %#x is at or above the x32 bit 0x40000000, and the filter kills every such call", nr)
		if err == nil || err.Error() != want {
			t.Errorf("NotifyFilter with %#x: %v, want %q", nr, err, want)
		}
	}
}

// checkThreads fails the test if it leaves a thread in seccomp filter mode,
// or a thread blocked in a system call other than those idle runtime threads
// wait in. The root package's idleThreadAllowance explains the rule. The
// launch tests block at most a few goroutines at once, so they allow 8 more
// idle threads than at the start.
func checkThreads(t *testing.T) {
	t.Helper()
	idle := map[int]bool{}
	for _, name := range []string{"futex", "epoll_wait", "epoll_pwait", "epoll_pwait2", "nanosleep", "clock_nanosleep"} {
		if nrs, err := launch.Resolve([]string{name}); err == nil {
			idle[int(nrs[0])] = true
		}
	}
	census := func() (total, filtered, busy int) {
		threads, err := procstat.Threads()
		if err != nil {
			t.Fatalf("list threads: %v", err)
		}
		for _, th := range threads {
			if th.Filtered {
				filtered++
			}
			if th.Syscall >= 0 && !idle[th.Syscall] {
				busy++
			}
		}
		return len(threads), filtered, busy
	}

	total, filtered, busy := census()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			nowTotal, nowFiltered, nowBusy := census()
			ok := nowFiltered <= filtered && nowBusy <= busy && nowTotal <= total+8
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("threads leaked: %d threads (%d filtered, %d blocked in other calls) at start, %d (%d, %d) at end",
					total, filtered, busy, nowTotal, nowFiltered, nowBusy)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
