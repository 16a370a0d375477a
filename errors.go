package seccomp

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Sentinel errors for the cases callers branch on. Match them with
// [errors.Is]; the errors this package returns wrap them together with the
// kernel's errno.
var (
	// ErrNotSupported matches every [FeatureError]: the running kernel lacks a
	// flag, action, ioctl or operation.
	ErrNotSupported = errors.New("not supported")

	// ErrNotifGone means the notification no longer exists: the target died,
	// or a signal interrupted its system call, which then fails or restarts
	// with a new notification id. The kernel reports it as ENOENT.
	ErrNotifGone = errors.New("notification no longer exists (the target died or its system call was interrupted)")

	// ErrNoTargets means no task uses the listener's filter any more, so no
	// notification can arrive. [Listener.Receive] returns it once every target
	// has exited.
	ErrNoTargets = errors.New("no task uses the filter any more")

	// ErrListenerExists means a new listener was rejected (EBUSY) because the
	// nearest open listener above it on the thread was installed without
	// [FilterFlagAllowNestedListeners].
	ErrListenerExists = errors.New("a listener is already installed on this thread")

	// ErrClosed means the [Listener] was closed. It also matches
	// [os.ErrClosed].
	ErrClosed error = closedError{}
)

type closedError struct{}

func (closedError) Error() string        { return "listener closed" }
func (closedError) Is(target error) bool { return target == os.ErrClosed }

// Error is an error from a seccomp system call, a notification ioctl or a
// check this package makes before calling the kernel.
type Error struct {
	// Op is the operation that failed, such as "install filter" or "send".
	Op string
	// Errno is the kernel's error number, or 0 when the check failed before
	// the system call.
	Errno unix.Errno
	// Err describes the failure when it says more than Errno: a sentinel such
	// as [ErrNotifGone], a [*FeatureError], a [*TSyncError] or a validation
	// error. It may be nil.
	Err error
}

func (e *Error) Error() string {
	msg := "seccomp: " + e.Op + ": "
	switch {
	case e.Err != nil:
		return msg + e.Err.Error()
	case e.Errno != 0:
		return msg + e.Errno.Error()
	default:
		return msg + "failed"
	}
}

// Unwrap returns Errno and Err, so [errors.Is] matches both the errno (for
// example [unix.ENOENT]) and the sentinel (for example [ErrNotifGone]).
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Errno != 0 {
		errs = append(errs, e.Errno)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// FeatureError reports a kernel feature that the running kernel lacks. It
// matches [ErrNotSupported].
type FeatureError struct {
	// Feature names what is missing, such as "flag WAIT_KILLABLE_RECV".
	Feature string
	// MinVersion is the first Linux release with the feature, such as "5.19",
	// or "" when the feature is proposed and in no released kernel.
	MinVersion string
}

func (e *FeatureError) Error() string {
	if e.MinVersion == "" {
		return "kernel does not support " + e.Feature + " (proposed, not in a released kernel)"
	}
	return "kernel does not support " + e.Feature + " (requires Linux >= " + e.MinVersion + ")"
}

// Is reports whether target is [ErrNotSupported].
func (e *FeatureError) Is(target error) bool { return target == ErrNotSupported }

// TSyncError reports that a filter installed with [FilterFlagTSync] could not
// be applied to every thread, because a thread's filters are not an ancestor
// of the calling thread's, or it is in strict mode.
type TSyncError struct {
	// TID is the id of a thread that could not be synchronised, or 0 when the
	// kernel did not name one (with [FilterFlagTSyncESRCH] it never does).
	TID int
}

func (e *TSyncError) Error() string {
	if e.TID == 0 {
		return "a thread could not be synchronized with the new filter (TSYNC)"
	}
	return "thread " + strconv.Itoa(e.TID) + " could not be synchronized with the new filter (TSYNC)"
}

// busyError is the cause of EBUSY from installing a listener.
type busyError struct {
	nestedSupported bool
}

func (e busyError) Error() string {
	msg := ErrListenerExists.Error() + " and was not installed with ALLOW_NESTED_LISTENERS"
	if e.nestedSupported {
		return msg + "; install the outer listener with FilterFlagAllowNestedListeners to allow listeners below it"
	}
	return msg + ", and this kernel does not support nested listeners (proposed, not in a released kernel)"
}

func (e busyError) Is(target error) bool { return target == ErrListenerExists }

// detailError is a message that explains an errno in the context of one
// operation.
type detailError string

func (e detailError) Error() string { return string(e) }

// newError wraps errno for op, attaching the sentinel or explanation that
// applies to that errno in every operation.
func newError(op string, errno unix.Errno) error {
	e := &Error{Op: op, Errno: errno}
	switch errno {
	case unix.ENOENT:
		e.Err = ErrNotifGone
	case unix.ENOTTY:
		e.Err = detailError("file descriptor is not a seccomp listener (ENOTTY)")
	case unix.EBADF:
		e.Err = detailError("bad file descriptor (EBADF)")
	}
	return e
}

// newDetail wraps errno for op with an explanation.
func newDetail(op string, errno unix.Errno, detail string) error {
	return &Error{Op: op, Errno: errno, Err: detailError(detail)}
}
