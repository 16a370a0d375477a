package seccomp_test

// Tests of nested listeners, the proposed SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS
// (patch series "seccomp: support nested listeners", v3). The first four port
// the series' own selftests to Go; the rest are cases of this package. Every
// chain of filters is built on a disposable thread, which then starts the
// target, so the target inherits the chain.

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
)

// magic is INT_MAX, the base of the values the selftests answer with.
const magic = 2147483647

const nestedFlags = seccomp.FilterFlagNewListener | seccomp.FilterFlagAllowNestedListeners

func requireNested(t *testing.T) {
	t.Helper()
	requireFeature(t, "nested listeners", "none", seccomp.HaveNestedListeners())
}

// chain installs filters on the calling thread.
type chain struct {
	fds []int // listener fds, in installation order
}

// notify installs a filter that notifies getppid, with flags.
func (c *chain) notify(flags seccomp.FilterFlag) (int, error) {
	fd, err := seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPPID), flags)
	if err == nil && fd >= 0 {
		c.fds = append(c.fds, fd)
	}
	return fd, err
}

// noop installs a filter that allows everything.
func (c *chain) noop() error {
	_, err := seccomp.SetModeFilter(allowFilter(), 0)
	return err
}

// startInChain builds a chain with build on a disposable thread, starts the
// test binary in mode from that thread, and returns the started command and
// its output buffer. Cleanup kills the child.
func startInChain(t *testing.T, mode string, build func(c *chain) error) (*childProcess, []int) {
	t.Helper()
	p := &childProcess{out: new(bytes.Buffer)}
	p.cmd = childCommand(mode)
	p.cmd.Stdout = p.out

	var c chain
	var err error
	onDiscardedThread(func() {
		if err = seccomp.SetNoNewPrivs(); err != nil {
			return
		}
		if err = build(&c); err != nil {
			return
		}
		err = p.cmd.Start()
	})
	if err != nil {
		for _, fd := range c.fds {
			unix.Close(fd)
		}
		t.Fatalf("build chain: %v", err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p, c.fds
}

type childProcess struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

// listenersFor wraps fds in Listeners closed at cleanup.
func listenersFor(t *testing.T, fds []int) []*seccomp.Listener {
	t.Helper()
	ls := make([]*seccomp.Listener, len(fds))
	for i, fd := range fds {
		l, err := seccomp.NewListener(fd)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		ls[i] = l
	}
	return ls
}

// expectGetppid receives one notification on l and checks it is the child's
// getppid.
func expectGetppid(t *testing.T, l *seccomp.Listener, p *childProcess) seccomp.Notif {
	t.Helper()
	n := receive(t, l)
	// Pid is the thread that made the call, any thread of the Go child.
	if !isThreadOf(p.cmd.Process.Pid, n.Pid) || n.Data.Nr != unix.SYS_GETPPID {
		t.Fatalf("notification pid %d nr %d, want a thread of the child %d and getppid", n.Pid, n.Data.Nr, p.cmd.Process.Pid)
	}
	return n
}

// expectIdle fails if l has a notification pending within wait.
func expectIdle(t *testing.T, l *seccomp.Listener, wait time.Duration) {
	t.Helper()
	rc, err := l.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var revents int16
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		unix.Poll(fds, int(wait/time.Millisecond))
		revents = fds[0].Revents
	})
	if revents&unix.POLLIN != 0 {
		t.Errorf("listener has a notification pending, want none")
	}
}

// childResult waits for the child and returns getppid's result.
func childResult(t *testing.T, p *childProcess) (int, unix.Errno) {
	t.Helper()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("child: %v, output %q", err, p.out.String())
	}
	return parseChildResult(t, strings.TrimSpace(p.out.String()))
}

// Selftest user_notification_many_ret_notif_old_behavior: a closed listener
// does not count, so a listener without the nesting flag can be installed
// below it, and it is the first listener, whose CONTINUE runs the call.
func TestNestedOldBehaviorWithClosedListener(t *testing.T) {
	requireFeature(t, "flag NEW_LISTENER", "5.0", seccomp.HaveFilterFlag(seccomp.FilterFlagNewListener))
	checkNoLeaks(t)
	p, fds := startInChain(t, "getppid", func(c *chain) error {
		if err := c.noop(); err != nil {
			return err
		}
		if _, err := c.notify(0); err != nil { // USER_NOTIF without a listener
			return err
		}
		a, err := c.notify(seccomp.FilterFlagNewListener)
		if err != nil {
			return err
		}
		unix.Close(a)
		c.fds = c.fds[:0]
		if _, err := c.notify(seccomp.FilterFlagNewListener); err != nil {
			return fmt.Errorf("listener below a closed one: %w", err)
		}
		return c.noop()
	})
	l := listenersFor(t, fds)[0]

	n := expectGetppid(t, l, p)
	if err := l.Continue(n.ID); err != nil {
		t.Fatal(err)
	}
	if ret, errno := childResult(t, p); ret != os.Getpid() || errno != 0 {
		t.Errorf("getppid returned %d errno %v, want the real parent %d", ret, errno, os.Getpid())
	}
}

