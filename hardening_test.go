package seccomp_test

// Failure scenarios that real supervisors meet: targets that die or are
// interrupted at awkward moments, signals aimed at the supervisor, several
// receivers on one listener, a listener closed under its receivers, and a
// supervisor that dies. Every target is a re-executed test binary, and every
// filter sits on a discarded thread or in a child.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/internal/thread"
)

// answerFor returns the value a supervisor responds with to a getppid call
// of the "calls" child mode with arguments tag, worker and seq. It is
// positive and below 2^30, so it never looks like an errno.
func answerFor(tag, worker, seq uint64) int64 {
	return int64((tag*1_000_003+worker*10_007+seq)%(1<<30)) + 1
}

// answerNotif returns the value the "calls" child mode expects for n.
func answerNotif(n *seccomp.Notif) int64 {
	return answerFor(n.Data.Args[0], n.Data.Args[1], n.Data.Args[2])
}

// callKey identifies one call of the "calls" child mode: its tag, worker and
// sequence number.
type callKey [3]uint64

func keyOf(n *seccomp.Notif) callKey {
	return callKey{n.Data.Args[0], n.Data.Args[1], n.Data.Args[2]}
}

func envInt(name string) int {
	v, _ := strconv.Atoi(os.Getenv(name))
	return v
}

// busySink keeps the busy goroutines' allocations on the heap.
var busySink atomic.Pointer[[]byte]

func init() {
	// calls: WORKERS goroutines each make CALLS getppid calls with the
	// arguments TAG, worker and sequence number, and check that each returns
	// answerFor of them. BUSY more goroutines allocate and spin meanwhile, so
	// the runtime preempts and collects garbage all the time. With WAIT_GO=1
	// the calls start after a byte arrives on stdin.
	childModes["calls"] = func() int {
		tag, workers, calls, busy := uint64(envInt("TAG")), max(envInt("WORKERS"), 1), envInt("CALLS"), envInt("BUSY")
		if os.Getenv("WAIT_GO") == "1" {
			// Start only once the test writes a byte to stdin.
			os.Stdin.Read(make([]byte, 1))
		}

		stop := make(chan struct{})
		for range busy {
			go func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					buf := make([]byte, 128<<10)
					busySink.Store(&buf)
				}
			}()
		}

		var bad atomic.Int64
		var firstBad atomic.Pointer[string]
		var wg sync.WaitGroup
		for w := range uint64(workers) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range uint64(calls) {
					r, _, errno := unix.Syscall(unix.SYS_GETPPID, uintptr(tag), uintptr(w), uintptr(i))
					if want := answerFor(tag, w, i); errno != 0 || int64(r) != want {
						bad.Add(1)
						msg := fmt.Sprintf("call %d/%d/%d returned %d errno %d, want %d", tag, w, i, int64(r), errno, want)
						firstBad.CompareAndSwap(nil, &msg)
					}
				}
			}()
		}
		wg.Wait()
		close(stop)

		fmt.Printf("calls=%d bad=%d\n", workers*calls, bad.Load())
		if msg := firstBad.Load(); msg != nil {
			fmt.Println(*msg)
			return 1
		}
		return 0
	}
}

// spawner starts children from one OS thread that carries a filter with a
// listener, so that all of them share that listener. While the thread lives
// it uses the filter too, so the listener hangs up only after stop.
type spawner struct {
	t    *testing.T
	l    *seccomp.Listener
	reqs chan *exec.Cmd
	errs chan error
	done chan struct{}
	stop func()
	cmds []*exec.Cmd
}

func newSpawner(t *testing.T, prog []unix.SockFilter, flags seccomp.FilterFlag) *spawner {
	t.Helper()
	s := &spawner{t: t, reqs: make(chan *exec.Cmd), errs: make(chan error), done: make(chan struct{})}
	s.stop = sync.OnceFunc(func() {
		close(s.reqs)
		<-s.done
	})

	ready := make(chan error)
	thread.Disposable(func() {
		defer close(s.done)
		err := seccomp.SetNoNewPrivs()
		fd := -1
		if err == nil {
			fd, err = seccomp.SetModeFilter(prog, flags|seccomp.FilterFlagNewListener)
		}
		if err == nil {
			if s.l, err = seccomp.NewListener(fd); err != nil {
				unix.Close(fd)
			}
		}
		ready <- err
		if err != nil {
			return
		}
		for cmd := range s.reqs {
			s.errs <- cmd.Start()
		}
	})
	if err := <-ready; err != nil {
		close(s.reqs)
		t.Fatalf("install filter: %v", err)
	}

	t.Cleanup(func() {
		s.stop()
		for _, cmd := range s.cmds {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		}
		s.l.Close()
	})
	return s
}

