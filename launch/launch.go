// Package launch starts a process with a seccomp filter already installed
// and returns the filter's listener.
//
// Go cannot run code between fork and exec, so a Go program cannot install a
// filter in a child the way a C program would. Start installs the filter on
// an OS thread locked for that purpose, starts the child from that thread
// (a child inherits the filters of the thread that creates it), and then lets
// the thread exit with its goroutine without ever unlocking it, so no other
// goroutine of the parent runs under the filter.
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
	// before the child starts, so that it can answer the notifications of the
	// child's own start-up, such as its execve. It should return when
	// Receive reports [seccomp.ErrNoTargets] or [seccomp.ErrClosed].
	//
	// Without Serve, Start rejects a filter that would notify, deny or kill
	// any system call the start-up path makes (fork and exec among them),
	// because nothing would answer it.
	Serve func(*seccomp.Listener)

	// KeepPrivileges skips setting no_new_privs on the launching thread, and
	// so in the child. The filter then needs CAP_SYS_ADMIN. Set it only to
	// let the child run set-user-ID programs.
	KeepPrivileges bool
}

// Start starts cmd with opts.Filter installed, like cmd.Start, and returns
// the filter's listener, which the caller must close after cmd.Wait. On
// error nothing is left running or open: no process, listener, thread or
// goroutine, except a Serve goroutine, whose Receive returns ErrClosed.
//
// The errors name what is wrong: a command that cannot be started, an
// empty or invalid filter, a filter that would block the launch, or a kernel
// without listeners ([seccomp.ErrNotSupported]).
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
	if err := checkFilter(opts.Filter, opts.Serve != nil); err != nil {
		return nil, fmt.Errorf("launch: %w", err)
	}

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

// checkCommand reports the errors cmd.Start would report after the filter
// is installed, before it is.
func checkCommand(cmd *exec.Cmd) error {
	switch {
	case cmd == nil:
		return errors.New("nil command")
	case cmd.Process != nil:
		return errors.New("command already started")
	case cmd.Err != nil:
		return cmd.Err // for example, not found in $PATH
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
		return fmt.Errorf("command %s: %w", cmd.Path, err)
	case info.IsDir():
		return fmt.Errorf("command %s: is a directory", cmd.Path)
	case info.Mode()&0o111 == 0:
		return fmt.Errorf("command %s: not executable", cmd.Path)
	}
	return nil
}

func isAbs(path string) bool { return len(path) > 0 && path[0] == '/' }
