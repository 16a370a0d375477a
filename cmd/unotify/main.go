package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/launch"
)

// Exit statuses of unotify itself. In every other case unotify exits with
// the command's status.
const (
	exitUsage      = 2   // invalid flags or arguments, as with the flag package
	exitFailure    = 125 // unotify could not supervise the command
	exitCannotExec = 126 // the command was found but could not be executed
	exitNotFound   = 127 // the command was not found
)

// forwardedSignals are passed on to the command when unotify receives them.
var forwardedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}

// main also runs as launch.Start's re-exec helper: package launch's init
// function executes the command then, and main never runs.
func main() {
	os.Exit(run(os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
}

// stdio is the standard input, output and error that unotify and the
// command share.
type stdio struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

// run runs unotify with the arguments after the program name and returns
// its exit status. It leaves no goroutine, fd or signal handler behind.
func run(args []string, std stdio) int {
	cfg, err := parseArgs(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(std.out)
		return 0
	case err != nil:
		fmt.Fprintf(std.err, "unotify: %v\nRun 'unotify -h' for usage.\n", err)
		return exitUsage
	}

	// The serve goroutine writes the report and diagnostics while os/exec
	// may copy the command's output to the same writers, unless they are
	// files, which the command writes to directly.
	out, diag := lockUnlessFile(std.out), lockUnlessFile(std.err)

	flags, err := filterFlags(cfg)
	if err != nil {
		fmt.Fprintf(diag, "unotify: %v\n", err)
		return exitFailure
	}
	var nrs []uint32
	for _, name := range cfg.intercepted() {
		nr, _ := syscallNumber(name) // checked when the flags were parsed
		nrs = append(nrs, nr)
	}
	prog, err := launch.NotifyFilter(nrs)
	if err != nil {
		fmt.Fprintf(diag, "unotify: %v\n", err)
		return exitFailure
	}
	path, status, err := findCommand(cfg.command[0])
	if err != nil {
		fmt.Fprintf(diag, "unotify: %v\n", err)
		return status
	}

	report := out
	var reportFile *os.File
	if cfg.output != "" {
		reportFile, err = os.Create(cfg.output)
		if err != nil {
			fmt.Fprintf(diag, "unotify: cannot write the report: %v\n", err)
			return exitFailure
		}
		report = reportFile
	}

	cmd := &exec.Cmd{Path: path, Args: cfg.command, Stdin: std.in, Stdout: out, Stderr: diag}
	status = supervise(cmd, prog, flags, cfg, report, diag)

	if reportFile != nil {
		if err := reportFile.Close(); err != nil {
			fmt.Fprintf(diag, "unotify: writing the report failed: %v\n", err)
		}
	}
	return status
}

// filterFlags returns the filter flags that cfg requests, after checking
// that the running kernel has them.
func filterFlags(cfg *config) (seccomp.FilterFlag, error) {
	flags := seccomp.FilterFlagNewListener
	if err := seccomp.HaveFilterFlag(flags); err != nil {
		return 0, fmt.Errorf("unotify needs seccomp listeners: %w", err)
	}
	if cfg.nested {
		err := seccomp.HaveNestedListeners()
		switch {
		case errors.Is(err, seccomp.ErrNotSupported):
			return 0, fmt.Errorf("-nested needs nested seccomp listeners, which this kernel lacks: %w", err)
		case err != nil:
			return 0, fmt.Errorf("-nested: checking the kernel for nested seccomp listeners failed: %w", err)
		}
		flags |= seccomp.FilterFlagAllowNestedListeners
	}

	if cfg.waitKillable {
		err := seccomp.HaveFilterFlag(seccomp.FilterFlagWaitKillableRecv)
		switch {
		case err == nil:
			flags |= seccomp.FilterFlagWaitKillableRecv
		case cfg.waitKillableSet:
			// Without the flag given, unotify goes on without the feature.
			return 0, fmt.Errorf("-wait-killable=true: %w; leave the flag out to use WAIT_KILLABLE_RECV only where the kernel has it", err)
		}
	}
	return flags, nil
}

// setSyncWakeUp sets SYNC_WAKE_UP on l when cfg enables it. On a kernel
// without the flag (before Linux 6.6) it writes a warning only if
// -sync-wake-up was given. The command runs either way.
func setSyncWakeUp(l *seccomp.Listener, cfg *config, diag io.Writer) {
	if !cfg.syncWakeUp {
		return
	}
	err := l.SetFlags(seccomp.NotifFDFlagSyncWakeUp)
	if err != nil && (cfg.syncWakeUpSet || !errors.Is(err, seccomp.ErrNotSupported)) {
		fmt.Fprintf(diag, "unotify: -sync-wake-up: %v; going on without it\n", err)
	}
}

// findCommand returns the path of the command, looked up in $PATH when the
// name has no slash, and the exit status for when it cannot be run.
func findCommand(name string) (path string, status int, err error) {
	path, err = exec.LookPath(name)
	if err == nil {
		return path, 0, nil
	}

	var execErr *exec.Error
	if errors.As(err, &execErr) {
		err = execErr.Err
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	status = exitCannotExec
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrDot) {
		status = exitNotFound
	}
	return "", status, fmt.Errorf("cannot run %q: %w", name, err)
}

// supervise starts cmd under the filter prog, serves the listener until cmd
// exits, and returns the exit status.
func supervise(cmd *exec.Cmd, prog []unix.SockFilter, flags seccomp.FilterFlag, cfg *config, report, diag io.Writer) int {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)

	// The server must run before the command's execve, which the filter
	// may intercept. launch.Start starts it, and returns once that execve
	// has succeeded.
	served := make(chan struct{})
	l, err := launch.Start(cmd, launch.Options{
		Filter: prog,
		Flags:  flags,
		// The report then has the command's calls only, and none of
		// cmd.Start's in unotify, even for -trace read.
		ForceReexec: true,
		Serve: func(l *seccomp.Listener) {
			defer close(served)
			setSyncWakeUp(l, cfg, diag)
			newServer(l, cfg, report, diag).serve()
		},
	})
	if err != nil {
		// A server that Start started returns at once, as Start closed
		// the listener.
		return reportStartError(diag, cmd, err)
	}

	stopForwarding := make(chan struct{})
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case sig := <-sigs:
				// An error means the command has exited: nothing to do.
				_ = cmd.Process.Signal(sig)
			case <-stopForwarding:
				return
			}
		}
	}()

	waitErr := cmd.Wait()
	close(stopForwarding)
	<-forwarded

	// NOTE: processes the command left running keep the filter, and once
	// the listener is closed their intercepted calls fail with ENOSYS.
	l.Close()
	<-served

	if cmd.ProcessState == nil {
		fmt.Fprintf(diag, "unotify: waiting for the command failed: %v\n", waitErr)
		return exitFailure
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		fmt.Fprintf(diag, "unotify: %v\n", waitErr) // for example, copying its output failed
	}
	return exitStatus(cmd.ProcessState)
}