// start starts the test binary in mode under the spawner's filter and returns
// it with its stdout.
func (s *spawner) start(mode string, env ...string) (*exec.Cmd, *bytes.Buffer) {
	s.t.Helper()
	out := new(bytes.Buffer)
	cmd := childCommand(mode, env...)
	cmd.Stdout = out
	s.reqs <- cmd
	if err := <-s.errs; err != nil {
		s.t.Fatalf("start child %s: %v", mode, err)
	}
	s.cmds = append(s.cmds, cmd)
	return cmd, out
}

// waitChild waits for cmd with a timeout and returns its trimmed stdout,
// failing the test if it does not exit with status 0.
func waitChild(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer) string {
	t.Helper()
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child %d: %v; stdout: %q", cmd.Process.Pid, err, out.String())
	}
	return strings.TrimSpace(out.String())
}

// receiveWithin is Receive with a deadline, so that a missing notification
// fails the test instead of hanging it.
func receiveWithin(l *seccomp.Listener, n *seccomp.Notif, d time.Duration) error {
	if err := l.SetReadDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	err := l.Receive(n)
	if derr := l.SetReadDeadline(time.Time{}); err == nil && derr != nil {
		err = derr
	}
	return err
}

// isThreadOf reports whether tid, as a notification's Pid field gives it, is
// a thread of process pid.
func isThreadOf(pid int, tid uint32) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", pid, tid))
	return err == nil
}

// checkGone checks that err reports a notification that no longer exists,
// with the errno, the sentinel and the message.
func checkGone(t *testing.T, what string, err error, op string) {
	t.Helper()
	want := "seccomp: " + op + ": notification no longer exists (the target died or its system call was interrupted)"
	if !errors.Is(err, seccomp.ErrNotifGone) || !errors.Is(err, unix.ENOENT) || err.Error() != want {
		t.Errorf("%s: %v, want %q matching ErrNotifGone and ENOENT", what, err, want)
	}
}

// TestReceiveSkipsKilledTarget kills targets around the receive of their
// notifications and checks that the supervisor loop goes on: a notification
// whose target died before the receive is skipped, an answer to one that died
// after it reports ErrNotifGone, and other targets on the same listener are
// received and answered.
func TestReceiveSkipsKilledTarget(t *testing.T) {
	checkNoLeaks(t)
	s := newSpawner(t, notifyFilter(unix.SYS_GETPPID), 0)
	l := s.l
	var n seccomp.Notif

	// Killed while pending: the listener polls readable, then the target
	// dies before anything receives its notification.
	victim, _ := s.start("getppid")
	waitReadable(t, l)
	victim.Process.Kill()
	victim.Wait()

	next, nextOut := s.start("getppid")
	if err := receiveWithin(l, &n, 30*time.Second); err != nil {
		t.Fatalf("Receive after a pending target was killed: %v", err)
	}
	if !isThreadOf(next.Process.Pid, n.Pid) {
		t.Fatalf("received a notification of thread %d, want one of the next target %d", n.Pid, next.Process.Pid)
	}
	if err := l.RespondValue(n.ID, 4242); err != nil {
		t.Fatal(err)
	}
	if out := waitChild(t, next, nextOut); out != "ret=4242 errno=0" {
		t.Errorf("next target output %q, want ret=4242", out)
	}

	// Killed after the receive: the answer finds the notification gone.
	victim, _ = s.start("getppid")
	if err := receiveWithin(l, &n, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	deadID := n.ID
	victim.Process.Kill()
	victim.Wait()
	checkGone(t, "answer to a killed target", l.RespondValue(deadID, 1), "send")
	checkGone(t, "IDValid of a killed target", l.IDValid(deadID), "check id")
	_, err := l.AddFD(&seccomp.NotifAddFD{ID: deadID, SrcFD: 0})
	checkGone(t, "AddFD to a killed target", err, "add fd")

	// Killed at any moment: a killer sends SIGKILL as soon as the listener
	// polls readable, racing the receiver, while a long-lived target keeps
	// making calls that must all be answered.
	const rounds, steadyCalls = 20, 100
	steady, steadyOut := s.start("calls", "TAG=7", "CALLS="+strconv.Itoa(steadyCalls))

	var mu sync.Mutex
	outcome := map[string]int{}
	var failures []string
	count := func(what string) {
		mu.Lock()
		outcome[what]++
		mu.Unlock()
	}
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		var n seccomp.Notif
		for {
			if err := l.Receive(&n); err != nil {
				if !errors.Is(err, seccomp.ErrNoTargets) {
					mu.Lock()
					failures = append(failures, "Receive: "+err.Error())
					mu.Unlock()
				}
				return
			}
			// The steady target passes its tag, 7; victims pass 0.
			victim := n.Data.Args[0] != 7
			var err error
			if victim {
				err = l.RespondValue(n.ID, 1)
			} else {
				err = l.RespondValue(n.ID, answerNotif(&n))
			}
			switch {
			case err == nil && victim:
				count("victim answered")
			case err == nil:
				count("steady answered")
			case errors.Is(err, seccomp.ErrNotifGone) && victim:
				count("victim gone after receive")
			case errors.Is(err, seccomp.ErrNotifGone):
				// A signal interrupted the steady target's call, which
				// comes back under a new id.
				count("steady restarted")
			default:
				mu.Lock()
				failures = append(failures, fmt.Sprintf("answer to thread %d (victim %t): %v", n.Pid, victim, err))
				mu.Unlock()
			}
		}
	}()

	rc, err := l.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for range rounds {
		cmd := childCommand("getppid")
		s.reqs <- cmd
		if err := <-s.errs; err != nil {
			t.Fatal(err)
		}
		rc.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			unix.Poll(fds, 100)
		})
		cmd.Process.Kill()
		cmd.Wait()
	}
	s.stop()
	out := waitChild(t, steady, steadyOut)
	<-serveDone

	if want := fmt.Sprintf("calls=%d bad=0", steadyCalls); out != want {
		t.Errorf("steady target output %q, want %q", out, want)
	}
	for _, f := range failures {
		t.Error(f)
	}
	if outcome["steady answered"] < steadyCalls {
		t.Errorf("answered %d calls of the steady target, want %d", outcome["steady answered"], steadyCalls)
	}
	t.Logf("%d victims: %d answered before the kill, %d gone after the receive, %d skipped or killed before their call",
		rounds, outcome["victim answered"], outcome["victim gone after receive"],
		rounds-outcome["victim answered"]-outcome["victim gone after receive"])
}

