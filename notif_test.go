package seccomp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// ioc encodes an ioctl request number for the running architecture.
func ioc(dir string, nr, size uint64) uint64 {
	const typ = '!'
	switch runtime.GOARCH {
	case "mips", "mipsle", "mips64", "mips64le", "ppc64", "ppc64le":
		d := map[string]uint64{"none": 1, "r": 2, "w": 4, "rw": 6}[dir]
		return d<<29 | size<<16 | typ<<8 | nr
	default:
		d := map[string]uint64{"none": 0, "w": 1, "r": 2, "rw": 3}[dir]
		return d<<30 | size<<16 | typ<<8 | nr
	}
}

func TestIoctlNumbers(t *testing.T) {
	tests := []struct {
		name    string
		xsys    uint64
		formula uint64
	}{
		{"SECCOMP_IOCTL_NOTIF_RECV", unix.SECCOMP_IOCTL_NOTIF_RECV, ioc("rw", 0, 80)},
		{"SECCOMP_IOCTL_NOTIF_SEND", unix.SECCOMP_IOCTL_NOTIF_SEND, ioc("rw", 1, 24)},
		{"SECCOMP_IOCTL_NOTIF_ID_VALID", unix.SECCOMP_IOCTL_NOTIF_ID_VALID, ioc("w", 2, 8)},
		{"SECCOMP_IOCTL_NOTIF_ADDFD", unix.SECCOMP_IOCTL_NOTIF_ADDFD, ioc("w", 3, 24)},
		{"SECCOMP_IOCTL_NOTIF_SET_FLAGS", unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, ioc("w", 4, 8)},
		// x/sys has no constant for the number Linux 5.0 to 5.8 used.
		{"legacy SECCOMP_IOCTL_NOTIF_ID_VALID", ioc("r", 2, 8), ioc("r", 2, 8)},
	}
	for _, tt := range tests {
		got, ok := seccomp.IoctlNumbers[tt.name]
		if !ok {
			t.Errorf("%s: not generated", tt.name)
			continue
		}
		if got != tt.xsys || got != tt.formula {
			t.Errorf("%s = %#x, x/sys has %#x, the %s formula gives %#x", tt.name, got, tt.xsys, runtime.GOARCH, tt.formula)
		}
	}
}

func parseChildResult(t *testing.T, out string) (ret int, errno unix.Errno) {
	t.Helper()
	var e int
	if _, err := fmt.Sscanf(out, "ret=%d errno=%d", &ret, &e); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	return ret, unix.Errno(e)
}

func TestListenerContinue(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})

	n := receive(t, c.l)
	// Pid is the thread that made the call, any thread of the Go child.
	if !isThreadOf(c.cmd.Process.Pid, n.Pid) {
		t.Errorf("notification pid = %d, not a thread of the child %d", n.Pid, c.cmd.Process.Pid)
	}
	if n.Data.Nr != unix.SYS_GETPPID || n.Data.Arch != seccomp.AuditArchNative {
		t.Errorf("notification data nr %d arch %#x, want %d %#x", n.Data.Nr, n.Data.Arch, unix.SYS_GETPPID, seccomp.AuditArchNative)
	}
	if err := c.l.Continue(n.ID); err != nil {
		t.Fatal(err)
	}

	ret, errno := parseChildResult(t, c.wait(t))
	if ret != os.Getpid() || errno != 0 {
		t.Errorf("child's getppid returned %d errno %d, want the real parent %d", ret, errno, os.Getpid())
	}
}

func TestListenerRespondValue(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})

	n := receive(t, c.l)
	if err := c.l.RespondValue(n.ID, 4242); err != nil {
		t.Fatal(err)
	}

	if ret, errno := parseChildResult(t, c.wait(t)); ret != 4242 || errno != 0 {
		t.Errorf("child's getppid returned %d errno %d, want 4242", ret, errno)
	}
}