// Selftest user_notification_many_ret_notif_closed_listener_nested: after
// the inner listener's CONTINUE, the walk reaches the outer listener, which
// is closed, and the call fails with ENOSYS.
func TestNestedClosedOuterListener(t *testing.T) {
	requireNested(t)
	checkNoLeaks(t)
	p, fds := startInChain(t, "getppid", func(c *chain) error {
		if err := c.noop(); err != nil {
			return err
		}
		outer, err := c.notify(nestedFlags)
		if err != nil {
			return err
		}
		if _, err := c.notify(seccomp.FilterFlagNewListener); err != nil {
			return err
		}
		unix.Close(outer)
		c.fds = c.fds[1:]
		return c.noop()
	})
	inner := listenersFor(t, fds)[0]

	n := expectGetppid(t, inner, p)
	if err := inner.Continue(n.ID); err != nil {
		t.Fatal(err)
	}
	if ret, errno := childResult(t, p); ret != -1 || errno != unix.ENOSYS {
		t.Errorf("getppid returned %d errno %v, want -1 ENOSYS", ret, errno)
	}
}

func init() {
	// nested-limits: below the parent's six nesting listeners, install a
	// listener without the flag, a no-op filter, and another listener, which
	// must fail with EBUSY. Prints one line per step.
	childModes["nested-limits"] = func() int {
		runtime.LockOSThread()
		var c chain
		_, err := c.notify(seccomp.FilterFlagNewListener)
		fmt.Printf("listener: %v\n", err)
		fmt.Printf("noop: %v\n", c.noop())
		_, err = c.notify(seccomp.FilterFlagNewListener)
		fmt.Printf("second listener: busy=%t errno=%v\n", errors.Is(err, seccomp.ErrListenerExists), errnoOf(err))
		return 0
	}
}

func errnoOf(err error) unix.Errno {
	var e *seccomp.Error
	if errors.As(err, &e) {
		return e.Errno
	}
	return 0
}

// Selftest user_notification_nested_limits: no numeric limit on nesting,
// but a listener without the flag still blocks the next one below it.
func TestNestedInstallationRules(t *testing.T) {
	requireNested(t)
	checkNoLeaks(t)
	p, fds := startInChain(t, "nested-limits", func(c *chain) error {
		for range 6 {
			if _, err := c.notify(nestedFlags); err != nil {
				return err
			}
			if err := c.noop(); err != nil {
				return err
			}
		}
		return nil
	})
	listenersFor(t, fds)

	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	want := "listener: <nil>\nnoop: <nil>\nsecond listener: busy=true errno=device or resource busy"
	if got := strings.TrimSpace(p.out.String()); got != want {
		t.Errorf("child output:\n%s\nwant:\n%s", got, want)
	}
}

// Selftest user_notification_nested: six nesting listeners, each below a
// listener-less USER_NOTIF filter. Listeners 5 and 4 answer CONTINUE,
// listener 3 answers a value, and listeners 0 to 2 never see the call.
func TestNestedSixLevelsInnermostFirst(t *testing.T) {
	requireNested(t)
	checkNoLeaks(t)
	p, fds := startInChain(t, "getppid", func(c *chain) error {
		for range 6 {
			if _, err := c.notify(0); err != nil {
				return err
			}
			if _, err := c.notify(nestedFlags); err != nil {
				return err
			}
			if err := c.noop(); err != nil {
				return err
			}
		}
		return nil
	})
	ls := listenersFor(t, fds)

	for i := 5; i >= 3; i-- {
		n := expectGetppid(t, ls[i], p)
		var err error
		if i == 3 {
			err = ls[i].RespondValue(n.ID, magic-3)
		} else {
			err = ls[i].Continue(n.ID)
		}
		if err != nil {
			t.Fatalf("listener %d: %v", i, err)
		}
	}
	if ret, errno := childResult(t, p); ret != magic-3 || errno != 0 {
		t.Errorf("getppid returned %d errno %v, want %d", ret, errno, magic-3)
	}
	for i := range 3 {
		expectIdle(t, ls[i], 10*time.Millisecond)
	}
}

