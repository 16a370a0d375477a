package seccomp

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// These functions are the raw notification ioctls on a listener fd, one per
// kernel operation, like golang.org/x/sys/unix. They retry EINTR, which the
// kernel returns from the notifier's interruptible lock even under
// SA_RESTART (and Go sets SA_RESTART on every handler). [Listener] builds on
// them.

// ioctl calls ioctl(2), retrying EINTR.
func ioctl(fd int, req uint, arg unsafe.Pointer) (uintptr, unix.Errno) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		if errno != unix.EINTR {
			return r, errno
		}
	}
}

// IoctlNotifRecv receives the next notification on listener fd into n
// (SECCOMP_IOCTL_NOTIF_RECV, Linux 5.0), zeroing n first as the kernel
// requires.
//
// It blocks until a notification is pending, whatever the fd's O_NONBLOCK
// flag, pinning the calling OS thread; [Listener.Receive] waits on Go's
// runtime poller instead. An error matching [ErrNotifGone] (ENOENT) means the
// target went away between the wake-up and the receive: receive again. Since
// Linux 6.11 ENOENT also means that no task uses the filter any more, which
// older kernels never report here (the call blocks forever).
//
// If the running kernel's struct seccomp_notif is larger than [Notif], the
// kernel's notification is received into a larger zeroed buffer and its first
// [SizeofNotif] bytes are copied to n.
func IoctlNotifRecv(fd int, n *Notif) error {
	if size := int(kernelSizes().Notif); size > SizeofNotif {
		buf := make([]byte, size)
		if _, errno := ioctl(fd, ioctlNotifRecv, unsafe.Pointer(&buf[0])); errno != 0 {
			return newError("receive", errno)
		}
		*n = *(*Notif)(unsafe.Pointer(&buf[0]))
		return nil
	}

	*n = Notif{}
	if _, errno := ioctl(fd, ioctlNotifRecv, unsafe.Pointer(n)); errno != 0 {
		return newError("receive", errno)
	}
	return nil
}

// IoctlNotifSend sends the response r on listener fd (SECCOMP_IOCTL_NOTIF_SEND,
// Linux 5.0). r.Error must be zero or a negated errno from -4095 to -1. The
// kernel returns r.Error when it is not zero and r.Val otherwise, so any other
// value would reach the target as a return value, not an errno. Such a value
// is rejected before the ioctl. With [NotifRespFlagContinue] both must be zero.
//
// An error matching [ErrNotifGone] (ENOENT) means the notification no longer
// exists; one wrapping EINPROGRESS means it was not received yet or was
// already answered. If the running kernel's struct seccomp_notif_resp is
// larger than [NotifResp], r is sent in a larger zeroed buffer.
func IoctlNotifSend(fd int, r *NotifResp) error {
	const op = "send"
	if r.Error > 0 || r.Error < -maxErrno {
		return &Error{Op: op, Err: fmt.Errorf("error %d out of range: want 0 or a negated errno from -%d to -1", r.Error, maxErrno)}
	}
	var errno unix.Errno
	if size := int(kernelSizes().NotifResp); size > SizeofNotifResp {
		buf := make([]byte, size)
		*(*NotifResp)(unsafe.Pointer(&buf[0])) = *r
		_, errno = ioctl(fd, ioctlNotifSend, unsafe.Pointer(&buf[0]))
	} else {
		_, errno = ioctl(fd, ioctlNotifSend, unsafe.Pointer(r))
	}

	switch errno {
	case 0:
		return nil
	case unix.EINPROGRESS:
		return newDetail(op, errno, "notification was not received yet or was already answered (EINPROGRESS)")
	case unix.EINVAL:
		return newDetail(op, errno, "invalid response (EINVAL): unknown flag bits, or CONTINUE with a non-zero error or value")
	}
	return newError(op, errno)
}

// idValidLegacy is set once the kernel has rejected the current ID_VALID
// number, which Linux 5.0 to 5.8 did not know.
var idValidLegacy atomic.Bool

// IoctlNotifIDValid reports whether notification id is still pending on listener
// fd (SECCOMP_IOCTL_NOTIF_ID_VALID, Linux 5.0): it returns nil while the
// notification has been received and not responded to, and an error matching
// [ErrNotifGone] once the target died or the system call was interrupted.
//
// Call it after reading the target's memory and before acting on what was
// read, because the target may have changed or been replaced meanwhile. The
// first call tries the ioctl number of Linux 5.9 and later and falls back to
// the number of Linux 5.0 to 5.8 if the kernel rejects it.
func IoctlNotifIDValid(fd int, id uint64) error {
	if !idValidLegacy.Load() {
		_, errno := ioctl(fd, ioctlNotifIDValid, unsafe.Pointer(&id))
		if errno != unix.EINVAL {
			return idValidError(errno)
		}
	}

	_, errno := ioctl(fd, ioctlNotifIDValidLegacy, unsafe.Pointer(&id))
	if errno != unix.EINVAL && errno != unix.ENOTTY {
		idValidLegacy.Store(true)
	}
	return idValidError(errno)
}

