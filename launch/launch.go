// Package launch starts a process with a seccomp filter already installed
// and returns the filter's listener.
//
// Go cannot run code between fork and exec, so a Go program cannot install a
// filter in a child the way a C program would. [Start] either installs the
// filter on an OS thread locked for that purpose and starts the child from
// it, or starts a copy of its own executable that installs the filter and
// then executes the command. Its documentation says when it takes which.
//
// Every program that imports this package can serve as that copy: the
// package's init function runs the copy's part when the environment
// variable SECCOMPGO_LAUNCH_HELPER is set, and then never returns.
package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/internal/thread"
)

// Options configures [Start].
type Options struct {
	// Filter is the filter program, for example from [NotifyFilter].
	Filter []unix.SockFilter

	// Flags are added to [seccomp.FilterFlagNewListener], which Start always
	// sets. [seccomp.FilterFlagTSync] is not allowed: the filter belongs to
	// the launching thread only.
	Flags seccomp.FilterFlag

	// Serve, if not nil, is started in a new goroutine with the listener
	// before the command is executed, so that it can respond to the
	// notifications of the start-up, such as the command's own execve. It
	// should return when Receive reports [seccomp.ErrNoTargets] or
	// [seccomp.ErrClosed]. Start does not wait for it: give it a channel to
	// close if you need to know when it has returned.
	//
	// On the direct route the filter is also on the launching thread while
	// cmd.Start runs, so Serve receives that thread's own trapped calls too,
	// such as its openat of /dev/null for a nil cmd.Stdin: Notif.Pid is then
	// a thread of this process, and failing such a call makes Start fail.
	// Set ForceReexec to see the command's calls only.
	//
	// Without Serve, Start rejects a filter that notifies, denies or kills
	// any system call of the start-up, because nothing would respond to it.
	Serve func(*seccomp.Listener)

	// ForceReexec makes Start take the re-exec route even when the direct
	// route would do. The filter then notifies the command's calls only,
	// and none of the launching thread's calls in cmd.Start, such as its
	// openat of /dev/null or its read of the child's status pipe. It needs
	// Serve.
	ForceReexec bool

	// KeepPrivileges skips setting no_new_privs on the launching thread, and
	// so in the child. The filter then needs CAP_SYS_ADMIN. Set it only to
	// let the child run set-user-ID programs.
	KeepPrivileges bool
}

// Start starts cmd with opts.Filter installed, like cmd.Start, and returns
// the filter's listener, which the caller must close after cmd.Wait.
//
// Start takes one of two routes, whichever the filter allows:
//
//   - The direct route, taken when the filter allows the calls made while
//     the launching thread waits in a vfork-style clone for the command's
//     execve: pipe2, clone and clone3 in this process, and dup3, fcntl,
//     prlimit64, write and execve in the child, plus the calls that cmd's
//     Dir, ExtraFiles and SysProcAttr add (chdir, setsid, setpgid and so
//     on). Start installs the filter on an OS thread
//     locked for that purpose and starts the command from it, because a
//     child inherits the filters of the thread that creates it. The thread
//     then exits with its goroutine, so no other goroutine runs under the
//     filter. Those calls must be allowed because the waiting thread holds a Go
//     scheduler slot that nothing can take from it: with GOMAXPROCS=1 Serve
//     could not run, and the next garbage collection would wait forever.
//   - The re-exec route, taken otherwise when opts.Serve is set, and always
//     with opts.ForceReexec: Start starts a copy of its own executable (/proc/self/exe) with no filter,
//     with cmd's arguments, environment, files and attributes. This
//     package's init function recognizes the copy, installs the filter on
//     its thread, sends the listener back over a socket and replaces itself
//     with the command by execve, without a fork. So the command's execve
//     and every later call can be notified and handled by Serve, at the
//     cost of executing a second program. The filter must allow sendmsg,
//     which the copy makes before Start has the listener.
//
// Both routes need the Go runtime's own calls allowed: futex, mmap, munmap,
// madvise, mprotect, rt_sigprocmask, rt_sigreturn, sigaltstack, tgkill,
// gettid, getpid, sched_yield, nanosleep, clock_gettime, exit and
// exit_group. A filter that blocks a call neither route can
// get past is rejected with a *[FilterError] that names the call. A command
// that cannot be executed is reported with an *[ExecError], in the re-exec
// route also when the command's execve fails, which Start waits for.
// Other errors name what is wrong: an empty or invalid filter, or a kernel
// without listeners ([seccomp.ErrNotSupported]).
//
// On error nothing is left running or open: no process, listener, thread or
// goroutine, except a Serve goroutine, whose Receive returns ErrClosed or
// ErrNoTargets. If the re-exec route started the copy before the error, Start
// has waited for it, so cmd.Process and cmd.ProcessState are set.
func Start(cmd *exec.Cmd, opts Options) (*seccomp.Listener, error) {
	if err := checkCommand(cmd); err != nil {
		return nil, fmt.Errorf("launch: %w", err)
	}
	if opts.Flags&seccomp.FilterFlagTSync != 0 {
		return nil, errors.New("launch: flag TSYNC would install the filter on every thread of this process")
	}
	flags := opts.Flags | seccomp.FilterFlagNewListener
	if err := seccomp.HaveFilterFlag(flags); err != nil {
		return nil, fmt.Errorf("launch: %w", err)
	}
	if opts.ForceReexec && opts.Serve == nil {
		return nil, errors.New("launch: Options.ForceReexec needs Options.Serve to respond to the command's notifications")
	}
	route, err := chooseRoute(opts.Filter, cmd, opts.Serve != nil, opts.ForceReexec)
	if err != nil {
		return nil, fmt.Errorf("launch: %w", err)
	}

	if route == routeReexec {
		return startReexec(cmd, opts, flags)
	}
	return startDirect(cmd, opts, flags)
}