// receiverThreads records the OS threads of goroutines that lock
// themselves to one.
type receiverThreads struct {
	mu   sync.Mutex
	tids []int
}

func (r *receiverThreads) add(tid int) {
	r.mu.Lock()
	r.tids = append(r.tids, tid)
	r.mu.Unlock()
}

func (r *receiverThreads) list() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.tids...)
}

// signalStorm sends SIGURG, the Go runtime's preemption signal, to each
// thread that threads returns, over and over until stop is closed, and
// returns the number of signals sent.
func signalStorm(pid int, threads func() []int, stop <-chan struct{}) <-chan int {
	sent := make(chan int, 1)
	go func() {
		count := 0
		for {
			select {
			case <-stop:
				sent <- count
				return
			default:
			}
			for _, tid := range threads() {
				if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
					count++
				}
			}
			runtime.Gosched()
		}
	}()
	return sent
}

func init() {
	// sigurg-storm: send SIGURG to the threads $TIDS of process $PID over
	// and over, until stdin is closed, then print how many were sent.
	childModes["sigurg-storm"] = func() int {
		pid := envInt("PID")
		var tids []int
		for _, field := range strings.Split(os.Getenv("TIDS"), ",") {
			tid, err := strconv.Atoi(field)
			if err != nil {
				fmt.Printf("invalid TIDS: %v\n", err)
				return 1
			}
			tids = append(tids, tid)
		}

		var closed atomic.Bool
		go func() {
			os.Stdin.Read(make([]byte, 1))
			closed.Store(true)
		}()
		fmt.Println("started")
		sent := 0
		for !closed.Load() {
			for _, tid := range tids {
				if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
					sent++
				}
			}
			runtime.Gosched()
		}
		fmt.Printf("sent=%d\n", sent)
		return 0
	}
}

// storm is a sigurg-storm child process.
type storm struct {
	cmd   *exec.Cmd
	stdin *os.File
	out   *bufio.Reader
}

// startStorm starts a process that sends SIGURG to threads tids of process
// pid in a loop, and waits until it has begun.
func startStorm(t *testing.T, pid int, tids []int) *storm {
	t.Helper()
	list := make([]string, len(tids))
	for i, tid := range tids {
		list[i] = strconv.Itoa(tid)
	}
	s := &storm{cmd: childCommand("sigurg-storm", "PID="+strconv.Itoa(pid), "TIDS="+strings.Join(list, ","))}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdin, s.stdin = r, w
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() {
		s.stdin.Close()
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})

	s.out = bufio.NewReader(stdout)
	if line, err := s.out.ReadString('\n'); line != "started\n" {
		t.Fatalf("signal process said %q, %v", line, err)
	}
	return s
}

// stop ends the storm and returns the number of signals it sent.
func (s *storm) stop(t *testing.T) int {
	t.Helper()
	s.stdin.Close()
	line, err := s.out.ReadString('\n')
	s.cmd.Wait()
	var sent int
	if _, scanErr := fmt.Sscanf(line, "sent=%d", &sent); scanErr != nil {
		t.Fatalf("signal process printed %q, %v", line, err)
	}
	return sent
}