func TestListenerRespondErrno(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})

	n := receive(t, c.l)
	if err := c.l.RespondErrno(n.ID, unix.EPERM); err != nil {
		t.Fatal(err)
	}

	if ret, errno := parseChildResult(t, c.wait(t)); ret != -1 || errno != unix.EPERM {
		t.Errorf("child's getppid returned %d errno %d, want -1 EPERM", ret, errno)
	}
}

func TestRespondErrnoRange(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})
	n := receive(t, c.l)

	for _, errno := range []unix.Errno{0, 4096} {
		err := c.l.RespondErrno(n.ID, errno)
		if err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("RespondErrno(%d) = %v, want an out-of-range error", errno, err)
		}
	}
	if err := c.l.Continue(n.ID); err != nil {
		t.Fatalf("the notification should still be answerable: %v", err)
	}
	c.wait(t)
}

func TestRespondTwice(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})
	n := receive(t, c.l)

	if err := c.l.RespondValue(n.ID, 1); err != nil {
		t.Fatal(err)
	}
	// The kernel reports EINPROGRESS while the answered notification waits
	// for the target to wake, and ENOENT once the target has removed it.
	err := c.l.RespondValue(n.ID, 2)
	if !errors.Is(err, unix.EINPROGRESS) && !errors.Is(err, seccomp.ErrNotifGone) {
		t.Errorf("second answer: %v, want EINPROGRESS or ErrNotifGone", err)
	}
	c.wait(t)
}

func TestInvalidContinue(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})
	n := receive(t, c.l)

	// CONTINUE with a value is invalid, and the notification stays pending.
	err := c.l.Respond(&seccomp.NotifResp{ID: n.ID, Val: 1, Flags: seccomp.NotifRespFlagContinue})
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "CONTINUE with a non-zero error or value") {
		t.Errorf("CONTINUE with a value: %v, want an EINVAL explanation", err)
	}
	if err := c.l.Continue(n.ID); err != nil {
		t.Fatal(err)
	}
	c.wait(t)
}