// startDirect starts cmd from a thread of this process that has the filter.
func startDirect(cmd *exec.Cmd, opts Options, flags seccomp.FilterFlag) (*seccomp.Listener, error) {
	installed := make(chan installResult)
	proceed := make(chan bool)
	started := make(chan error)
	thread.Disposable(func() {
		// The thread ends when this function returns, and the filter with it.
		fd, err := installFilter(opts.Filter, flags, !opts.KeepPrivileges)
		installed <- installResult{fd, err}
		if err != nil || !<-proceed {
			return
		}
		started <- cmd.Start()
	})

	result := <-installed
	if result.err != nil {
		return nil, fmt.Errorf("launch: %w", result.err)
	}
	// The listener is set up on this goroutine, whose thread has no filter.
	l, err := seccomp.NewListener(result.fd)
	if err != nil {
		unix.Close(result.fd)
		proceed <- false
		return nil, fmt.Errorf("launch: %w", err)
	}

	if opts.Serve != nil {
		go opts.Serve(l)
	}
	proceed <- true
	if err := <-started; err != nil {
		l.Close()
		return nil, fmt.Errorf("launch: %w", err)
	}
	return l, nil
}

type installResult struct {
	fd  int
	err error
}

func installFilter(prog []unix.SockFilter, flags seccomp.FilterFlag, noNewPrivs bool) (int, error) {
	if noNewPrivs {
		if err := seccomp.SetNoNewPrivs(); err != nil {
			return -1, err
		}
	}
	return seccomp.SetModeFilter(prog, flags)
}

// checkCommand returns the errors cmd.Start would return after the filter
// is installed, before it is. A command that cannot be executed is an
// *ExecError.
func checkCommand(cmd *exec.Cmd) error {
	switch {
	case cmd == nil:
		return errors.New("nil command")
	case cmd.Process != nil:
		return errors.New("command already started")
	case cmd.Err != nil:
		return lookPathError(cmd) // for example, not found in $PATH
	case cmd.Path == "":
		return errors.New("command has no path")
	}

	path := cmd.Path
	if cmd.Dir != "" && !isAbs(path) {
		path = cmd.Dir + "/" + path
	}
	info, err := os.Stat(path)
	switch {
	case err != nil:
		errno := unix.ENOENT
		errors.As(err, &errno)
		return &ExecError{Path: cmd.Path, Errno: errno, Err: err}
	case info.IsDir():
		// execve returns EACCES for a directory.
		return &ExecError{Path: cmd.Path, Errno: unix.EACCES, Err: errors.New("is a directory")}
	case info.Mode()&0o111 == 0:
		return &ExecError{Path: cmd.Path, Errno: unix.EACCES, Err: errors.New("not executable")}
	}
	return nil
}

// lookPathError returns cmd.Err, the failure of exec.Command's search in
// $PATH, as an *ExecError. A command not found has Errno ENOENT.
func lookPathError(cmd *exec.Cmd) error {
	cause := cmd.Err
	var execErr *exec.Error
	if errors.As(cause, &execErr) {
		cause = execErr.Err
	}

	errno := unix.ENOENT
	if !errors.As(cause, &errno) && !errors.Is(cause, exec.ErrNotFound) && !errors.Is(cause, exec.ErrDot) {
		errno = unix.EACCES
	}
	return &ExecError{Path: cmd.Path, Errno: errno, Err: cause}
}

func isAbs(path string) bool { return len(path) > 0 && path[0] == '/' }
