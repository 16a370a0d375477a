package launch

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/sysnum"
)

// runtimeCalls are system calls the Go runtime may make on the launching
// thread after the filter is installed and before Serve runs: scheduling,
// memory management, signals and the thread's exit. The filter must allow
// them, because nothing could respond to a notification yet.
var runtimeCalls = []string{
	"futex", "mmap", "munmap", "madvise", "mprotect",
	"rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill", "gettid", "getpid",
	"sched_yield", "nanosleep", "clock_gettime", "exit", "exit_group",
}

// startCalls are system calls of cmd.Start and of the child up to its
// execve. Without Serve the filter must let them run too.
var startCalls = []string{
	"clone", "clone3", "execve", "pipe2", "read", "write", "close", "fcntl",
	"dup3", "openat", "wait4", "waitid", "pidfd_open", "pidfd_send_signal",
	"prlimit64", "setpgid", "ioctl", "getppid", "prctl", "faccessat", "faccessat2",
}

// checkFilter validates prog and rejects a filter that would block the
// launch: one that does anything but allow a system call made before
// anything can respond to a notification.
func checkFilter(prog []unix.SockFilter, serving bool) error {
	if len(prog) == 0 {
		return fmt.Errorf("empty filter program")
	}
	if err := seccomp.ValidateProgram(prog); err != nil {
		return err
	}

	calls := runtimeCalls
	if !serving {
		calls = append(calls[:len(calls):len(calls)], startCalls...)
	}
	for _, name := range calls {
		nr, ok := sysnum.Number(name)
		if !ok {
			continue // not a system call on this architecture
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
		if serving {
			return fmt.Errorf("filter returns %v for %s, which the Go runtime may call on the launching thread before Serve can respond", action, name)
		}
		return fmt.Errorf("filter returns %v for %s, which starting the process needs; set Options.Serve to respond to notifications during start-up", action, name)
	}
	return nil
}