func idValidError(errno unix.Errno) error {
	if errno == 0 {
		return nil
	}
	return newError("check id", errno)
}

// IoctlNotifAddFD installs a copy of a supervisor fd into the target of a
// received notification (SECCOMP_IOCTL_NOTIF_ADDFD, Linux 5.9) and returns
// its fd number in the target. a.NewFD is used only with [AddFDFlagSetFD],
// and a.NewFDFlags may contain only O_CLOEXEC. With [AddFDFlagSend] (Linux
// 5.14) the fd is also the response to the notification: the target's system call
// returns the new fd number.
//
// An error matching [ErrNotifGone] means the target went away; one wrapping
// EINPROGRESS that the notification is not in the received state; EBUSY that
// SEND was requested while other ADDFD requests were pending; EMFILE or EBADF
// that the target has no room under its RLIMIT_NOFILE.
func IoctlNotifAddFD(fd int, a *NotifAddFD) (int, error) {
	const op = "add fd"
	var r uintptr
	var errno unix.Errno
	if a.Flags&AddFDFlagSend != 0 {
		r, errno = ioctlSignalsBlocked(fd, ioctlNotifAddFD, unsafe.Pointer(a))
	} else {
		r, errno = ioctl(fd, ioctlNotifAddFD, unsafe.Pointer(a))
	}
	switch errno {
	case 0:
		return int(r), nil
	case unix.EINPROGRESS:
		return -1, newDetail(op, errno, "notification is not in the received state (EINPROGRESS)")
	case unix.EINVAL:
		return -1, newDetail(op, errno, "invalid request (EINVAL): unknown flags, newfd_flags other than O_CLOEXEC, newfd set without SETFD, or a kernel older than 5.9 (5.14 for SEND)")
	case unix.EBUSY:
		return -1, newDetail(op, errno, "other ADDFD requests are pending, so SEND cannot answer the notification yet (EBUSY)")
	case unix.ESRCH:
		// The target was woken, for example by a fatal signal, before it
		// installed the fd: the notification is gone as with ENOENT.
		return -1, &Error{Op: op, Errno: errno, Err: ErrNotifGone}
	case unix.EMFILE:
		return -1, newDetail(op, errno, "the target has no free fd under its RLIMIT_NOFILE (EMFILE)")
	case unix.EBADF:
		// The listener fd itself may be the bad one.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return -1, newError(op, errno)
		}
		return -1, newDetail(op, errno, "bad source fd, or newfd is at or above the target's RLIMIT_NOFILE (EBADF)")
	}
	return -1, newError(op, errno)
}

// ioctlSignalsBlocked is ioctl with every signal blocked on the calling
// thread, for ADDFD with SEND.
//
// That request marks the notification replied to before the target has
// installed the fd, and then waits for the target. If a signal interrupts
// the wait, the kernel drops the request but leaves the notification marked
// replied to. The target's call then returns 0 instead of the fd, and the
// restarted ioctl fails with EINPROGRESS. (Seen on Linux 6.18; the code is the same
// since SEND was added in 5.14.) Go delivers signals to any thread, SIGURG
// and SIGCHLD among them, so the wait must not be interruptible. Signals
// that arrive meanwhile stay pending until the mask is restored, and SIGKILL
// still ends the process.
func ioctlSignalsBlocked(fd int, req uint, arg unsafe.Pointer) (uintptr, unix.Errno) {
	// The mask belongs to the thread, so the goroutine must stay on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var all, old unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^all.Val[i]
	}
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &all, &old); err != nil {
		return 0, errnoOf(err)
	}
	r, errno := ioctl(fd, req, arg)
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil); err != nil && errno == 0 {
		errno = errnoOf(err)
	}
	return r, errno
}

// IoctlNotifSetFlags sets flags on listener fd (SECCOMP_IOCTL_NOTIF_SET_FLAGS,
// Linux 6.6). The kernel takes the flags as the ioctl's argument itself, not
// through a pointer. On an older kernel the error matches [ErrNotSupported].
func IoctlNotifSetFlags(fd int, flags NotifFDFlag) error {
	const op = "set flags"
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), ioctlNotifSetFlags, uintptr(flags))
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		case unix.EINVAL:
			if flags&^NotifFDFlagSyncWakeUp != 0 {
				return newDetail(op, errno, "unknown listener flag bits (EINVAL)")
			}
			return &Error{Op: op, Errno: errno, Err: &FeatureError{Feature: "ioctl SECCOMP_IOCTL_NOTIF_SET_FLAGS", MinVersion: "6.6"}}
		}
		return newError(op, errno)
	}
}
