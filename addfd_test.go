package seccomp_test

// Edge cases of SECCOMP_IOCTL_NOTIF_ADDFD that a supervisor can run into,
// each produced on a real kernel, with the error text a caller gets.

import (
	"bufio"
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
)

// lowestFreeFD returns the lowest fd number not open in this process.
func lowestFreeFD() int {
	for fd := 0; ; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			return fd
		}
	}
}

// pinToCPU binds the calling thread to the CPU named by $CPU, for modes that
// lock their goroutine to its thread first.
func pinToCPU() error {
	var set unix.CPUSet
	set.Set(envInt("CPU"))
	return unix.SchedSetaffinity(0, &set)
}

func init() {
	// getppid-fd-lowlimit: lower RLIMIT_NOFILE to the lowest free fd, so that
	// no fd can be added, then call getppid and print its result.
	childModes["getppid-fd-lowlimit"] = func() int {
		limit := uint64(lowestFreeFD())
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
			fmt.Println(err)
			return 1
		}
		r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		fmt.Printf("limit=%d ret=%d errno=%d\n", limit, int(r), int(errno))
		return 0
	}

	// getppid-fd-idle: bind the calling thread to $CPU with the SCHED_IDLE
	// policy, so that it runs only when that CPU has nothing else to do, then
	// act as getppid-fd.
	childModes["getppid-fd-idle"] = func() int {
		runtime.LockOSThread()
		if err := pinToCPU(); err != nil {
			fmt.Println(err)
			return 1
		}
		if err := unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0); err != nil {
			fmt.Println(err)
			return 1
		}
		return childModes["getppid-fd"]()
	}

	// addfd-once: print the calling thread's id, then add fd 4 to the target
	// of notification $NOTIF_ID through the listener at fd 3, and print the
	// result.
	childModes["addfd-once"] = func() int {
		runtime.LockOSThread()
		id, _ := strconv.ParseUint(os.Getenv("NOTIF_ID"), 10, 64)
		fmt.Printf("tid=%d\n", unix.Gettid())
		fd, err := seccomp.IoctlNotifAddFD(3, &seccomp.NotifAddFD{ID: id, SrcFD: 4})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Printf("fd=%d\n", fd)
		return 0
	}

	// spin: keep $CPU busy for up to 10 seconds, after saying so on stdout.
	childModes["spin"] = func() int {
		runtime.LockOSThread()
		if err := pinToCPU(); err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("spinning")
		x := uint64(1)
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
			for range 100000 {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		return int(x & 0)
	}
}

// firstCPU returns the lowest CPU this process may run on.
func firstCPU(t *testing.T) int {
	t.Helper()
	var affinity unix.CPUSet
	if err := unix.SchedGetaffinity(0, &affinity); err != nil {
		t.Fatal(err)
	}
	cpu := 0
	for !affinity.IsSet(cpu) {
		cpu++
	}
	return cpu
}

// startHog starts a process that keeps the CPU in cpuEnv busy, so that a
// SCHED_IDLE target bound to it runs only now and then, and returns a
// function that ends it.
func startHog(t *testing.T, cpuEnv string) func() {
	t.Helper()
	hog := childCommand("spin", cpuEnv)
	out, err := hog.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := hog.Start(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() {
		hog.Process.Kill()
		hog.Wait()
	})
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "spinning\n" {
		stop()
		t.Fatalf("spinning process said %q, %v", line, err)
	}
	return stop
}

// dupListener returns a copy of l's fd as a file, for a child process.
func dupListener(t *testing.T, l *seccomp.Listener) *os.File {
	t.Helper()
	rc, err := l.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	dup := -1
	rc.Control(func(fd uintptr) { dup, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "listener copy")
	t.Cleanup(func() { f.Close() })
	return f
}

// addFDHelper is a child process that makes one ADDFD request.
type addFDHelper struct {
	cmd   *exec.Cmd
	tid   int
	lines chan string
}

// startAddFDHelper starts a child that adds the memfd src to the target of
// notification id through listener, and waits until it has printed which
// thread makes the request.
func startAddFDHelper(t *testing.T, listener *os.File, src int, id uint64) *addFDHelper {
	t.Helper()
	h := &addFDHelper{cmd: childCommand("addfd-once", "NOTIF_ID="+strconv.FormatUint(id, 10)), lines: make(chan string, 2)}

	// The child gets its own copy of src: an *os.File made from src itself
	// would close it when collected.
	srcCopy, err := unix.FcntlInt(uintptr(src), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	source := os.NewFile(uintptr(srcCopy), "source")
	defer source.Close()
	h.cmd.ExtraFiles = []*os.File{listener, source}

	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.cmd.Process.Kill()
		h.cmd.Wait()
	})

	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	if _, err := fmt.Sscanf(<-h.lines, "tid=%d", &h.tid); err != nil {
		t.Fatalf("ADDFD helper: %v", err)
	}
	return h
}

