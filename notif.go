package seccomp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Listener owns a seccomp listener fd: the fd that
// seccomp(SECCOMP_SET_MODE_FILTER) returns for a filter installed with
// [FilterFlagNewListener]. It receives the notifications of that filter's
// USER_NOTIF actions and sends the responses.
//
// Receive waits on Go's runtime poller, so an idle Listener parks a goroutine
// and pins no OS thread; [Listener.Close] and read deadlines wake it. The
// fd polls readable while a notification is pending and hangs up once no task
// uses the filter, which Receive reports as [ErrNoTargets].
//
// A Listener is busy while its last two notifications came less than 100 µs
// apart. Its receiver then waits up to 50 µs in the kernel's poll, on its own
// OS thread, before it parks, so that the next notification wakes it as
// directly as a receiver blocked in the kernel. Close, deadlines and canceled
// contexts can take that long to end such a wait, plus the kernel's timer
// slack (50 µs by default). Across all Listeners, at most 8 receivers wait
// this way at once, and no more than GOMAXPROCS had at program start.
//
// A Listener is safe for concurrent use: several goroutines may receive and
// respond at once, and each notification goes to one receiver.
type Listener struct {
	// file owns fd and closes it once, after the last use by the poller.
	file *os.File
	rc   syscall.RawConn
	fd   int

	// mu is held for reading by every ioctl on fd outside the poller and for
	// writing by Close, so fd is never closed, and its number reused, while
	// such an ioctl runs.
	mu     sync.RWMutex
	closed bool
	done   chan struct{} // closed by Close

	// recvSlot is a semaphore of one, held by the goroutine that receives.
	// It guards hot and the fields that the preallocated callback recvFn
	// reads and writes, which lets Receive run without allocating.
	recvSlot chan struct{}
	recvDst  *Notif
	recvErr  error
	recvFn   func(fd uintptr) bool
	// hot is set while notifications arrive less than twice hotWait apart
	// (see receiveReady). lastRecv is the time of the last one.
	hot      bool
	lastRecv time.Time

	// deadline is the read deadline set by SetReadDeadline, in Unix
	// nanoseconds (0 for none), restored after ReceiveContext moves it.
	deadline atomic.Int64
}

// NewListener returns a Listener that owns the listener fd. The fd is put in
// non-blocking mode and registered with the runtime poller. If fd is not an
// open seccomp listener, NewListener returns an error and leaves fd to the
// caller. If the poller rejects it, NewListener closes it.
func NewListener(fd int) (*Listener, error) {
	const op = "new listener"
	if fd < 0 {
		return nil, &Error{Op: op, Errno: unix.EBADF, Err: fmt.Errorf("invalid file descriptor %d", fd)}
	}
	if err := checkListenerFD(fd); err != nil {
		return nil, &Error{Op: op, Errno: errnoOf(err), Err: err}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, &Error{Op: op, Errno: errnoOf(err)}
	}

	// A non-blocking fd passed to os.NewFile is added to the runtime poller.
	f := os.NewFile(uintptr(fd), "seccomp-listener:"+strconv.Itoa(fd))
	rc, err := f.SyscallConn()
	if err == nil {
		// Deadlines work only on files the poller accepted.
		err = f.SetReadDeadline(time.Time{})
	}
	if err != nil {
		_ = f.Close()
		return nil, &Error{Op: op, Err: fmt.Errorf("listener fd %d cannot be polled: %w", fd, err)}
	}

	l := &Listener{file: f, rc: rc, fd: fd, recvSlot: make(chan struct{}, 1), done: make(chan struct{})}
	l.recvFn = l.tryReceive
	return l, nil
}

// checkListenerFD verifies that fd is a seccomp listener by its anonymous
// inode name, so that misuse fails here instead of at the first ioctl.
func checkListenerFD(fd int) error {
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) && errors.Is(pathErr.Err, unix.ENOENT) {
			return fmt.Errorf("file descriptor %d is not open: %w", fd, unix.EBADF)
		}
		// Without /proc the check is skipped; the first ioctl will fail
		// with ENOTTY instead.
		return nil
	}
	if target != "anon_inode:seccomp notify" {
		return fmt.Errorf("file descriptor %d is %q, not a seccomp listener: %w", fd, target, unix.ENOTTY)
	}
	return nil
}

