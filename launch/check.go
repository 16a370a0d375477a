package launch

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/sysnum"
)

// runtimeCalls are system calls the Go runtime may make on the thread that
// installs the filter (the launching thread, or the re-exec helper's) before
// Serve has the listener: scheduling, memory management, signals and the
// thread's exit. The filter must allow them, because nothing could respond
// to a notification yet.
var runtimeCalls = []string{
	"futex", "mmap", "munmap", "madvise", "mprotect",
	"rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill", "gettid", "getpid",
	"sched_yield", "nanosleep", "clock_gettime", "exit", "exit_group",
}

// forkCalls returns the system calls that run while the launching thread
// cannot let go of its P, the Go scheduler's slot for running Go code. They
// are its own raw system calls in cmd.Start (pipe2 and clone, which the
// syscall package makes without handing the P to another thread), and the
// child's calls from clone to the end of its execve, while the parent waits
// in clone with CLONE_VFORK. No
// goroutine can answer a notification then, Serve included: with GOMAXPROCS=1
// the waiting thread holds the only P, and otherwise the next stop-the-world,
// such as a garbage collection, waits for that P forever. So the direct route
// needs these calls allowed, and Start takes the re-exec route otherwise.
//
// The child's calls follow syscall.forkAndExecInChild1 (Go 1.25), which makes
// some of them only for some fields of cmd.SysProcAttr.
func forkCalls(cmd *exec.Cmd) []string {
	calls := []string{
		"pipe2", "clone", "clone3", // the parent
		"dup3", "fcntl", "fcntl64", "prlimit64", "execve", // the child's fd set-up and exec
		"write", // the child reports a failed execve on a pipe
	}
	if cmd == nil {
		return calls
	}
	if slices.Contains(cmd.ExtraFiles, nil) {
		calls = append(calls, "close")
	}
	if cmd.Dir != "" {
		calls = append(calls, "chdir")
	}

	sys := cmd.SysProcAttr
	if sys == nil {
		return calls
	}
	add := func(cond bool, names ...string) {
		if cond {
			calls = append(calls, names...)
		}
	}
	add(sys.Chroot != "", "chroot")
	add(sys.Setsid, "setsid")
	add(sys.Setpgid || sys.Foreground, "setpgid")
	add(sys.Foreground || sys.Noctty || sys.Setctty, "ioctl")
	add(sys.Unshareflags != 0, "unshare", "openat", "close", "mount")
	add(sys.UidMappings != nil || sys.GidMappings != nil, "read", "close")
	add(sys.Credential != nil, "setgroups", "setgroups32", "setgid", "setgid32", "setuid", "setuid32")
	add(len(sys.AmbientCaps) > 0, "prctl", "capget", "capset", "kill")
	add(sys.Pdeathsig != 0, "prctl", "getppid", "kill")
	add(sys.Ptrace, "ptrace")
	return calls
}

// startCalls are other system calls of cmd.Start. The launching thread makes
// them through the scheduler, so Serve can respond to them; without Serve the
// filter must let them run too.
var startCalls = []string{
	"read", "close", "openat", "wait4", "waitid", "pidfd_open", "pidfd_send_signal",
	"setpgid", "ioctl", "getppid", "prctl", "faccessat", "faccessat2",
}

// helperCalls are the system calls the re-exec helper makes between
// installing the filter and sending the listener to the launcher, apart from
// runtimeCalls. Nothing can respond to a notification then, because only
// the helper has the listener.
// TODO: let the launcher take the listener with pidfd_getfd (Linux 5.6), so
// that a filter may trap sendmsg too.
var helperCalls = []string{"sendmsg"}

// route is one of the two ways Start can start a command.
type route int

const (
	// routeDirect installs the filter on a thread of this process and
	// starts the command from it.
	routeDirect route = iota

	// routeReexec starts a copy of this executable, which installs the
	// filter, sends the listener back and executes the command.
	routeReexec
)

// chooseRoute validates prog and returns the route that can start cmd under
// it: the direct route when prog allows every call of forkCalls, the re-exec
// route when it does not and serving is set, or when forceReexec is set,
// which needs serving. It returns a *FilterError for a call that the chosen
// route cannot get past.
func chooseRoute(prog []unix.SockFilter, cmd *exec.Cmd, serving, forceReexec bool) (route, error) {
	if len(prog) == 0 {
		return 0, fmt.Errorf("empty filter program")
	}
	if err := seccomp.ValidateProgram(prog); err != nil {
		return 0, err
	}
	if err := checkAllowed(prog, runtimeCalls, "which the Go runtime may call on the launching thread before Serve can answer"); err != nil {
		return 0, err
	}

	forkErr := checkAllowed(prog, forkCalls(cmd), "")
	var filterErr *FilterError
	if forkErr != nil && !errors.As(forkErr, &filterErr) {
		return 0, forkErr
	}

	switch {
	case forceReexec:
		// On to the re-exec route's checks.
	case forkErr == nil && serving:
		return routeDirect, nil
	case forkErr == nil:
		return routeDirect, checkAllowed(prog, startCalls, "which starting the process needs; set Options.Serve to answer notifications during start-up")
	case !serving:
		filterErr.Reason = "which starting the process needs; set Options.Serve to answer notifications during start-up"
		return 0, filterErr
	}
	return routeReexec, checkAllowed(prog, helperCalls, "which the re-exec helper makes before the launcher has the listener; allow it in the filter")
}

// checkAllowed returns a *FilterError with reason for the first of the named
// system calls that prog does not allow or log, skipping names that are not
// system calls on this architecture.
func checkAllowed(prog []unix.SockFilter, names []string, reason string) error {
	for _, name := range names {
		nr, ok := sysnum.Number(name)
		if !ok {
			continue
		}
		data := seccomp.Data{Nr: int32(nr), Arch: seccomp.AuditArchNative}
		action, err := seccomp.Evaluate(prog, &data)
		if err != nil {
			return err
		}
		switch action.Base() {
		case seccomp.ActionAllow, seccomp.ActionLog:
			continue
		}
		return &FilterError{Call: name, Action: action, Reason: reason}
	}
	return nil
}
