package seccomp

import (
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccomp calls seccomp(2). It returns the raw result, because TSYNC reports
// a failure as a positive thread id with no errno. No operation blocks, so it
// skips the scheduler's system call hooks, which after SECCOMP_SET_MODE_STRICT
// could make a call that strict mode forbids.
func seccomp(op Operation, flags uintptr, args unsafe.Pointer) (uintptr, unix.Errno) {
	r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, uintptr(op), flags, uintptr(args))
	return r, errno
}

// SetModeStrict puts the calling thread in strict mode
// (seccomp(SECCOMP_SET_MODE_STRICT)), after which only read, write, _exit and
// sigreturn are allowed and any other system call kills the thread.
//
// The Go runtime makes other system calls on every thread (futex, mmap,
// sigaltstack), so a Go program survives strict mode only briefly. It is here
// for completeness and for programs that exec a strict-mode helper.
func SetModeStrict() error {
	if _, errno := seccomp(OpSetModeStrict, 0, nil); errno != 0 {
		return newError("set strict mode", errno)
	}
	return nil
}

// SetModeFilter installs prog as a seccomp filter on the calling thread
// (seccomp(SECCOMP_SET_MODE_FILTER)), or on every thread of the process with
// [FilterFlagTSync]. It returns the new listener fd when flags include
// [FilterFlagNewListener] (pass it to [NewListener]), and -1 otherwise. The
// listener fd is close-on-exec.
//
// The thread needs no_new_privs ([SetNoNewPrivs]) or CAP_SYS_ADMIN in its user
// namespace. Both the filter and no_new_privs belong to the calling thread, so
// a Go program that installs a filter without TSYNC must lock the goroutine to
// its OS thread first and should never unlock it: see [runtime.LockOSThread].
//
// Before calling the kernel, SetModeFilter validates prog with
// [ValidateProgram] and rejects flag sets the kernel would reject with a bare
// EINVAL. A flag the running kernel lacks gives an error matching
// [ErrNotSupported]; a listener below an open listener that did not allow
// nesting gives one matching [ErrListenerExists]; a TSYNC failure gives a
// [*TSyncError] (use [errors.As]).
func SetModeFilter(prog []unix.SockFilter, flags FilterFlag) (int, error) {
	const op = "install filter"
	if err := checkFilterFlags(flags); err != nil {
		return -1, &Error{Op: op, Err: err}
	}
	if err := ValidateProgram(prog); err != nil {
		return -1, &Error{Op: op, Err: err}
	}

	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, errno := seccomp(OpSetModeFilter, uintptr(flags), unsafe.Pointer(&fprog))
	if errno != 0 {
		return -1, filterError(flags, errno)
	}

	// TSYNC without TSYNC_ESRCH reports the thread it could not synchronise
	// as a positive return value; NEW_LISTENER cannot be set in that case.
	if flags&FilterFlagTSync != 0 && flags&FilterFlagNewListener == 0 && r != 0 {
		return -1, &Error{Op: op, Err: &TSyncError{TID: int(r)}}
	}
	if flags&FilterFlagNewListener == 0 {
		return -1, nil
	}
	return int(r), nil
}

// checkFilterFlags rejects the flag sets the kernel would reject with EINVAL
// before looking at the program.
func checkFilterFlags(flags FilterFlag) error {
	if unknown := flags &^ filterFlagsKnown; unknown != 0 {
		return fmt.Errorf("unknown filter flag bits %#x", uint32(unknown))
	}
	if flags&FilterFlagNewListener == 0 {
		for _, f := range []FilterFlag{FilterFlagWaitKillableRecv, FilterFlagAllowNestedListeners} {
			if flags&f != 0 {
				return fmt.Errorf("flag %v requires NEW_LISTENER", f)
			}
		}
	}
	if flags&(FilterFlagTSync|FilterFlagNewListener) == FilterFlagTSync|FilterFlagNewListener && flags&FilterFlagTSyncESRCH == 0 {
		return fmt.Errorf("flags TSYNC and NEW_LISTENER together require TSYNC_ESRCH, since a TSYNC failure would otherwise be indistinguishable from a listener fd")
	}
	return nil
}