// Receive waits for the next notification and stores it in n, without
// allocating. It returns an error matching [ErrNoTargets] once no task uses
// the filter, [ErrClosed] after [Listener.Close], and
// [os.ErrDeadlineExceeded] when the read deadline passes.
//
// A notification whose target went away between the wake-up and the receive
// is skipped, because after the kernel's ENOENT there is nothing to respond to.
func (l *Listener) Receive(n *Notif) error {
	return l.receive(nil, n)
}

// ReceiveContext is [Listener.Receive] that also returns ctx.Err() when ctx
// is done first. While it waits in the poller it interrupts the wait by
// moving the read deadline, which it restores afterwards, so do not call
// SetReadDeadline concurrently with it.
func (l *Listener) ReceiveContext(ctx context.Context, n *Notif) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.receive(ctx, n)
}

// receive takes the receive slot, so that one goroutine at a time receives
// and owns the fields recvFn uses. It then receives outside the poller if
// the Listener is busy, and in the poller otherwise or if that finds nothing.
func (l *Listener) receive(ctx context.Context, n *Notif) error {
	var ctxDone <-chan struct{}
	if ctx != nil {
		ctxDone = ctx.Done()
	}
	select {
	case l.recvSlot <- struct{}{}:
	default:
		// Another goroutine holds the slot: wait for it.
		select {
		case l.recvSlot <- struct{}{}:
		case <-l.done:
			return &Error{Op: "receive", Err: ErrClosed}
		case <-ctxDone:
			return ctx.Err()
		}
	}
	defer func() { <-l.recvSlot }()

	if ctxDone != nil {
		// Only the holder of the slot moves the deadline, so no other
		// receiver is woken by it.
		stop := context.AfterFunc(ctx, func() {
			_ = l.file.SetReadDeadline(time.Unix(1, 0))
		})
		defer func() {
			if !stop() {
				_ = l.file.SetReadDeadline(l.userDeadline())
			}
		}()
	}

	if l.hot && ctxDone == nil && l.deadline.Load() == 0 {
		// Without a deadline to enforce, a busy Listener receives a
		// notification that is pending, or comes during its wait in the
		// kernel, without the poller.
		if done, err := l.receiveNow(n); done {
			return err
		}
	}

	// The poller path polls again after it resets the fd's readiness, so
	// that a notification arriving before the park cannot be missed.
	l.recvDst, l.recvErr = n, nil
	err := l.rc.Read(l.recvFn)
	l.recvDst = nil

	switch {
	case err == nil:
		return l.recvErr
	case l.isClosed():
		return &Error{Op: "receive", Err: ErrClosed}
	case errors.Is(err, os.ErrDeadlineExceeded) && ctx != nil && ctx.Err() != nil:
		return ctx.Err()
	default:
		return &Error{Op: "receive", Err: err}
	}
}

// receiveNow is receiveReady outside the runtime poller, holding mu so
// that Close cannot close the fd meanwhile. It reports false when the
// caller has to wait in the poller, which also reports a closed Listener.
func (l *Listener) receiveNow(n *Notif) (bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return false, nil
	}
	return l.receiveReady(uintptr(l.fd), n)
}

// tryReceive is the poller callback of Receive: receiveReady into the
// fields that receive set. It returns false to park until the fd is ready.
func (l *Listener) tryReceive(fd uintptr) bool {
	done, err := l.receiveReady(fd, l.recvDst)
	if done {
		l.recvErr = err
	}
	return done
}

// receiveReady receives a notification into n if one is pending and
// reports whether it is done: with a notification, an error, or the
// hang-up that means no task uses the filter any more.
//
// RECV blocks in the kernel regardless of the fd's O_NONBLOCK flag, and only
// a notification or the filter's end wakes it, so Close could not stop a
// receiver blocked there. receiveReady therefore calls RECV only when poll
// reports a notification pending. The Listener is busy when its last two
// notifications came less than twice hotWait apart. If nothing is pending, a
// busy Listener's receiver then waits in the kernel's poll for up to hotWait.
// The target's next call then wakes this thread directly, as it would wake a
// thread blocked in RECV, instead of going through the runtime poller (see
// docs/benchmarks.md).
// TODO: a busy Listener's fd stays in the poller's epoll set, whose callback costs about 0.12 µs per round trip.
func (l *Listener) receiveReady(fd uintptr, n *Notif) (bool, error) {
	for {
		revents, waited, err := l.pollReady(fd)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return true, &Error{Op: "receive", Errno: errnoOf(err)}
		case revents&unix.POLLIN != 0:
			err := IoctlNotifRecv(int(fd), n)
			if errors.Is(err, ErrNotifGone) {
				// The target was killed or interrupted after the wake-up:
				// look again, as another notification may be pending.
				continue
			}
			if err == nil {
				now := time.Now()
				l.hot = now.Sub(l.lastRecv) < 2*time.Duration(hotWaitNS.Load())
				l.lastRecv = now
			}
			return true, err
		case revents&unix.POLLHUP != 0:
			return true, &Error{Op: "receive", Err: ErrNoTargets}
		case revents&unix.POLLNVAL != 0:
			return true, &Error{Op: "receive", Errno: unix.EBADF, Err: fmt.Errorf("listener fd polls as %#x", revents)}
		case revents&unix.POLLERR != 0:
			// seccomp_notify_poll reports EPOLLERR when a signal interrupts
			// its wait for the notifier lock: look again.
			continue
		default:
			if waited {
				// Nothing came during the wait in the kernel: the
				// Listener is idle.
				l.hot = false
			}
			return false, nil
		}
	}
}