// spin keeps one CPU busy with Go code until stop is closed, so the runtime
// preempts it with SIGURG every few milliseconds.
func spin(stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		x := uint64(1)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for range 10000 {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
	}()
	return done
}

// TestReceiveUnderSignalStorm receives and answers while another goroutine
// sends SIGURG to the receiving threads in a loop and a CPU-bound goroutine
// keeps the scheduler preempting. The notify ioctls fail with EINTR under
// signals even with SA_RESTART; none of that may reach the caller, and every
// call must be answered exactly once with its own value.
func TestReceiveUnderSignalStorm(t *testing.T) {
	// WAIT_KILLABLE_RECV keeps the target from restarting a received call,
	// so that every received notification must be answerable.
	requireFeature(t, "flag WAIT_KILLABLE_RECV", "5.19", seccomp.HaveFilterFlag(seccomp.FilterFlagWaitKillableRecv))
	checkNoLeaks(t)
	const workers, calls, receivers = 4, 500, 3
	c := startChild(t, "calls", childOptions{
		flags: seccomp.FilterFlagWaitKillableRecv,
		env:   []string{"TAG=2", "WAIT_GO=1", "WORKERS=" + strconv.Itoa(workers), "CALLS=" + strconv.Itoa(calls)},
		stdin: true,
	})

	var mu sync.Mutex
	received := make(map[uint64]int)
	answered := make(map[callKey]int)
	var failures []string
	var threads receiverThreads
	var wg sync.WaitGroup
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			threads.add(unix.Gettid())

			var n seccomp.Notif
			for {
				if err := c.l.Receive(&n); err != nil {
					if !errors.Is(err, seccomp.ErrNoTargets) {
						mu.Lock()
						failures = append(failures, "Receive: "+err.Error())
						mu.Unlock()
					}
					return
				}
				mu.Lock()
				received[n.ID]++
				mu.Unlock()
				err := c.l.RespondValue(n.ID, answerNotif(&n))
				mu.Lock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("RespondValue(%#x): %v", n.ID, err))
				} else {
					answered[keyOf(&n)]++
				}
				mu.Unlock()
			}
		}()
	}

	for len(threads.list()) < receivers {
		time.Sleep(time.Millisecond)
	}
	// The signals come from another process, so that they keep coming when
	// GOMAXPROCS is 1 and the receivers keep this process's P busy.
	storm := startStorm(t, os.Getpid(), threads.list())
	stop := make(chan struct{})
	spun := spin(stop)
	if _, err := c.stdin.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}

	out := c.wait(t)
	wg.Wait()
	close(stop)
	<-spun
	signals := storm.stop(t)

	if want := fmt.Sprintf("calls=%d bad=0", workers*calls); out != want {
		t.Errorf("target output %q, want %q", out, want)
	}
	for _, f := range failures {
		t.Error(f)
	}
	for id, n := range received {
		if n != 1 {
			t.Errorf("notification %#x received %d times", id, n)
		}
	}
	if len(answered) != workers*calls {
		t.Errorf("answered %d distinct calls, want %d", len(answered), workers*calls)
	}
	for key, n := range answered {
		if n != 1 {
			t.Errorf("call %v answered %d times", key, n)
		}
	}
	if signals == 0 {
		t.Error("no signal was sent to the receiving threads")
	}
	t.Logf("%d notifications with %d SIGURG sent to %d receiving threads", len(received), signals, receivers)
}

// preemptedTarget runs the "calls" child mode with busy goroutines under a
// filter with flags, sends SIGURG to all its threads in a loop, and answers
// every notification. It returns, per call, the ids it was received under
// and, per id, the error of its answer.
func preemptedTarget(t *testing.T, flags seccomp.FilterFlag) (byCall map[callKey][]uint64, answers map[uint64]error) {
	t.Helper()
	const workers, calls = 3, 60
	c := startChild(t, "calls", childOptions{
		flags: flags,
		env:   []string{"TAG=3", "BUSY=2", "WORKERS=" + strconv.Itoa(workers), "CALLS=" + strconv.Itoa(calls)},
	})
	pid := c.cmd.Process.Pid
	targetThreads := func() []int {
		entries, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		tids := make([]int, 0, len(entries))
		for _, e := range entries {
			if tid, err := strconv.Atoi(e.Name()); err == nil {
				tids = append(tids, tid)
			}
		}
		return tids
	}

	byCall = make(map[callKey][]uint64)
	answers = make(map[uint64]error)
	served := make(chan error, 1)
	go func() {
		var n seccomp.Notif
		for i := 0; ; i++ {
			if err := c.l.Receive(&n); err != nil {
				if errors.Is(err, seccomp.ErrNoTargets) {
					err = nil
				}
				served <- err
				return
			}
			byCall[keyOf(&n)] = append(byCall[keyOf(&n)], n.ID)
			if i%4 == 0 {
				// Hold the answer, so that signals land while the target
				// waits for it.
				time.Sleep(200 * time.Microsecond)
			}
			answers[n.ID] = c.l.RespondValue(n.ID, answerNotif(&n))
		}
	}()

	stop := make(chan struct{})
	sent := signalStorm(pid, targetThreads, stop)
	// Stop the signals once the target has exited but before it is reaped,
	// so that they can never reach another process that reuses its pid.
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	close(stop)
	signals := <-sent
	out := c.wait(t)
	if err := <-served; err != nil {
		t.Errorf("Receive: %v", err)
	}

	if want := fmt.Sprintf("calls=%d bad=0", workers*calls); out != want {
		t.Errorf("target output %q, want %q", out, want)
	}
	if len(byCall) != workers*calls {
		t.Errorf("received %d distinct calls, want %d", len(byCall), workers*calls)
	}
	t.Logf("%d notifications for %d calls, %d SIGURG sent to the target", len(answers), len(byCall), signals)
	return byCall, answers
}

