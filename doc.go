// Package seccomp binds the Linux seccomp user-space API without cgo: the
// uapi constants and structs, typed wrappers for seccomp(2) and the
// notification ioctls, and a [Listener] that serves user notifications on
// Go's runtime poller.
//
// # Filters
//
// A filter is a classic BPF program, a []unix.SockFilter, that the kernel
// runs on every system call of a thread. It reads a [Data] (the system call
// number, the architecture as an AUDIT_ARCH value and the arguments) and
// returns an [Action]. Filters stack: a thread has every filter installed on
// it or inherited from the thread that created it, none can be removed, and
// when several apply the kernel acts on the return value with the highest
// precedence. [SetModeFilter] installs one. It needs no_new_privs
// ([SetNoNewPrivs]) or CAP_SYS_ADMIN, and both the filter and no_new_privs
// belong to the calling OS thread, so lock the goroutine with
// [runtime.LockOSThread] first, or use [FilterFlagTSync] to cover every
// thread. Check [Data.Arch] against [AuditArchNative] before looking at
// [Data.Nr]: system call numbers differ between architectures.
//
// # Listeners and notifications
//
// A filter installed with [FilterFlagNewListener] comes with a listener fd.
// Whenever the filter returns [ActionUserNotif], the calling thread stops and
// the listener receives a [Notif] describing the call: a 64-bit id that is
// unique while the notification lives, the calling thread's id (Notif.Pid,
// a TID in the supervisor's pid namespace, or 0 if the thread is not visible
// there), and the call's [Data]. The supervisor holding
// the listener answers with a [NotifResp]: a return value, an errno, or
// CONTINUE to let the call run. It can also inspect the target's memory
// through /proc/PID/mem, checking [Listener.IDValid] after each read, and
// install fds in the target with [Listener.AddFD].
//
// Go cannot run code between fork and exec, so a program that wants to
// supervise a child installs the filter on a locked OS thread and starts the
// child from that thread, which the child inherits the filter from. The
// thread is then discarded by returning from the goroutine without unlocking
// it. The launch subpackage does this in one call.
//
// A notification ends when it is answered, when the target dies, or when a
// signal interrupts the target's wait; the kernel then reports the id as gone
// ([ErrNotifGone]) and a restarted system call arrives as a new notification.
// A Go target's preemption signals cause such restarts unless the filter was
// installed with [FilterFlagWaitKillableRecv] (Linux 5.19).
//
// # Nested listeners
//
// Mainline kernels allow one open listener per chain of filters: installing a
// second one below it fails with EBUSY ([ErrListenerExists]). The proposed
// flag [FilterFlagAllowNestedListeners], from the patch series "seccomp:
// support nested listeners" and in no released kernel, lets listeners be
// installed below the one that carries it. A system call that several
// listeners' filters trap goes to the innermost listener first; an answer
// ends it there, and CONTINUE passes it to the next listener out. The call
// runs only when every one of them has answered CONTINUE. [HaveNestedListeners]
// tells whether the running kernel supports it.
//
// # Errors and kernel versions
//
// Every error from a kernel call is an [*Error] wrapping the [unix.Errno], so
// errors.Is(err, unix.ENOENT) works, together with a sentinel where callers
// need to branch: [ErrNotifGone], [ErrNoTargets], [ErrListenerExists],
// [ErrClosed] and [ErrNotSupported]. Each constant's documentation names its
// C identifier and the first kernel release that accepts it; [HaveFilterFlag]
// and [HaveAction] probe the running kernel and cache the answer.
package seccomp