// pollReady polls fd for a pending notification and returns its revents,
// or 0 if none is pending. If none is, a busy Listener's receiver waits up
// to hotWait for one, and reports that it waited, unless maxHotWaiters
// receivers already wait in the kernel.
func (l *Listener) pollReady(fd uintptr) (revents int16, waited bool, err error) {
	revents, err = pollFD(fd, 0)
	if revents != 0 || err != nil || !l.hot {
		return revents, false, err
	}
	if hotWaiters.Add(1) > maxHotWaiters {
		hotWaiters.Add(-1)
		return 0, false, nil
	}
	revents, err = pollFD(fd, time.Duration(hotWaitNS.Load()))
	hotWaiters.Add(-1)
	return revents, true, err
}

// hotWait bounds the time a busy Listener's receiver waits in the kernel
// before it parks in the runtime poller. On an idle two-CPU VM a park and
// wake-up through the poller added about 30 µs to a round trip. hotWait also
// bounds how late Close, a deadline or a canceled context end such a wait,
// plus the kernel's timer slack (50 µs by default).
const hotWait = 50 * time.Microsecond

// hotWaitNS is hotWait, in a variable that tests lengthen.
var hotWaitNS atomic.Int64

func init() { hotWaitNS.Store(int64(hotWait)) }

// maxHotWaiters bounds the receivers of all Listeners that wait in the kernel
// at once, because each of them holds an OS thread. The others park in the
// runtime poller. One per CPU that runs Go code can keep every CPU's target
// and supervisor paired.
var maxHotWaiters = int32(min(runtime.GOMAXPROCS(0), 8))

// hotWaiters counts the receivers waiting in the kernel.
var hotWaiters atomic.Int32

// pollFD polls fd for POLLIN for up to timeout and returns its revents, or 0
// if the timeout passed first. A zero timeout returns at once, so that poll
// runs without telling the scheduler that the thread may block.
func pollFD(fd uintptr, timeout time.Duration) (int16, error) {
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	ts := unix.NsecToTimespec(int64(timeout))
	var n uintptr
	var errno syscall.Errno
	if timeout == 0 {
		n, _, errno = unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	} else {
		n, _, errno = unix.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	}
	if errno != 0 {
		return 0, errno
	}
	if n == 0 {
		return 0, nil
	}
	return fds[0].Revents, nil
}

// SetReadDeadline sets the time after which a waiting Receive returns an
// error matching [os.ErrDeadlineExceeded]; the zero time means none. It
// applies to every Receive on l, current and future, like the read deadline
// of a [net.Conn].
func (l *Listener) SetReadDeadline(t time.Time) error {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	l.deadline.Store(ns)
	if err := l.file.SetReadDeadline(t); err != nil {
		if l.isClosed() {
			return &Error{Op: "set deadline", Err: ErrClosed}
		}
		return &Error{Op: "set deadline", Err: err}
	}
	return nil
}

func (l *Listener) userDeadline() time.Time {
	ns := l.deadline.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Respond sends r as the response to notification r.ID. See [IoctlNotifSend] for the
// rules r must follow and the errors.
func (l *Listener) Respond(r *NotifResp) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return &Error{Op: "send", Err: ErrClosed}
	}
	return IoctlNotifSend(l.fd, r)
}