// TestPreemptedTargetWaitKillable checks that with WAIT_KILLABLE_RECV a Go
// target's received calls survive its preemption signals: no call is
// received twice and every answer is delivered.
func TestPreemptedTargetWaitKillable(t *testing.T) {
	requireFeature(t, "flag WAIT_KILLABLE_RECV", "5.19", seccomp.HaveFilterFlag(seccomp.FilterFlagWaitKillableRecv))
	checkNoLeaks(t)
	byCall, answers := preemptedTarget(t, seccomp.FilterFlagWaitKillableRecv)

	for key, ids := range byCall {
		if len(ids) != 1 {
			t.Errorf("call %v received %d times (ids %#x): restarted after the receive", key, len(ids), ids)
		}
	}
	for id, err := range answers {
		if err != nil {
			t.Errorf("answer to %#x: %v", id, err)
		}
	}
}

// TestPreemptedTargetRestarts checks the same target without
// WAIT_KILLABLE_RECV: signals restart received calls, the old id then
// reports ErrNotifGone, and the call comes back under a new id, which is
// answered.
func TestPreemptedTargetRestarts(t *testing.T) {
	checkNoLeaks(t)
	byCall, answers := preemptedTarget(t, 0)

	restarted := 0
	for key, ids := range byCall {
		for i, id := range ids {
			err := answers[id]
			if err != nil && !errors.Is(err, seccomp.ErrNotifGone) {
				t.Errorf("answer to %#x: %v, want nil or ErrNotifGone", id, err)
			}
			if errors.Is(err, seccomp.ErrNotifGone) && i == len(ids)-1 {
				t.Errorf("call %v: the answer to its last id %#x found it gone, and it never came back", key, id)
			}
		}
		if len(ids) > 1 {
			restarted++
		}
	}
	if restarted == 0 {
		t.Error("no call was restarted: the signals never interrupted a received call")
	}
	t.Logf("%d calls restarted after the receive", restarted)
}