// memfdWith returns a memfd holding data, positioned at its start.
func memfdWith(t *testing.T, data string) int {
	t.Helper()
	fd, err := unix.MemfdCreate("seccomp-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(fd, []byte(data), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// missingIf turns err into a probe result for requireFeature: an error
// matching errno means the kernel lacks the feature.
func missingIf(err error, errno unix.Errno) error {
	if errors.Is(err, errno) {
		return errors.Join(seccomp.ErrNotSupported, err)
	}
	return nil
}

func TestListenerAddFD(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid-fd", childOptions{})
	src := memfdWith(t, "added")

	n := receive(t, c.l)
	targetFD, err := c.l.AddFD(&seccomp.NotifAddFD{ID: n.ID, SrcFD: uint32(src)})
	requireFeature(t, "ioctl SECCOMP_IOCTL_NOTIF_ADDFD", "5.9", missingIf(err, unix.EINVAL))
	if err != nil {
		t.Fatal(err)
	}
	if targetFD < 3 {
		t.Errorf("target fd = %d, want a new fd above stdio", targetFD)
	}
	if err := c.l.RespondValue(n.ID, int64(targetFD)); err != nil {
		t.Fatal(err)
	}

	want := fmt.Sprintf("fd=%d cloexec=false data=added", targetFD)
	if out := c.wait(t); out != want {
		t.Errorf("child output %q, want %q", out, want)
	}
}

func TestListenerAddFDSetFD(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid-fd", childOptions{})
	src := memfdWith(t, "at 40")

	n := receive(t, c.l)
	targetFD, err := c.l.AddFD(&seccomp.NotifAddFD{ID: n.ID, Flags: seccomp.AddFDFlagSetFD, SrcFD: uint32(src), NewFD: 40, NewFDFlags: unix.O_CLOEXEC})
	requireFeature(t, "ioctl SECCOMP_IOCTL_NOTIF_ADDFD", "5.9", missingIf(err, unix.EINVAL))
	if err != nil {
		t.Fatal(err)
	}
	if targetFD != 40 {
		t.Errorf("target fd = %d, want 40", targetFD)
	}
	if err := c.l.RespondValue(n.ID, 40); err != nil {
		t.Fatal(err)
	}
	if out, want := c.wait(t), "fd=40 cloexec=true data=at 40"; out != want {
		t.Errorf("child output %q, want %q", out, want)
	}
}

func TestListenerRespondFD(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid-fd", childOptions{})
	src := memfdWith(t, "sent")

	n := receive(t, c.l)
	targetFD, err := c.l.RespondFD(n.ID, src, true)
	requireFeature(t, "ADDFD flag SEND", "5.14", missingIf(err, unix.EINVAL))
	if err != nil {
		t.Fatal(err)
	}

	want := fmt.Sprintf("fd=%d cloexec=true data=sent", targetFD)
	if out := c.wait(t); out != want {
		t.Errorf("child output %q, want %q", out, want)
	}
}

func TestAddFDBadRequest(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})
	src := memfdWith(t, "x")
	n := receive(t, c.l)

	tests := []struct {
		name    string
		req     seccomp.NotifAddFD
		errno   unix.Errno
		wantErr string
	}{
		{"bad newfd flags", seccomp.NotifAddFD{ID: n.ID, SrcFD: uint32(src), NewFDFlags: unix.O_NONBLOCK}, unix.EINVAL, "newfd_flags other than O_CLOEXEC"},
		{"newfd without SETFD", seccomp.NotifAddFD{ID: n.ID, SrcFD: uint32(src), NewFD: 9}, unix.EINVAL, "newfd set without SETFD"},
		{"bad source fd", seccomp.NotifAddFD{ID: n.ID, SrcFD: 1 << 20}, unix.EBADF, "bad source fd"},
		{"unknown id", seccomp.NotifAddFD{ID: n.ID + 1, SrcFD: uint32(src)}, unix.ENOENT, "notification no longer exists"},
	}
	for _, tt := range tests {
		_, err := c.l.AddFD(&tt.req)
		if !errors.Is(err, tt.errno) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %v with %q", tt.name, err, tt.errno, tt.wantErr)
		}
	}
	if _, err := c.l.RespondFD(n.ID, -1, false); err == nil || !strings.Contains(err.Error(), "invalid source fd -1") {
		t.Errorf("RespondFD(-1) = %v", err)
	}

	if err := c.l.Continue(n.ID); err != nil {
		t.Fatal(err)
	}
	c.wait(t)
}

func TestIDValidAfterTargetDied(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})
	n := receive(t, c.l)

	if err := c.l.IDValid(n.ID); err != nil {
		t.Fatalf("IDValid on a pending notification: %v", err)
	}
	if err := c.l.IDValid(n.ID ^ 1); !errors.Is(err, seccomp.ErrNotifGone) {
		t.Errorf("IDValid on an unknown id: %v, want ErrNotifGone", err)
	}

	c.cmd.Process.Kill()
	c.cmd.Wait()
	if err := c.l.IDValid(n.ID); !errors.Is(err, seccomp.ErrNotifGone) || !errors.Is(err, unix.ENOENT) {
		t.Errorf("IDValid after the target died: %v, want ErrNotifGone", err)
	}
	if err := c.l.Continue(n.ID); !errors.Is(err, seccomp.ErrNotifGone) {
		t.Errorf("Continue after the target died: %v, want ErrNotifGone", err)
	}
}

// waitReadable polls the listener until a notification is pending.
func waitReadable(t *testing.T, l *seccomp.Listener) {
	t.Helper()
	rc, err := l.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var revents int16
	err = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, 30000); err == nil {
			revents = fds[0].Revents
		}
	})
	if err != nil || revents&unix.POLLIN == 0 {
		t.Fatalf("listener not readable: revents %#x, %v", revents, err)
	}
}