// reportStartError writes why the command could not be started under the
// filter and returns unotify's exit status.
func reportStartError(diag io.Writer, cmd *exec.Cmd, err error) int {
	var execErr *launch.ExecError
	if errors.As(err, &execErr) {
		var cause error = execErr.Errno
		if execErr.Err != nil {
			cause = execErr.Err
		}
		fmt.Fprintf(diag, "unotify: cannot run %q: %v\n", cmd.Args[0], cause)
		if execErr.Errno == unix.ENOENT {
			return exitNotFound
		}
		return exitCannotExec
	}

	if errors.Is(err, seccomp.ErrListenerExists) {
		fmt.Fprintf(diag, "unotify: unotify runs under another supervisor's listener, such as an outer unotify's, which does not allow nested listeners\n")
		if seccomp.HaveNestedListeners() == nil {
			fmt.Fprintf(diag, "unotify: give the outer unotify -nested\n")
		} else {
			fmt.Fprintf(diag, "unotify: this kernel has no nested listeners (proposed, in no released kernel), so unotify cannot run under another listener\n")
		}
		fmt.Fprintf(diag, "unotify: detail: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(diag, "unotify: %v\n", err)
	return exitFailure
}

// exitStatus returns the status a shell reports for a finished process:
// its exit code, or 128 plus the number of the signal that killed it.
func exitStatus(state *os.ProcessState) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// lockedWriter serializes the writes of several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// lockUnlessFile returns w, wrapped in a lockedWriter unless it is an
// *os.File, whose writes of whole lines need no lock.
func lockUnlessFile(w io.Writer) io.Writer {
	if _, ok := w.(*os.File); ok {
		return w
	}
	return &lockedWriter{w: w}
}

// wrapList joins items with ", " into lines of at most width bytes, each
// starting with indent and ending with a newline.
func wrapList(items []string, indent string, width int) string {
	var b strings.Builder
	line := indent
	for i, item := range items {
		if i < len(items)-1 {
			item += ","
		}
		if line != indent && len(line)+1+len(item) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += item
	}
	b.WriteString(line + "\n")
	return b.String()
}

// printUsage writes the -h text.
func printUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage: unotify [flags] [--] COMMAND [ARG...]

unotify runs COMMAND with a seccomp filter that sends the chosen system calls
to a listener, responds to each of them, and writes one line per call to
standard output: the calling thread's id, the call with its decoded arguments,
and the response (continue, errno NAME, or gone when the call ended first).
Diagnostics go to standard error.

Without -trace, these calls are intercepted on this architecture:
%s
Flags:
`, wrapList(availableDefaults(), "  ", 80))

	fs := newFlagSet(new(config))
	fs.SetOutput(w)
	fs.PrintDefaults()

	fmt.Fprint(w, `
Exit status: COMMAND's own, 128+N if signal N killed it, 126 if it could not
be executed, 127 if it was not found, 2 for invalid flags or arguments, and 125
if unotify could not supervise it. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and
SIGUSR2 sent to unotify are passed on to COMMAND.

Examples:
  unotify -- cat /etc/hostname
  unotify -trace openat,connect -json -o calls.jsonl -- make
  unotify -deny connect=ECONNREFUSED -- curl http://127.0.0.1:8080/
  unotify -nested -- unotify -- cat /etc/hostname
`)
}