// filterError explains an errno from SECCOMP_SET_MODE_FILTER.
func filterError(flags FilterFlag, errno unix.Errno) error {
	const op = "install filter"
	switch errno {
	case unix.EINVAL:
		// The flags and the program passed our checks, so the likely causes
		// are a flag this kernel lacks or a thread in strict mode.
		for _, info := range filterFlagInfo {
			f := FilterFlag(info.value)
			if flags&f != 0 && HaveFilterFlag(f) != nil {
				return &Error{Op: op, Errno: errno, Err: &FeatureError{Feature: "flag " + info.name, MinVersion: info.since}}
			}
		}
		return newDetail(op, errno, "invalid argument (EINVAL): the kernel rejected the program or flags, or the thread is in strict mode")
	case unix.EBUSY:
		return &Error{Op: op, Errno: errno, Err: busyError{nestedSupported: HaveNestedListeners() == nil}}
	case unix.EACCES:
		return newDetail(op, errno, "permission denied (EACCES): set no_new_privs on the calling thread first, or run with CAP_SYS_ADMIN")
	case unix.ESRCH:
		if flags&FilterFlagTSyncESRCH != 0 {
			return &Error{Op: op, Errno: errno, Err: &TSyncError{}}
		}
	case unix.ENOMEM:
		return newDetail(op, errno, "out of memory (ENOMEM): the thread's filters would exceed the kernel's limit of 32768 instructions, counting 4 more per filter")
	case unix.EMFILE, unix.ENFILE:
		return newDetail(op, errno, "no file descriptor left for the listener ("+errnoName(errno)+")")
	}
	return newError(op, errno)
}

// GetActionAvail reports whether the kernel supports action
// (seccomp(SECCOMP_GET_ACTION_AVAIL), Linux 4.14). It returns nil when it
// does, and an error wrapping EOPNOTSUPP when it does not. The data bits of
// action are ignored. Use [HaveAction] for a cached answer that also works
// before 4.14.
func GetActionAvail(action Action) error {
	a := uint32(action.Base())
	if _, errno := seccomp(OpGetActionAvail, 0, unsafe.Pointer(&a)); errno != 0 {
		return newError("get action availability", errno)
	}
	return nil
}

// GetNotifSizes returns the sizes of the notification structs of the running
// kernel (seccomp(SECCOMP_GET_NOTIF_SIZES), Linux 5.0). A kernel newer than
// this package may report larger sizes than [SizeofNotif] and
// [SizeofNotifResp]; [IoctlNotifRecv] and [IoctlNotifSend] allow for that.
func GetNotifSizes() (NotifSizes, error) {
	var sizes NotifSizes
	if _, errno := seccomp(OpGetNotifSizes, 0, unsafe.Pointer(&sizes)); errno != 0 {
		return NotifSizes{}, newError("get notification sizes", errno)
	}
	return sizes, nil
}

// kernelSizes caches GetNotifSizes, falling back to this package's sizes
// when the kernel cannot say.
var kernelSizes = sync.OnceValue(func() NotifSizes {
	sizes, err := GetNotifSizes()
	if err != nil {
		return NotifSizes{Notif: SizeofNotif, NotifResp: SizeofNotifResp, Data: SizeofData}
	}
	return sizes
})

// SetNoNewPrivs sets no_new_privs on the calling thread
// (prctl(PR_SET_NO_NEW_PRIVS, 1)), which lets it install filters without
// CAP_SYS_ADMIN. It cannot be unset, it is inherited by children, and it
// belongs to the thread: lock the goroutine to its OS thread before calling it.
func SetNoNewPrivs() error {
	if err := unix.Prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return &Error{Op: "set no_new_privs", Errno: errnoOf(err)}
	}
	return nil
}

// NoNewPrivs reports whether no_new_privs is set on the calling thread
// (prctl(PR_GET_NO_NEW_PRIVS)).
func NoNewPrivs() (bool, error) {
	r, err := unix.PrctlRetInt(_PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return false, &Error{Op: "get no_new_privs", Errno: errnoOf(err)}
	}
	return r == 1, nil
}

// GetMode returns the calling thread's seccomp mode (prctl(PR_GET_SECCOMP)).
// A thread in strict mode is killed by this call, as by any other system call
// that strict mode does not allow.
func GetMode() (Mode, error) {
	r, err := unix.PrctlRetInt(_PR_GET_SECCOMP, 0, 0, 0, 0)
	if err != nil {
		return 0, &Error{Op: "get mode", Errno: errnoOf(err)}
	}
	return Mode(r), nil
}

func errnoOf(err error) unix.Errno {
	if errno, ok := err.(unix.Errno); ok {
		return errno
	}
	return unix.EINVAL
}

func errnoName(errno unix.Errno) string {
	if name := unix.ErrnoName(errno); name != "" {
		return name
	}
	return errno.Error()
}