func TestReceiveAfterTargetKilled(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})

	// The listener polls readable; the target dies before the receive.
	waitReadable(t, c.l)
	c.cmd.Process.Kill()
	c.cmd.Wait()

	// The raw ioctl reports the notification as gone.
	rc, _ := c.l.SyscallConn()
	var rawErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		rc.Control(func(fd uintptr) {
			var n seccomp.Notif
			rawErr = seccomp.IoctlNotifRecv(int(fd), &n)
		})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("RECV blocked after the target was killed")
	}
	if !errors.Is(rawErr, seccomp.ErrNotifGone) || !errors.Is(rawErr, unix.ENOENT) {
		t.Errorf("RECV after the target was killed: %v, want ErrNotifGone", rawErr)
	}

	// Receive skips the vanished notification and reports that no target is
	// left, instead of blocking.
	var n seccomp.Notif
	c.l.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := c.l.Receive(&n); !errors.Is(err, seccomp.ErrNoTargets) {
		t.Errorf("Receive: %v, want ErrNoTargets", err)
	}
}

func TestReceiveNoTargets(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})
	n := receive(t, c.l)
	if err := c.l.Continue(n.ID); err != nil {
		t.Fatal(err)
	}
	c.wait(t)

	// Before Linux 6.11 the filter's users drop only when the target is
	// reaped, which c.wait did.
	c.l.SetReadDeadline(time.Now().Add(30 * time.Second))
	err := c.l.Receive(&n)
	if !errors.Is(err, seccomp.ErrNoTargets) {
		t.Fatalf("Receive after the target exited: %v, want ErrNoTargets", err)
	}
	if want := "seccomp: receive: no task uses the filter any more"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestCloseWakesReceivers(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "wait-stdin", childOptions{stdin: true})

	const receivers = 3
	errs := startReceivers(c.l, receivers)
	time.Sleep(100 * time.Millisecond) // let them park

	start := time.Now()
	if err := c.l.Close(); err != nil {
		t.Fatal(err)
	}
	for range receivers {
		select {
		case err := <-errs:
			if !errors.Is(err, seccomp.ErrClosed) || !errors.Is(err, os.ErrClosed) {
				t.Errorf("Receive after Close: %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Receive still blocked 5s after Close")
		}
	}
	t.Logf("receivers woke %v after Close", time.Since(start))

	if err := c.l.Close(); !errors.Is(err, seccomp.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if err := c.l.Continue(1); !errors.Is(err, seccomp.ErrClosed) {
		t.Errorf("Continue after Close: %v, want ErrClosed", err)
	}
	if err := c.l.IDValid(1); !errors.Is(err, seccomp.ErrClosed) {
		t.Errorf("IDValid after Close: %v, want ErrClosed", err)
	}
	if err := c.l.SetReadDeadline(time.Now()); !errors.Is(err, seccomp.ErrClosed) {
		t.Errorf("SetReadDeadline after Close: %v, want ErrClosed", err)
	}
	c.stdin.Close()
	c.wait(t)
}

func TestReceiveDeadline(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "wait-stdin", childOptions{stdin: true})

	if err := c.l.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var n seccomp.Notif
	start := time.Now()
	err := c.l.Receive(&n)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive: %v, want os.ErrDeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed < 40*time.Millisecond {
		t.Errorf("Receive returned after %v, before the deadline", elapsed)
	}
	c.stdin.Close()
	c.wait(t)
}

// startTwoCalls starts a child that makes two notified calls pause apart
// and then idles until its stdin is closed, and responds to both calls.
func startTwoCalls(t *testing.T, pause time.Duration) *child {
	t.Helper()
	c := startChild(t, "getppid-twice-then-wait", childOptions{stdin: true, env: []string{"PAUSE=" + pause.String()}})
	for range 2 {
		n := receive(t, c.l)
		if err := c.l.Continue(n.ID); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// startBusyListener starts a child whose two notified calls make its
// listener busy, so that the next Receive first waits in the kernel. The
// caller lengthens that wait, which also lengthens the time between the
// notifications of a busy Listener, so that a slow machine keeps up.
func startBusyListener(t *testing.T) *child {
	t.Helper()
	return startTwoCalls(t, 0)
}

// waitForHotWaiter waits until a receiver waits in the kernel, and fails
// the test after 5s.
func waitForHotWaiter(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for seccomp.HotWaiters() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the receiver of a busy Listener did not wait in the kernel")
		}
		runtime.Gosched()
	}
}