// waitQueued waits until the helper sleeps in its ioctl, which it does only
// once its request is queued, and returns true, or until the request has
// completed, and returns false.
func (h *addFDHelper) waitQueued() bool {
	return waitInIoctl(h.cmd.Process.Pid, h.tid, func() bool { return len(h.lines) > 0 })
}

// waitInIoctl waits until thread tid of process pid sleeps in an ioctl, and
// returns true, or until done returns true, and returns false.
func waitInIoctl(pid, tid int, done func() bool) bool {
	dir := fmt.Sprintf("/proc/%d/task/%d", pid, tid)
	ioctl := strconv.Itoa(unix.SYS_IOCTL) + " "
	for !done() {
		call, _ := os.ReadFile(dir + "/syscall")
		stat, _ := os.ReadFile(dir + "/stat")
		// The state follows the command name, which is in parentheses.
		_, state, _ := strings.Cut(string(stat), ") ")
		if strings.HasPrefix(string(call), ioctl) && strings.HasPrefix(state, "S") {
			return true
		}
		runtime.Gosched()
	}
	return false
}

// result returns the fd number the helper's request added in the target.
func (h *addFDHelper) result(t *testing.T) int {
	t.Helper()
	select {
	case line := <-h.lines:
		fd := -1
		if _, err := fmt.Sscanf(line, "fd=%d", &fd); err != nil {
			t.Fatalf("ADDFD helper: %q", line)
		}
		return fd
	case <-time.After(30 * time.Second):
		t.Fatal("the queued ADDFD did not complete")
		return -1
	}
}

func checkAddFDError(t *testing.T, what string, err error, errno unix.Errno, want string) {
	t.Helper()
	if !errors.Is(err, errno) || err.Error() != want {
		t.Errorf("%s: %v, want %q wrapping %v", what, err, want, errno)
	}
}