// TestReceiveReturnsWhenTargetsExit has three receivers waiting while every
// target goes away: one exits normally, one is killed with a notification
// received and unanswered, one exits after its answer. Each receiver must
// return ErrNoTargets. Before Linux 6.11 a RECV ioctl without targets blocks
// forever, so this holds only because Receive polls first.
func TestReceiveReturnsWhenTargetsExit(t *testing.T) {
	checkNoLeaks(t)
	s := newSpawner(t, notifyFilter(unix.SYS_GETPPID), 0)

	idle := childCommand("wait-stdin")
	stdin, err := idle.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.reqs <- idle
	if err := <-s.errs; err != nil {
		t.Fatal(err)
	}
	s.cmds = append(s.cmds, idle)
	killed, _ := s.start("getppid")
	answered, answeredOut := s.start("getppid")
	s.stop()

	const receivers = 3
	notifs := make(chan seccomp.Notif, 2)
	errs := make(chan error, receivers)
	for i := range receivers {
		go func() {
			var n seccomp.Notif
			for {
				var err error
				if i == 0 {
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					err = s.l.ReceiveContext(ctx, &n)
					cancel()
				} else {
					err = s.l.Receive(&n)
				}
				if err != nil {
					errs <- err
					return
				}
				notifs <- n
			}
		}()
	}

	for range 2 {
		select {
		case n := <-notifs:
			if n.Pid == uint32(answered.Process.Pid) {
				if err := s.l.RespondValue(n.ID, 5); err != nil {
					t.Fatal(err)
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the targets' notifications did not arrive")
		}
	}
	killed.Process.Kill()
	killed.Wait()
	stdin.Close()
	if err := idle.Wait(); err != nil {
		t.Errorf("idle target: %v", err)
	}
	if out := waitChild(t, answered, answeredOut); out != "ret=5 errno=0" {
		t.Errorf("answered target output %q", out)
	}

	for range receivers {
		select {
		case err := <-errs:
			if !errors.Is(err, seccomp.ErrNoTargets) || err.Error() != "seccomp: receive: no task uses the filter any more" {
				t.Errorf("receiver: %v, want ErrNoTargets", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a receiver still waits 10s after every target was reaped")
		}
	}
}

// reusedFD is an fd opened right after a listener was closed, which got the
// listener's number, with a way to check that nothing touched it since.
type reusedFD struct {
	name    string
	fd      int
	check   func() error
	cleanup func()
}

// openReusing opens fds until one gets number want, which the caller has
// just freed, and closes the others. kind chooses a pipe, whose unread bytes
// and flags show any read or fcntl, or a memfd, whose offset and flags show
// any read, write, seek or fcntl.
func openReusing(t *testing.T, want int, kind int) reusedFD {
	t.Helper()
	var spare []func()
	defer func() {
		for _, cleanup := range spare {
			cleanup()
		}
	}()
	for range 64 {
		r := openCandidate(t, kind)
		for _, fd := range r.fds {
			if fd == want {
				r.fd = want
				return r.reusedFD
			}
		}
		// Keep it open, so that the next fd gets a higher number.
		spare = append(spare, r.cleanup)
	}
	t.Fatalf("fd %d was not reused", want)
	return reusedFD{}
}

type candidate struct {
	reusedFD
	fds []int // every fd the candidate opened
}

func openCandidate(t *testing.T, kind int) candidate {
	t.Helper()
	notNonblock := func(fd int) error {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
			return fmt.Errorf("fd %d has flags %#x (%v), want O_NONBLOCK clear", fd, fl, err)
		}
		return nil
	}

	if kind == 0 {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		if _, err := unix.Write(p[1], []byte("untouched")); err != nil {
			t.Fatal(err)
		}
		c := candidate{fds: p[:]}
		c.name = "pipe"
		c.cleanup = func() {
			unix.Close(p[0])
			unix.Close(p[1])
		}
		c.check = func() error {
			for _, fd := range p {
				if err := notNonblock(fd); err != nil {
					return err
				}
			}
			var n int
			buf := make([]byte, 64)
			if err := unix.SetNonblock(p[0], true); err == nil {
				n, _ = unix.Read(p[0], buf)
			}
			if got := string(buf[:max(n, 0)]); got != "untouched" {
				return fmt.Errorf("pipe holds %q, want the 9 bytes written to it", got)
			}
			return nil
		}
		return c
	}

	fd, err := unix.MemfdCreate("reused", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(fd, []byte("0123456789"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Seek(fd, 4, 0); err != nil {
		t.Fatal(err)
	}
	c := candidate{fds: []int{fd}}
	c.name = "memfd"
	c.cleanup = func() { unix.Close(fd) }
	c.check = func() error {
		if err := notNonblock(fd); err != nil {
			return err
		}
		buf := make([]byte, 16)
		n, _ := unix.Pread(fd, buf, 0)
		if got := string(buf[:max(n, 0)]); got != "0123456789" {
			return fmt.Errorf("memfd holds %q", got)
		}
		if off, err := unix.Seek(fd, 0, 1); err != nil || off != 4 {
			return fmt.Errorf("memfd offset %d (%v), want 4", off, err)
		}
		return nil
	}
	return c
}

// TestCloseDuringReceiveFDReuse closes a listener while three goroutines wait
// in Receive, under GC pressure, and reuses its fd number at once. The
// receivers must return ErrClosed promptly, every later call must fail
// without a system call, and the file now at that number must be untouched.
func TestCloseDuringReceiveFDReuse(t *testing.T) {
	checkNoLeaks(t)
	stopGC := make(chan struct{})
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for {
			select {
			case <-stopGC:
				return
			default:
			}
			_ = make([]byte, 1<<20)
			runtime.GC()
		}
	}()
	defer func() {
		close(stopGC)
		<-gcDone
	}()

	for round := range 4 {
		c := startChild(t, "wait-stdin", childOptions{stdin: true})
		rc, err := c.l.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		listenerFD := -1
		rc.Control(func(fd uintptr) { listenerFD = int(fd) })

		const receivers = 3
		errs := startReceivers(c.l, receivers)
		time.Sleep(50 * time.Millisecond) // let them wait

		start := time.Now()
		if err := c.l.Close(); err != nil {
			t.Fatal(err)
		}
		reused := openReusing(t, listenerFD, round%2)
		for range receivers {
			select {
			case err := <-errs:
				if !errors.Is(err, seccomp.ErrClosed) || err.Error() != "seccomp: receive: listener closed" {
					t.Errorf("Receive after Close: %v, want ErrClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Receive still waits 5s after Close")
			}
		}
		woke := time.Since(start)

		// Nothing may reach the fd number now.
		var n seccomp.Notif
		calls := []struct {
			op  string
			err error
		}{
			{"send", c.l.Continue(1)},
			{"send", c.l.RespondValue(1, 1)},
			{"send", c.l.RespondErrno(1, unix.EPERM)},
			{"check id", c.l.IDValid(1)},
			{"set flags", c.l.SetFlags(seccomp.NotifFDFlagSyncWakeUp)},
			{"receive", c.l.Receive(&n)},
			{"set deadline", c.l.SetReadDeadline(time.Now())},
			{"close", c.l.Close()},
		}
		_, addErr := c.l.AddFD(&seccomp.NotifAddFD{ID: 1, SrcFD: uint32(reused.fd)})
		_, respondFDErr := c.l.RespondFD(1, reused.fd, false)
		_, connErr := c.l.SyscallConn()
		calls = append(calls, struct {
			op  string
			err error
		}{"add fd", addErr}, struct {
			op  string
			err error
		}{"add fd", respondFDErr}, struct {
			op  string
			err error
		}{"syscall conn", connErr})
		for _, call := range calls {
			if !errors.Is(call.err, seccomp.ErrClosed) || call.err.Error() != "seccomp: "+call.op+": listener closed" {
				t.Errorf("%s after Close: %v, want ErrClosed", call.op, call.err)
			}
		}

		runtime.GC()
		time.Sleep(20 * time.Millisecond)
		if err := reused.check(); err != nil {
			t.Errorf("round %d: the %s at reused fd %d was touched: %v", round, reused.name, listenerFD, err)
		}
		reused.cleanup()
		c.stdin.Close()
		c.wait(t)
		t.Logf("round %d: receivers woke %v after Close; fd %d reused by a %s", round, woke, listenerFD, reused.name)
	}
}

func init() {
	// getppid-survive: call getppid, print its result, then show that the
	// process goes on.
	childModes["getppid-survive"] = func() int {
		r, _, errno := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		fmt.Printf("ret=%d errno=%d\n", int(r), int(errno))
		fmt.Printf("alive pid=%d\n", unix.Getpid())
		return 0
	}

	// supervise-and-hang: start a getppid-survive target under a listener,
	// with fd 3 as the target's stdout. With RECEIVE=1, receive its
	// notification and leave it unanswered; otherwise leave it pending.
	// Then report on stdout and wait to be killed.
	childModes["supervise-and-hang"] = func() int {
		out := os.NewFile(3, "target-stdout")
		cmd := childCommand("getppid-survive")
		cmd.Stdout = out
		var l *seccomp.Listener
		var err error
		onDiscardedThread(func() {
			if err = seccomp.SetNoNewPrivs(); err != nil {
				return
			}
			var fd int
			if fd, err = seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPPID), seccomp.FilterFlagNewListener); err != nil {
				return
			}
			if l, err = seccomp.NewListener(fd); err != nil {
				return
			}
			err = cmd.Start()
		})
		out.Close()
		if err != nil {
			fmt.Println(err)
			return 1
		}

		if os.Getenv("RECEIVE") == "1" {
			var n seccomp.Notif
			if err := receiveWithin(l, &n, 30*time.Second); err != nil {
				fmt.Println(err)
				return 1
			}
			fmt.Printf("received pid=%d\n", cmd.Process.Pid)
		} else {
			rc, _ := l.SyscallConn()
			var revents int16
			rc.Control(func(fd uintptr) {
				fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
				unix.Poll(fds, 30000)
				revents = fds[0].Revents
			})
			if revents&unix.POLLIN == 0 {
				fmt.Println("no notification pending")
				return 1
			}
			fmt.Printf("pending pid=%d\n", cmd.Process.Pid)
		}
		time.Sleep(time.Hour)
		return 0
	}
}

// TestSupervisorDies kills a supervisor process with SIGKILL while its
// target waits in a notified call, received or still pending. The kernel
// must fail the call with ENOSYS, and the target must carry on and exit
// normally.
func TestSupervisorDies(t *testing.T) {
	for _, receive := range []bool{true, false} {
		name := map[bool]string{true: "received", false: "pending"}[receive]
		t.Run(name, func(t *testing.T) {
			checkNoLeaks(t)
			// When the supervisor dies, the kernel hands its target to the
			// nearest subreaper. Being one for the test lets it reap the
			// target and check its exit status, instead of leaving a zombie
			// to an init that might not reap it.
			if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
				t.Fatal(err)
			}
			defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)

			targetOut, targetW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer targetOut.Close()

			sup := childCommand("supervise-and-hang", "RECEIVE="+map[bool]string{true: "1", false: "0"}[receive])
			sup.ExtraFiles = []*os.File{targetW}
			supOut, err := sup.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := sup.Start(); err != nil {
				t.Fatal(err)
			}
			targetW.Close()
			defer func() {
				sup.Process.Kill()
				sup.Wait()
			}()

			timer := time.AfterFunc(30*time.Second, func() { sup.Process.Kill() })
			line, err := bufio.NewReader(supOut).ReadString('\n')
			timer.Stop()
			var targetPid int
			if _, scanErr := fmt.Sscanf(line, name+" pid=%d", &targetPid); scanErr != nil {
				t.Fatalf("supervisor said %q (%v), want %q", line, err, name+" pid=N")
			}

			if err := sup.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			sup.Wait()

			// The target is no child of ours; its output pipe reaches EOF
			// when it exits.
			targetOut.SetReadDeadline(time.Now().Add(30 * time.Second))
			var out bytes.Buffer
			_, err = out.ReadFrom(targetOut)
			if err != nil {
				killIfTestBinary(targetPid)
				t.Fatalf("target output after the supervisor died: %q, %v", out.String(), err)
			}
			want := fmt.Sprintf("ret=-1 errno=%d\nalive pid=%d", int(unix.ENOSYS), targetPid)
			if got := strings.TrimSpace(out.String()); got != want {
				t.Errorf("target output %q, want %q", got, want)
			}
			var status unix.WaitStatus
			if _, err := unix.Wait4(targetPid, &status, 0, nil); err != nil {
				t.Fatalf("reap the target: %v", err)
			}
			if !status.Exited() || status.ExitStatus() != 0 {
				t.Errorf("target ended with status %v, want exit status 0", status)
			}
		})
	}
}

// killIfTestBinary kills process pid if it still runs this test binary, so
// that a stale pid never hits another process.
func killIfTestBinary(pid int) {
	self, err1 := os.Readlink("/proc/self/exe")
	exe, err2 := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err1 == nil && err2 == nil && exe == self {
		unix.Kill(pid, unix.SIGKILL)
	}
}

// TestConcurrentReceiversManyTargets serves several targets, each making
// calls from several goroutines, with several receiving goroutines on one
// listener. Every notification must be received once and answered at most
// once, and every target must see the value computed from its call's
// arguments.
func TestConcurrentReceiversManyTargets(t *testing.T) {
	checkNoLeaks(t)
	const targets, workers, calls, receivers = 3, 3, 60, 4
	s := newSpawner(t, notifyFilter(unix.SYS_GETPPID), 0)
	cmds := make([]*exec.Cmd, targets)
	outs := make([]*bytes.Buffer, targets)
	for i := range targets {
		cmds[i], outs[i] = s.start("calls", "TAG="+strconv.Itoa(10+i), "WORKERS="+strconv.Itoa(workers), "CALLS="+strconv.Itoa(calls))
	}
	s.stop()

	var mu sync.Mutex
	received := make(map[uint64]int)
	answered := make(map[uint64]int)
	calledBack := make(map[callKey]int)
	gone := 0
	var failures []string
	var wg sync.WaitGroup
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n seccomp.Notif
			for {
				if err := s.l.Receive(&n); err != nil {
					if !errors.Is(err, seccomp.ErrNoTargets) {
						mu.Lock()
						failures = append(failures, "Receive: "+err.Error())
						mu.Unlock()
					}
					return
				}
				mu.Lock()
				received[n.ID]++
				mu.Unlock()

				err := s.l.RespondValue(n.ID, answerNotif(&n))
				mu.Lock()
				switch {
				case err == nil:
					answered[n.ID]++
					calledBack[keyOf(&n)]++
				case errors.Is(err, seccomp.ErrNotifGone):
					gone++ // the target's call was interrupted and restarts
				default:
					failures = append(failures, fmt.Sprintf("RespondValue(%#x): %v", n.ID, err))
				}
				mu.Unlock()
			}
		}()
	}

	for i := range targets {
		if out, want := waitChild(t, cmds[i], outs[i]), fmt.Sprintf("calls=%d bad=0", workers*calls); out != want {
			t.Errorf("target %d output %q, want %q", i, out, want)
		}
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("receivers still running 30s after every target exited")
	}

	for _, f := range failures {
		t.Error(f)
	}
	for id, n := range received {
		if n != 1 {
			t.Errorf("notification %#x received %d times", id, n)
		}
	}
	for id, n := range answered {
		if n != 1 {
			t.Errorf("notification %#x answered %d times", id, n)
		}
	}
	if len(calledBack) != targets*workers*calls {
		t.Errorf("answered %d distinct calls, want %d", len(calledBack), targets*workers*calls)
	}
	t.Logf("%d notifications, %d answered, %d gone before the answer", len(received), len(answered), gone)
}