// TestBusyListenerParks checks that a receiver of a busy Listener that
// waits in the kernel's poll gives up that wait and parks when nothing
// comes, so that an idle Listener holds no OS thread. The wait is
// lengthened to 50ms so that the test can observe it.
func TestBusyListenerParks(t *testing.T) {
	checkNoLeaks(t)
	defer seccomp.SetHotWait(50 * time.Millisecond)()
	c := startBusyListener(t)

	errs := startReceivers(c.l, 1)
	waitForHotWaiter(t)
	deadline := time.Now().Add(5 * time.Second)
	for seccomp.HotWaiters() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d receivers still wait in the kernel 5s after the last notification", seccomp.HotWaiters())
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-errs:
		t.Fatalf("Receive returned %v with no notification pending", err)
	case <-time.After(50 * time.Millisecond):
	}

	c.stdin.Close() // the child exits, so Receive reports no targets
	c.wait(t)
	if err := <-errs; !errors.Is(err, seccomp.ErrNoTargets) {
		t.Errorf("Receive: %v, want ErrNoTargets", err)
	}
}

// TestIdleListenerParksAtOnce checks that a Listener whose notifications
// come further apart than twice the wait in the kernel does not wait there:
// its receiver parks at once.
func TestIdleListenerParksAtOnce(t *testing.T) {
	checkNoLeaks(t)
	defer seccomp.SetHotWait(20 * time.Millisecond)()
	c := startTwoCalls(t, 100*time.Millisecond)

	errs := startReceivers(c.l, 1)
	for end := time.Now().Add(60 * time.Millisecond); time.Now().Before(end); {
		if hot := seccomp.HotWaiters(); hot != 0 {
			t.Fatalf("%d receivers wait in the kernel for a Listener whose notifications came 100ms apart", hot)
		}
		runtime.Gosched()
	}

	c.stdin.Close()
	c.wait(t)
	if err := <-errs; !errors.Is(err, seccomp.ErrNoTargets) {
		t.Errorf("Receive: %v, want ErrNoTargets", err)
	}
}

// TestBusyListenerClose closes a busy Listener while its receiver waits in
// the kernel's poll. Close cannot interrupt that wait, so the wait must end
// by itself and the receiver then return ErrClosed. The wait is lengthened
// to 200ms so that Close surely comes during it.
func TestBusyListenerClose(t *testing.T) {
	checkNoLeaks(t)
	const wait = 200 * time.Millisecond
	defer seccomp.SetHotWait(wait)()
	c := startBusyListener(t)

	errs := startReceivers(c.l, 1)
	waitForHotWaiter(t)
	start := time.Now()
	if err := c.l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, seccomp.ErrClosed) {
			t.Errorf("Receive after Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Receive still blocked 5s after Close")
	}
	if elapsed := time.Since(start); elapsed > wait+time.Second {
		t.Errorf("Close and Receive returned after %v, want at most %v", elapsed, wait+time.Second)
	}
	c.stdin.Close()
	c.wait(t)
}