// An answer from the inner listener ends the call: the outer listener is
// never notified, for a value and for an errno.
func TestNestedInnerAnswerHidesOuter(t *testing.T) {
	requireNested(t)
	for _, answer := range []string{"value", "errno"} {
		t.Run(answer, func(t *testing.T) {
			checkNoLeaks(t)
			p, fds := startInChain(t, "getppid", func(c *chain) error {
				if _, err := c.notify(nestedFlags); err != nil {
					return err
				}
				_, err := c.notify(seccomp.FilterFlagNewListener)
				return err
			})
			ls := listenersFor(t, fds)
			outer, inner := ls[0], ls[1]

			n := expectGetppid(t, inner, p)
			wantRet, wantErrno := 1234, unix.Errno(0)
			if answer == "errno" {
				wantRet, wantErrno = -1, unix.EACCES
				if err := inner.RespondErrno(n.ID, unix.EACCES); err != nil {
					t.Fatal(err)
				}
			} else if err := inner.RespondValue(n.ID, 1234); err != nil {
				t.Fatal(err)
			}

			if ret, errno := childResult(t, p); ret != wantRet || errno != wantErrno {
				t.Errorf("getppid returned %d errno %v, want %d %v", ret, errno, wantRet, wantErrno)
			}
			expectIdle(t, outer, 10*time.Millisecond)
		})
	}
}

func init() {
	// getppid-fds: call getppid, then print its result and the open fds.
	childModes["getppid-fds"] = func() int {
		r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		entries, _ := os.ReadDir("/proc/self/fd")
		var fds []string
		for _, e := range entries {
			fds = append(fds, e.Name())
		}
		fmt.Printf("ret=%d errno=%d\nfds=%s\n", int(r), int(errno), strings.Join(fds, ","))
		return 0
	}
}

// An fd the inner listener adds before its CONTINUE stays in the target,
// whatever the outer listener answers.
func TestNestedAddFDBeforeContinue(t *testing.T) {
	requireNested(t)
	checkNoLeaks(t)
	p, fds := startInChain(t, "getppid-fds", func(c *chain) error {
		if _, err := c.notify(nestedFlags); err != nil {
			return err
		}
		_, err := c.notify(seccomp.FilterFlagNewListener)
		return err
	})
	ls := listenersFor(t, fds)
	outer, inner := ls[0], ls[1]
	src := memfdWith(t, "nested")

	n := expectGetppid(t, inner, p)
	targetFD, err := inner.AddFD(&seccomp.NotifAddFD{ID: n.ID, SrcFD: uint32(src)})
	if err != nil {
		t.Fatal(err)
	}
	if err := inner.Continue(n.ID); err != nil {
		t.Fatal(err)
	}
	n = expectGetppid(t, outer, p)
	if err := outer.RespondErrno(n.ID, unix.EPERM); err != nil {
		t.Fatal(err)
	}

	if err := p.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(p.out.String()), "\n")
	if len(lines) != 2 || lines[0] != fmt.Sprintf("ret=-1 errno=%d", int(unix.EPERM)) {
		t.Fatalf("child output %q, want the outer listener's EPERM", p.out.String())
	}
	if fdList := strings.Split(strings.TrimPrefix(lines[1], "fds="), ","); !contains(fdList, fmt.Sprint(targetFD)) {
		t.Errorf("fd %d added by the inner listener is missing from the target's fds %v", targetFD, fdList)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func init() {
	// nested-tsync: install an outer and an inner listener with TSYNC in
	// this process, call getppid on another thread, answer CONTINUE from the
	// inner listener and a value from the outer one, and print the result and
	// the order of the notifications.
	childModes["nested-tsync"] = func() int {
		fail := func(err error) int { fmt.Println("error:", err); return 1 }
		if err := seccomp.SetNoNewPrivs(); err != nil {
			return fail(err)
		}
		tsync := seccomp.FilterFlagTSync | seccomp.FilterFlagTSyncESRCH
		outerFD, err := seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPPID), tsync|nestedFlags)
		if err != nil {
			return fail(err)
		}
		innerFD, err := seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPPID), tsync|seccomp.FilterFlagNewListener)
		if err != nil {
			return fail(err)
		}
		outer, err := seccomp.NewListener(outerFD)
		if err != nil {
			return fail(err)
		}
		inner, err := seccomp.NewListener(innerFD)
		if err != nil {
			return fail(err)
		}

		result := make(chan string)
		go func() {
			runtime.LockOSThread()
			r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
			result <- fmt.Sprintf("ret=%d errno=%d", int(r), int(errno))
		}()
		var n seccomp.Notif
		if err := inner.Receive(&n); err != nil {
			return fail(err)
		}
		if err := inner.Continue(n.ID); err != nil {
			return fail(err)
		}
		if err := outer.Receive(&n); err != nil {
			return fail(err)
		}
		if err := outer.RespondValue(n.ID, 55); err != nil {
			return fail(err)
		}
		fmt.Println("inner, outer:", <-result)
		return 0
	}
}

// TSYNC applies both listeners of a nested chain to every thread.
func TestNestedTSync(t *testing.T) {
	requireNested(t)
	cmd := childCommand("nested-tsync")
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v, output %q", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "inner, outer: ret=55 errno=0" {
		t.Errorf("child output %q", got)
	}
}