func TestAddFDEdgeCases(t *testing.T) {
	// These cases need ADDFD (Linux 5.9), which TestListenerAddFD checks
	// against the running kernel.
	t.Run("unknown flags", func(t *testing.T) {
		checkNoLeaks(t)
		c := startChild(t, "getppid", childOptions{})
		src := memfdWith(t, "x")
		n := receive(t, c.l)

		_, err := c.l.AddFD(&seccomp.NotifAddFD{ID: n.ID, Flags: 4, SrcFD: uint32(src)})
		checkAddFDError(t, "flag 4", err, unix.EINVAL,
			"seccomp: add fd: invalid request (EINVAL): unknown flags, newfd_flags other than O_CLOEXEC, newfd set without SETFD, or a kernel older than 5.9 (5.14 for SEND)")
		_, err = c.l.AddFD(&seccomp.NotifAddFD{ID: n.ID, SrcFD: ^uint32(0)})
		checkAddFDError(t, "source fd -1", err, unix.EBADF,
			"seccomp: add fd: bad source fd, or newfd is at or above the target's RLIMIT_NOFILE (EBADF)")
		if err := c.l.Continue(n.ID); err != nil {
			t.Fatal(err)
		}
		c.wait(t)
	})

	t.Run("not received yet", func(t *testing.T) {
		// The kernel numbers a filter's notifications consecutively from a
		// random start, so the next call's id is the received id plus one.
		// That lets ADDFD reach a notification that is pending but not yet
		// received, the one state in which it reports EINPROGRESS on demand.
		// (It also does after the answer until the target wakes up, a much
		// shorter window.)
		checkNoLeaks(t)
		s := newSpawner(t, notifyFilter(unix.SYS_GETPPID), 0)
		src := memfdWith(t, "x")
		first, firstOut := s.start("getppid", "GODEBUG=asyncpreemptoff=1")
		var n1, n2 seccomp.Notif
		if err := receiveWithin(s.l, &n1, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		second, secondOut := s.start("getppid", "GODEBUG=asyncpreemptoff=1")
		waitReadable(t, s.l)

		next := n1.ID + 1
		_, addErr := s.l.AddFD(&seccomp.NotifAddFD{ID: next, SrcFD: uint32(src)})
		sendErr := s.l.RespondValue(next, 1)
		if err := receiveWithin(s.l, &n2, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if n2.ID != next {
			t.Skipf("notification ids %#x and %#x are not consecutive; this kernel numbers them differently", n1.ID, n2.ID)
		}
		checkAddFDError(t, "ADDFD before RECV", addErr, unix.EINPROGRESS,
			"seccomp: add fd: notification is not in the received state (EINPROGRESS)")
		checkAddFDError(t, "SEND before RECV", sendErr, unix.EINPROGRESS,
			"seccomp: send: notification was not received yet or was already answered (EINPROGRESS)")

		for _, id := range []uint64{n1.ID, n2.ID} {
			if err := s.l.RespondValue(id, 3); err != nil {
				t.Fatal(err)
			}
		}
		for _, out := range []string{waitChild(t, first, firstOut), waitChild(t, second, secondOut)} {
			if out != "ret=3 errno=0" {
				t.Errorf("target output %q, want ret=3", out)
			}
		}
	})

	t.Run("target at its fd limit", func(t *testing.T) {
		// The target has no free fd under RLIMIT_NOFILE: a plain ADDFD fails
		// with EMFILE, and SETFD at a number above the limit with EBADF, as
		// mainline's user_notification_addfd_rlimit selftest expects. A failed
		// ADDFD with SEND leaves the notification to be answered again.
		checkNoLeaks(t)
		c := startChild(t, "getppid-fd-lowlimit", childOptions{})
		src := memfdWith(t, "x")
		n := receive(t, c.l)

		_, err := c.l.AddFD(&seccomp.NotifAddFD{ID: n.ID, SrcFD: uint32(src)})
		checkAddFDError(t, "ADDFD at the limit", err, unix.EMFILE,
			"seccomp: add fd: the target has no free fd under its RLIMIT_NOFILE (EMFILE)")
		_, err = c.l.AddFD(&seccomp.NotifAddFD{ID: n.ID, Flags: seccomp.AddFDFlagSetFD, SrcFD: uint32(src), NewFD: 100})
		checkAddFDError(t, "SETFD above the limit", err, unix.EBADF,
			"seccomp: add fd: bad source fd, or newfd is at or above the target's RLIMIT_NOFILE (EBADF)")
		_, err = c.l.RespondFD(n.ID, src, true)
		if err != nil && errors.Is(err, unix.EINVAL) {
			requireFeature(t, "ADDFD flag SEND", "5.14", missingIf(err, unix.EINVAL))
		}
		checkAddFDError(t, "ADDFD with SEND at the limit", err, unix.EMFILE,
			"seccomp: add fd: the target has no free fd under its RLIMIT_NOFILE (EMFILE)")

		if err := c.l.IDValid(n.ID); err != nil {
			t.Fatalf("notification after the failed ADDFD with SEND: %v", err)
		}
		if err := c.l.RespondValue(n.ID, 77); err != nil {
			t.Fatal(err)
		}
		out := c.wait(t)
		if !strings.HasSuffix(out, " ret=77 errno=0") {
			t.Errorf("target output %q, want ret=77", out)
		}
	})

	t.Run("SEND while another ADDFD is queued", func(t *testing.T) {
		// An ADDFD waits until the target, woken in its notified call,
		// installs the fd. SEND is refused (EBUSY) while such a request is
		// queued. The target gets the SCHED_IDLE policy on one CPU, which
		// another process keeps busy, so that it is slow to run. A helper
		// process queues the ADDFD, and this test sends the SEND once the
		// helper sleeps in the ioctl. The helper is a separate
		// process so that its blocked ioctl does not hold up this test's
		// goroutines when GOMAXPROCS is 1.
		checkNoLeaks(t)
		// The scheduler may still let the target install the queued fd
		// just before the SEND, which then succeeds and uses up the
		// notification; each try starts a new target.
		const tries = 5
		for try := 1; try <= tries; try++ {
			if sendWhileADDFDQueued(t, try == tries) {
				return
			}
			t.Logf("try %d: the target installed the queued fd before the SEND; trying again with a new target", try)
		}
	})

	t.Run("SEND interrupted by signals", func(t *testing.T) {
		// ADDFD with SEND waits for the target to install the fd. Signals
		// that interrupt that wait must not change the outcome: the target
		// gets the fd and the caller its number. The slow SCHED_IDLE target
		// keeps the wait open while SIGURG, Go's preemption signal, hits the
		// waiting thread.
		checkNoLeaks(t)
		cpuEnv := "CPU=" + strconv.Itoa(firstCPU(t))
		c := startChild(t, "getppid-fd-idle", childOptions{env: []string{cpuEnv, "GODEBUG=asyncpreemptoff=1"}})
		src := memfdWith(t, "sent")
		n := receive(t, c.l)
		stopHog := startHog(t, cpuEnv)
		defer stopHog()

		type result struct {
			fd  int
			err error
		}
		tids := make(chan int, 1)
		results := make(chan result, 1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tids <- unix.Gettid()
			fd, err := c.l.RespondFD(n.ID, src, false)
			results <- result{fd, err}
		}()
		tid := <-tids
		signals := 0
		if waitInIoctl(os.Getpid(), tid, func() bool { return len(results) > 0 }) {
			for range 20 {
				if unix.Tgkill(os.Getpid(), tid, unix.SIGURG) == nil {
					signals++
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
		stopHog()

		r := <-results
		requireFeature(t, "ADDFD flag SEND", "5.14", missingIf(r.err, unix.EINVAL))
		if r.err != nil {
			t.Fatalf("RespondFD with %d signals during its wait: %v", signals, r.err)
		}
		if out, want := c.wait(t), fmt.Sprintf("fd=%d cloexec=false data=sent", r.fd); out != want {
			t.Errorf("target output %q, want %q", out, want)
		}
		t.Logf("%d SIGURG sent while RespondFD waited", signals)
	})

	t.Run("target gone", func(t *testing.T) {
		checkNoLeaks(t)
		c := startChild(t, "getppid", childOptions{})
		src := memfdWith(t, "x")
		n := receive(t, c.l)
		c.cmd.Process.Kill()
		c.cmd.Wait()

		_, err := c.l.AddFD(&seccomp.NotifAddFD{ID: n.ID, SrcFD: uint32(src)})
		checkGone(t, "ADDFD after the target died", err, "add fd")
		_, err = c.l.RespondFD(n.ID, src, false)
		checkGone(t, "ADDFD with SEND after the target died", err, "add fd")
	})
}

// sendWhileADDFDQueued checks that ADDFD with SEND fails with EBUSY while
// another ADDFD is queued. It returns false if the target installed the
// queued fd before the SEND, so the case could not be produced, unless last
// is set, when that fails the test.
func sendWhileADDFDQueued(t *testing.T, last bool) bool {
	cpuEnv := "CPU=" + strconv.Itoa(firstCPU(t))

	c := startChild(t, "getppid-fd-idle", childOptions{env: []string{cpuEnv, "GODEBUG=asyncpreemptoff=1"}})
	queuedSrc := memfdWith(t, "queued")
	sentSrc := memfdWith(t, "sent")
	n := receive(t, c.l)
	listener := dupListener(t, c.l)
	stopHog := startHog(t, cpuEnv)
	defer stopHog()

	// The target still gets the CPU now and then, so an ADDFD that
	// completes too early is simply queued again: each one adds a copy of
	// the fd and leaves the notification unanswered.
	var sendErr error
	queuedFD := -1
	for attempt := 0; attempt < 20 && sendErr == nil; attempt++ {
		helper := startAddFDHelper(t, listener, queuedSrc, n.ID)
		if helper.waitQueued() {
			_, sendErr = c.l.RespondFD(n.ID, sentSrc, false)
			if sendErr == nil {
				if last {
					t.Fatal("SEND succeeded: the target handled the queued ADDFD just before it, so EBUSY could not be produced")
				}
				stopHog()
				helper.result(t)
				return false
			}
			stopHog()
		}
		queuedFD = helper.result(t)
	}
	stopHog()
	requireFeature(t, "ADDFD flag SEND", "5.14", missingIf(sendErr, unix.EINVAL))
	if sendErr == nil {
		t.Fatalf("each of 20 ADDFD requests completed before a SEND could follow it, despite SCHED_IDLE, so EBUSY could not be produced")
	}
	checkAddFDError(t, "SEND with an ADDFD queued", sendErr, unix.EBUSY,
		"seccomp: add fd: other ADDFD requests are pending, so SEND cannot answer the notification yet (EBUSY)")

	if err := c.l.RespondValue(n.ID, int64(queuedFD)); err != nil {
		t.Fatal(err)
	}
	if out, want := c.wait(t), fmt.Sprintf("fd=%d cloexec=false data=queued", queuedFD); out != want {
		t.Errorf("target output %q, want %q", out, want)
	}
	return true
}