// TestBusyListenerDeadline checks that a read deadline still ends the
// Receive of a busy Listener, whose wait in the kernel ends first.
func TestBusyListenerDeadline(t *testing.T) {
	checkNoLeaks(t)
	defer seccomp.SetHotWait(20 * time.Millisecond)()
	c := startBusyListener(t)

	if err := c.l.SetReadDeadline(time.Now().Add(30 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var n seccomp.Notif
	start := time.Now()
	if err := c.l.Receive(&n); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive: %v, want os.ErrDeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed < 25*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("Receive returned after %v, want about 30ms", elapsed)
	}
	c.stdin.Close()
	c.wait(t)
}

func TestReceiveContext(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n seccomp.Notif
	if err := c.l.ReceiveContext(ctx, &n); err != nil {
		t.Fatalf("ReceiveContext with a notification pending: %v", err)
	}
	if err := c.l.Continue(n.ID); err != nil {
		t.Fatal(err)
	}
	c.wait(t)
}

func TestReceiveContextCancel(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "wait-stdin", childOptions{stdin: true})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var n seccomp.Notif
	if err := c.l.ReceiveContext(ctx, &n); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReceiveContext: %v, want context.DeadlineExceeded", err)
	}

	// The cancellation must not leave a past deadline behind.
	done := make(chan error, 1)
	go func() { done <- c.l.Receive(&n) }()
	select {
	case err := <-done:
		t.Fatalf("Receive returned %v with no notification pending", err)
	case <-time.After(200 * time.Millisecond):
	}
	c.stdin.Close() // the child exits, so Receive reports no targets
	c.wait(t)
	if err := <-done; !errors.Is(err, seccomp.ErrNoTargets) {
		t.Errorf("Receive: %v, want ErrNoTargets", err)
	}

	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := c.l.ReceiveContext(canceled, &n); !errors.Is(err, context.Canceled) {
		t.Errorf("ReceiveContext with a canceled context: %v", err)
	}
}

func TestNewListenerBadFD(t *testing.T) {
	checkNoLeaks(t)
	if _, err := seccomp.NewListener(-1); !errors.Is(err, unix.EBADF) {
		t.Errorf("NewListener(-1) = %v, want EBADF", err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	_, err = seccomp.NewListener(int(r.Fd()))
	if !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "not a seccomp listener") {
		t.Errorf("NewListener(pipe) = %v, want ENOTTY", err)
	}
	// The pipe must still be open and usable.
	if _, err := w.Write([]byte("x")); err != nil {
		t.Errorf("pipe closed by NewListener: %v", err)
	}

	closedFD := int(w.Fd()) + 100
	if _, err := seccomp.NewListener(closedFD); !errors.Is(err, unix.EBADF) {
		t.Errorf("NewListener(closed fd) = %v, want EBADF", err)
	}
}

func TestIoctlsOnNonListener(t *testing.T) {
	checkNoLeaks(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd := int(r.Fd())

	var n seccomp.Notif
	checks := []struct {
		op  string
		err error
	}{
		{"receive", seccomp.IoctlNotifRecv(fd, &n)},
		{"send", seccomp.IoctlNotifSend(fd, &seccomp.NotifResp{})},
		{"check id", seccomp.IoctlNotifIDValid(fd, 1)},
		{"set flags", seccomp.IoctlNotifSetFlags(fd, seccomp.NotifFDFlagSyncWakeUp)},
	}
	_, addErr := seccomp.IoctlNotifAddFD(fd, &seccomp.NotifAddFD{})
	checks = append(checks, struct {
		op  string
		err error
	}{"add fd", addErr})

	for _, c := range checks {
		if !errors.Is(c.err, unix.ENOTTY) || !strings.HasPrefix(c.err.Error(), "seccomp: "+c.op+": ") {
			t.Errorf("%s on a pipe: %v, want ENOTTY", c.op, c.err)
		}
	}
	if err := seccomp.IoctlNotifIDValid(-1, 1); !errors.Is(err, unix.EBADF) {
		t.Errorf("check id on fd -1: %v, want EBADF", err)
	}
}

func TestSetFlagsSyncWakeUp(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})

	err := c.l.SetFlags(seccomp.NotifFDFlagSyncWakeUp)
	requireFeature(t, "ioctl SECCOMP_IOCTL_NOTIF_SET_FLAGS", "6.6", err)
	if err := c.l.SetFlags(2); !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "unknown listener flag bits") {
		t.Errorf("SetFlags(2) = %v, want an unknown-bits error", err)
	}

	n := receive(t, c.l)
	if err := c.l.Continue(n.ID); err != nil {
		t.Fatal(err)
	}
	c.wait(t)
}

