package launch_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/launch"
	"github.com/seccompgo/seccomp/sysnum"
)

const childEnv = "LAUNCH_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "getppid":
		r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		fmt.Printf("ret=%d errno=%d\n", int(r), int(errno))
		os.Exit(0)
	case "status":
		// What the re-exec helper could leak into the command: its
		// variable, its signal mask and its socket. The Go runtime itself
		// may hold other fds open, such as a cgroup file.
		_, helperSet := os.LookupEnv(launch.HelperEnv)
		_, fd3Err := unix.FcntlInt(3, unix.F_GETFD, 0)
		sockets := 0
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if link, _ := os.Readlink("/proc/self/fd/" + fd.Name()); strings.HasPrefix(link, "socket:") {
				sockets++
			}
		}
		fmt.Printf("helper-env=%t %s fd3=%v sockets=%d\n", helperSet, sigBlk(), fd3Err, sockets)
		os.Exit(0)
	default:
		os.Exit(2)
	}
}

func childCommand(mode string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	out := new(bytes.Buffer)
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	return cmd, out
}

func TestNotifyFilter(t *testing.T) {
	prog, err := launch.NotifyFilter([]uint32{unix.SYS_GETPPID, unix.SYS_OPENAT, unix.SYS_GETPPID})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		data seccomp.Data
		want seccomp.Action
	}{
		{"notified call", seccomp.Data{Nr: unix.SYS_GETPPID, Arch: seccomp.AuditArchNative}, seccomp.ActionUserNotif},
		{"second notified call", seccomp.Data{Nr: unix.SYS_OPENAT, Arch: seccomp.AuditArchNative}, seccomp.ActionUserNotif},
		{"other call", seccomp.Data{Nr: unix.SYS_GETPID, Arch: seccomp.AuditArchNative}, seccomp.ActionAllow},
		{"foreign architecture", seccomp.Data{Nr: unix.SYS_GETPPID, Arch: 0x40000003}, seccomp.ActionKillProcess},
	}
	if runtime.GOARCH == "amd64" {
		tests = append(tests, struct {
			name string
			data seccomp.Data
			want seccomp.Action
		}{"x32 call", seccomp.Data{Nr: 0x40000000 | unix.SYS_GETPID, Arch: seccomp.AuditArchNative}, seccomp.ActionKillProcess})
	}
	for _, tt := range tests {
		got, err := seccomp.Evaluate(prog, &tt.data)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: filter returns %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNotifyFilterBadInput(t *testing.T) {
	tests := []struct {
		name    string
		build   func() ([]unix.SockFilter, error)
		wantErr string
	}{
		{"no calls", func() ([]unix.SockFilter, error) { return launch.NotifyFilter(nil) }, "no system calls to notify"},
		{"no names", func() ([]unix.SockFilter, error) { return launch.NotifyFilterNames([]string{}) }, "no system calls to notify"},
		{"unknown name", func() ([]unix.SockFilter, error) { return launch.NotifyFilterNames([]string{"openat", "nosuchcall"}) },
			`unknown system call "nosuchcall" on ` + runtime.GOARCH},
		{"too many calls", func() ([]unix.SockFilter, error) {
			nrs := make([]uint32, 3000)
			for i := range nrs {
				nrs[i] = uint32(i)
			}
			return launch.NotifyFilter(nrs)
		}, "3000 system calls need"},
	}
	for _, tt := range tests {
		_, err := tt.build()
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// serveAll answers every notification with CONTINUE and records the names
// of the calls it saw.
type serveAll struct {
	mu    sync.Mutex
	calls []string
	done  chan error
}

func newServeAll() *serveAll { return &serveAll{done: make(chan error, 1)} }

func (s *serveAll) serve(l *seccomp.Listener) {
	var n seccomp.Notif
	for {
		err := l.Receive(&n)
		if err != nil {
			s.done <- err
			return
		}
		name, _ := sysnum.Name(uint32(n.Data.Nr))
		if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", n.Pid)); err == nil {
			name = "launcher " + name // a call of this process's launching thread
		}
		s.mu.Lock()
		s.calls = append(s.calls, name)
		s.mu.Unlock()
		if err := l.Continue(n.ID); err != nil && !errors.Is(err, seccomp.ErrNotifGone) {
			s.done <- err
			return
		}
	}
}

func (s *serveAll) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func TestStartServesStartup(t *testing.T) {
	checkNoLeaks(t)
	prog, err := launch.NotifyFilterNames([]string{"read", "getppid"})
	if err != nil {
		t.Fatal(err)
	}
	cmd, out := childCommand("getppid")
	s := newServeAll()

	l, err := launch.Start(cmd, launch.Options{Filter: prog, Serve: s.serve})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if err := <-s.done; !errors.Is(err, seccomp.ErrNoTargets) {
		t.Errorf("serve ended with %v, want ErrNoTargets", err)
	}
	l.Close()

	if got, want := strings.TrimSpace(out.String()), fmt.Sprintf("ret=%d errno=0", os.Getpid()); got != want {
		t.Errorf("child output %q, want %q", got, want)
	}
	// The launching thread's read of the child's status pipe was trapped
	// during start-up and answered.
	if calls := s.seen(); !slices.Contains(calls, "launcher read") || calls[len(calls)-1] != "getppid" {
		t.Errorf("notified calls %v, want a read of the launching thread and getppid last", calls)
	}
}

func TestStartLeavesOtherThreadsUnfiltered(t *testing.T) {
	checkNoLeaks(t)
	before := filteredThreads(t)
	prog, _ := launch.NotifyFilterNames([]string{"getppid"})
	cmd, _ := childCommand("getppid")
	s := newServeAll()

	l, err := launch.Start(cmd, launch.Options{Filter: prog, Serve: s.serve})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	<-s.done
	l.Close()

	// The launching thread exits once its goroutine returns.
	deadline := time.Now().Add(5 * time.Second)
	for filteredThreads(t) > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := filteredThreads(t); after > before {
		t.Errorf("%d threads of the test process are in filter mode, %d before Start", after, before)
	}
}

// filteredThreads counts this process's threads in seccomp filter mode.
func filteredThreads(t *testing.T) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, task := range tasks {
		status, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if err == nil && strings.Contains(string(status), "\nSeccomp:\t2\n") {
			count++
		}
	}
	return count
}

func TestStartRejects(t *testing.T) {
	notify := func(names ...string) []unix.SockFilter {
		prog, err := launch.NotifyFilterNames(names)
		if err != nil {
			t.Fatal(err)
		}
		return prog
	}
	serve := func(l *seccomp.Listener) {}

	tests := []struct {
		name    string
		cmd     *exec.Cmd
		opts    launch.Options
		wantErr string
	}{
		{"missing executable", exec.Command("/nonexistent/program"), launch.Options{Filter: notify("getppid")},
			"launch: command /nonexistent/program: stat /nonexistent/program: no such file or directory"},
		{"not in PATH", exec.Command("no-such-program-in-path"), launch.Options{Filter: notify("getppid")},
			"launch: command no-such-program-in-path: executable file not found in $PATH"},
		{"directory", exec.Command("/"), launch.Options{Filter: notify("getppid")}, "launch: command /: is a directory"},
		{"empty filter", exec.Command(os.Args[0]), launch.Options{}, "launch: empty filter program"},
		{"TSYNC", exec.Command(os.Args[0]), launch.Options{Filter: notify("getppid"), Flags: seccomp.FilterFlagTSync},
			"launch: flag TSYNC would install the filter on every thread"},
		{"exec trapped without Serve", exec.Command(os.Args[0]), launch.Options{Filter: notify("execve")},
			"launch: filter returns USER_NOTIF for execve, which starting the process needs; set Options.Serve"},
		{"sendmsg trapped in re-exec route", exec.Command(os.Args[0]), launch.Options{Filter: notify("execve", "sendmsg"), Serve: serve},
			"launch: filter returns USER_NOTIF for sendmsg, which the re-exec helper makes before the launcher has the listener"},
		{"openat trapped without Serve", exec.Command(os.Args[0]), launch.Options{Filter: notify("openat")},
			"launch: filter returns USER_NOTIF for openat, which starting the process needs; set Options.Serve"},
		{"runtime call trapped", exec.Command(os.Args[0]), launch.Options{Filter: notify("futex"), Serve: serve},
			"launch: filter returns USER_NOTIF for futex, which the Go runtime may call on the launching thread"},
		{"invalid program", exec.Command(os.Args[0]), launch.Options{Filter: []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_IMM}}},
			"launch: invalid filter program: instruction 0: the last instruction must be a return"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeaks(t)
			l, err := launch.Start(tt.cmd, tt.opts)
			if err == nil {
				l.Close()
				tt.cmd.Process.Kill()
				tt.cmd.Wait()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want one containing %q", err, tt.wantErr)
			}
			if tt.cmd.Process != nil {
				t.Errorf("a process was started")
			}
		})
	}
}

func TestStartNestedUnsupported(t *testing.T) {
	if seccomp.HaveNestedListeners() == nil {
		t.Skip("kernel supports nested listeners; this covers kernels without them")
	}
	checkNoLeaks(t)
	prog, _ := launch.NotifyFilterNames([]string{"getppid"})
	_, err := launch.Start(exec.Command(os.Args[0]), launch.Options{Filter: prog, Flags: seccomp.FilterFlagAllowNestedListeners})
	if !errors.Is(err, seccomp.ErrNotSupported) || !strings.Contains(err.Error(), "ALLOW_NESTED_LISTENERS (proposed, not in a released kernel)") {
		t.Errorf("error %v, want ErrNotSupported naming ALLOW_NESTED_LISTENERS", err)
	}
}

// checkNoLeaks fails the test if it leaves more open fds or goroutines than
// it started with.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	count := func() (int, int) {
		fds, _ := os.ReadDir("/proc/self/fd")
		return len(fds), runtime.NumGoroutine()
	}
	fds, goroutines := count()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			nowFDs, nowG := count()
			if nowFDs <= fds && nowG <= goroutines {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leak: %d fds and %d goroutines at start, %d and %d at end", fds, goroutines, nowFDs, nowG)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