// Continue lets the target's system call run as if the filter had allowed it
// ([NotifRespFlagContinue], Linux 5.5). The target may change the call's
// memory arguments after the supervisor looked at them, so Continue must not
// serve as a security decision.
func (l *Listener) Continue(id uint64) error {
	return l.Respond(&NotifResp{ID: id, Flags: NotifRespFlagContinue})
}

// RespondValue makes the target's system call return val without running it.
// The target's C library reads a value from -4095 to -1 as a failure with
// that errno negated, as it does for every system call. Use RespondErrno to
// report an error.
func (l *Listener) RespondValue(id uint64, val int64) error {
	return l.Respond(&NotifResp{ID: id, Val: val})
}

// RespondErrno makes the target's system call fail with errno without running
// it. errno must be between 1 and 4095.
func (l *Listener) RespondErrno(id uint64, errno unix.Errno) error {
	if errno == 0 || errno > maxErrno {
		return &Error{Op: "send", Err: fmt.Errorf("errno %d out of range: want 1 to %d (use RespondValue to return a value)", int(errno), maxErrno)}
	}
	// The kernel wants a negative errno in the response.
	return l.Respond(&NotifResp{ID: id, Error: -int32(errno)})
}

// IDValid returns nil while notification id is received and not yet
// responded to, and an error matching [ErrNotifGone] once it is not. See
// [IoctlNotifIDValid] for when to call it.
func (l *Listener) IDValid(id uint64) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return &Error{Op: "check id", Err: ErrClosed}
	}
	return IoctlNotifIDValid(l.fd, id)
}

// AddFD installs a copy of a supervisor fd in the target of a received
// notification and returns its number in the target. See [IoctlNotifAddFD] for
// the request's fields and the errors.
func (l *Listener) AddFD(a *NotifAddFD) (int, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return -1, &Error{Op: "add fd", Err: ErrClosed}
	}
	return IoctlNotifAddFD(l.fd, a)
}

// RespondFD installs a copy of srcFD in the target and responds to notification
// id with its number in one step ([AddFDFlagSend], Linux 5.14), so the
// target's system call returns the new fd. Use it to respond to calls that return
// an fd, such as openat or socket: responding with AddFD and then RespondValue
// could leak the fd into a target whose call was restarted in between.
func (l *Listener) RespondFD(id uint64, srcFD int, cloexec bool) (int, error) {
	if srcFD < 0 {
		return -1, &Error{Op: "add fd", Errno: unix.EBADF, Err: fmt.Errorf("invalid source fd %d", srcFD)}
	}
	a := NotifAddFD{ID: id, Flags: AddFDFlagSend, SrcFD: uint32(srcFD)}
	if cloexec {
		a.NewFDFlags = unix.O_CLOEXEC
	}
	return l.AddFD(&a)
}

// SetFlags sets flags on the listener, such as [NotifFDFlagSyncWakeUp]
// (Linux 6.6). On an older kernel the error matches [ErrNotSupported].
//
// SYNC_WAKE_UP suits a supervisor that responds to each notification at
// once: the kernel then wakes the receiver and the target on each other's
// CPU. On an idle two-vCPU VM it made cmd/unotify's cost per notification
// 22 µs instead of 54 µs (docs/benchmarks.md).
func (l *Listener) SetFlags(flags NotifFDFlag) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return &Error{Op: "set flags", Err: ErrClosed}
	}
	return IoctlNotifSetFlags(l.fd, flags)
}

// SyscallConn returns a raw connection to the listener fd, for operations
// this package does not wrap. Its Read method waits on the runtime poller.
func (l *Listener) SyscallConn() (syscall.RawConn, error) {
	if l.isClosed() {
		return nil, &Error{Op: "syscall conn", Err: ErrClosed}
	}
	return l.rc, nil
}

// Close closes the listener. Receive calls waiting on it return [ErrClosed]
// at once, later calls fail with it, and the fd is closed once no call uses
// it. A receiver that waits in the kernel because the Listener is busy ends
// that wait first, so Close and that Receive can take up to about 0.1 ms. Every system call still waiting for a response from this listener, and
// every later one its filter sends here, fails with ENOSYS. Close returns an
// error matching [ErrClosed] if l was already closed.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return &Error{Op: "close", Err: ErrClosed}
	}
	l.closed = true
	close(l.done)
	l.mu.Unlock()

	if err := l.file.Close(); err != nil {
		return &Error{Op: "close", Err: err}
	}
	return nil
}

func (l *Listener) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}