func TestReceiveRespondAllocations(t *testing.T) {
	checkNoLeaks(t)
	const runs = 200
	c := startChild(t, "getppid-loop", childOptions{
		env: []string{"COUNT=" + strconv.Itoa(runs+1), "GODEBUG=asyncpreemptoff=1"},
	})
	c.cmd.Stdout = nil // no copying goroutine

	var n seccomp.Notif
	var failed error
	allocs := testing.AllocsPerRun(runs, func() {
		if err := c.l.Receive(&n); err != nil {
			failed = err
			return
		}
		if err := c.l.Continue(n.ID); err != nil && !errors.Is(err, seccomp.ErrNotifGone) {
			failed = err
		}
	})
	if failed != nil {
		t.Fatal(failed)
	}
	if allocs != 0 {
		t.Errorf("Receive and Continue allocate %v times per notification, want 0", allocs)
	}
	c.wait(t)
}

// TestConcurrentReceivers answers every notification of several children
// from several goroutines on one listener and checks each was answered once.
func TestConcurrentReceivers(t *testing.T) {
	checkNoLeaks(t)
	const calls = 200
	c := startChild(t, "getppid-loop", childOptions{env: []string{"COUNT=" + strconv.Itoa(calls)}})

	var mu sync.Mutex
	seen := make(map[uint64]int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n seccomp.Notif
			for {
				if err := c.l.Receive(&n); err != nil {
					if !errors.Is(err, seccomp.ErrNoTargets) {
						t.Errorf("Receive: %v", err)
					}
					return
				}
				mu.Lock()
				seen[n.ID]++
				mu.Unlock()
				if err := c.l.Continue(n.ID); err != nil && !errors.Is(err, seccomp.ErrNotifGone) {
					t.Errorf("Continue: %v", err)
				}
			}
		}()
	}

	c.wait(t)
	wg.Wait()
	if hot := seccomp.HotWaiters(); hot > seccomp.MaxHotWaiters {
		t.Errorf("%d receivers wait in the kernel, more than the limit of %d", hot, seccomp.MaxHotWaiters)
	}
	if len(seen) < calls {
		t.Errorf("received %d distinct notifications, want at least %d", len(seen), calls)
	}
	for id, count := range seen {
		if count != 1 {
			t.Errorf("notification %#x received %d times", id, count)
		}
	}
}

func init() {
	// getppid-tid: print the calling thread's id, then call getppid on it.
	childModes["getppid-tid"] = func() int {
		runtime.LockOSThread()
		fmt.Printf("tid=%d\n", unix.Gettid())
		r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		fmt.Printf("ret=%d errno=%d\n", int(r), int(errno))
		return 0
	}
}

// interruptTarget sends SIGURG, Go's preemption signal, to the target thread
// several times while it waits for an answer.
func interruptTarget(t *testing.T, pid int, tid uint32) {
	t.Helper()
	for range 10 {
		if err := unix.Tgkill(pid, int(tid), unix.SIGURG); err != nil {
			t.Fatalf("tgkill: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWaitKillableRecv(t *testing.T) {
	requireFeature(t, "flag WAIT_KILLABLE_RECV", "5.19", seccomp.HaveFilterFlag(seccomp.FilterFlagWaitKillableRecv))
	checkNoLeaks(t)
	c := startChild(t, "getppid-tid", childOptions{flags: seccomp.FilterFlagWaitKillableRecv})

	n := receive(t, c.l)
	interruptTarget(t, c.cmd.Process.Pid, n.Pid)

	// The received notification survives the signals.
	if err := c.l.IDValid(n.ID); err != nil {
		t.Fatalf("IDValid after signals: %v", err)
	}
	if err := c.l.RespondValue(n.ID, 77); err != nil {
		t.Fatal(err)
	}
	out := c.wait(t)
	if !strings.HasSuffix(out, "ret=77 errno=0") {
		t.Errorf("child output %q, want the answer 77", out)
	}
}

func TestSignalRestartsWithoutWaitKillable(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid-tid", childOptions{})

	first := receive(t, c.l)
	interruptTarget(t, c.cmd.Process.Pid, first.Pid)

	// The signal withdrew the notification and the system call restarted
	// with a new one.
	if err := c.l.IDValid(first.ID); !errors.Is(err, seccomp.ErrNotifGone) {
		t.Fatalf("IDValid after signals: %v, want ErrNotifGone", err)
	}
	if err := c.l.RespondValue(first.ID, 1); !errors.Is(err, seccomp.ErrNotifGone) {
		t.Errorf("answer to the withdrawn notification: %v, want ErrNotifGone", err)
	}
	second := receive(t, c.l)
	if second.ID == first.ID || second.Pid != first.Pid || second.Data.Nr != unix.SYS_GETPPID {
		t.Errorf("restarted notification id %#x pid %d nr %d; first id %#x pid %d", second.ID, second.Pid, second.Data.Nr, first.ID, first.Pid)
	}
	if err := c.l.RespondValue(second.ID, 78); err != nil {
		t.Fatal(err)
	}
	if out := c.wait(t); !strings.HasSuffix(out, "ret=78 errno=0") {
		t.Errorf("child output %q, want the answer 78", out)
	}
}

func init() {
	// tsync: install a TSYNC listener in this process, make a notified call
	// on another thread, answer it, and print the result.
	childModes["tsync"] = func() int {
		if err := seccomp.SetNoNewPrivs(); err != nil {
			fmt.Println(err)
			return 1
		}
		flags := seccomp.FilterFlagTSync | seccomp.FilterFlagTSyncESRCH | seccomp.FilterFlagNewListener
		fd, err := seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPPID), flags)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		l, err := seccomp.NewListener(fd)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer l.Close()

		result := make(chan string)
		go func() {
			runtime.LockOSThread()
			r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
			result <- fmt.Sprintf("ret=%d errno=%d", int(r), int(errno))
		}()
		var n seccomp.Notif
		if err := l.Receive(&n); err != nil {
			fmt.Println(err)
			return 1
		}
		if err := l.RespondValue(n.ID, 99); err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println(<-result)
		return 0
	}

	// tsync-fail: give one thread a filter of its own, then ask for TSYNC from
	// another and print the error.
	childModes["tsync-fail"] = func() int {
		tid := make(chan int)
		go func() {
			runtime.LockOSThread()
			if err := seccomp.SetNoNewPrivs(); err != nil {
				tid <- -1
				return
			}
			if _, err := seccomp.SetModeFilter(allowFilter(), 0); err != nil {
				tid <- -1
				return
			}
			tid <- unix.Gettid()
			select {} // keep the thread alive
		}()
		blocker := <-tid

		if err := seccomp.SetNoNewPrivs(); err != nil {
			fmt.Println(err)
			return 1
		}
		_, err := seccomp.SetModeFilter(allowFilter(), seccomp.FilterFlagTSync)
		var tsyncErr *seccomp.TSyncError
		if !errors.As(err, &tsyncErr) {
			fmt.Printf("error %v is not a TSyncError\n", err)
			return 1
		}
		fmt.Printf("blocker=%d reported=%d\n", blocker, tsyncErr.TID)
		fmt.Println(err)
		return 0
	}
}

func TestTSyncNewListener(t *testing.T) {
	requireFeature(t, "flag TSYNC_ESRCH", "5.7", seccomp.HaveFilterFlag(seccomp.FilterFlagTSyncESRCH))
	out, err := childCommand("tsync").Output()
	if err != nil {
		t.Fatalf("child: %v, output %q", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "ret=99 errno=0" {
		t.Errorf("child output %q, want ret=99 errno=0", got)
	}
}

func TestTSyncFailureNamesThread(t *testing.T) {
	out, err := childCommand("tsync-fail").Output()
	if err != nil {
		t.Fatalf("child: %v, output %q", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var blocker, reported int
	if _, err := fmt.Sscanf(lines[0], "blocker=%d reported=%d", &blocker, &reported); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if blocker <= 0 || reported != blocker {
		t.Errorf("TSyncError names thread %d, the thread with its own filter is %d", reported, blocker)
	}
	want := fmt.Sprintf("seccomp: install filter: thread %d could not be synchronized with the new filter (TSYNC)", blocker)
	if len(lines) < 2 || lines[1] != want {
		t.Errorf("message %q, want %q", lines[1:], want)
	}
}
