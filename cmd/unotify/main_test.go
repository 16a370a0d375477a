package main

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests import no package that links the C library when cgo is enabled,
// such as net, and use raw sockets from golang.org/x/sys/unix instead. So the
// test binary is statically linked unless -race is given, which matters
// because denying openat would stop a dynamic loader before main.

// multiCallEnv makes the test binary act as the program named by its first
// argument, so the tests need neither a Go toolchain nor any other program
// at run time. Every process started with it inherits it.
const multiCallEnv = "UNOTIFY_TEST_MULTICALL"

// programs are what the test binary can act as. Each returns its exit
// status.
var programs = map[string]func(args []string) int{
	// unotify ARGS: unotify itself.
	"unotify": func(args []string) int {
		return run(args, stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	},
	// open PATH: open PATH and print "open: ok" or "open: ERRNO".
	"open": func(args []string) int {
		f, err := os.Open(args[0])
		if err == nil {
			f.Close()
		}
		fmt.Printf("open: %s\n", errnoText(err))
		return 0
	},
	// cat PATH: print the contents of PATH.
	"cat": func(args []string) int {
		data, err := os.ReadFile(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Stdout.Write(data)
		return 0
	},
	// mkdir PATH: create the directory PATH with mode 0750 and print
	// "mkdir: ok" or "mkdir: ERRNO".
	"mkdir": func(args []string) int {
		err := os.Mkdir(args[0], 0o750)
		fmt.Printf("mkdir: %s\n", errnoText(err))
		return 0
	},
	// getppid: call getppid.
	"getppid": func(args []string) int {
		fmt.Printf("getppid: %d\n", unix.Getppid())
		return 0
	},
	// connect SOCKET: connect to the Unix socket SOCKET and print
	// "connect: ok" or "connect: ERRNO".
	"connect": func(args []string) int {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer unix.Close(fd)
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: args[0]})
		fmt.Printf("connect: %s\n", errnoText(err))
		return 0
	},
	// exit STATUS: exit with STATUS.
	"exit": func(args []string) int {
		status, _ := strconv.Atoi(args[0])
		return status
	},
	// kill-self SIGNAL: kill itself with signal number SIGNAL.
	"kill-self": func(args []string) int {
		sig, _ := strconv.Atoi(args[0])
		unix.Kill(os.Getpid(), syscall.Signal(sig))
		time.Sleep(10 * time.Second)
		return 1
	},
	// wait-signal: print "ready", wait for SIGINT, SIGTERM or SIGHUP, and
	// exit with 100 plus its number.
	"wait-signal": func(args []string) int {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		fmt.Println("ready")
		select {
		case sig := <-sigs:
			return 100 + int(sig.(syscall.Signal))
		case <-time.After(time.Minute):
			return 1
		}
	},
	// open-under-signals PATH COUNT: open PATH COUNT times on one thread
	// while another thread keeps sending that thread SIGURG, which the Go
	// runtime ignores unless it asked for it. Print "opened COUNT".
	"open-under-signals": func(args []string) int {
		count, _ := strconv.Atoi(args[1])
		tids := make(chan int)
		done := make(chan error)
		go func() {
			runtime.LockOSThread()
			tids <- unix.Gettid()
			for range count {
				f, err := os.Open(args[0])
				if err != nil {
					done <- err
					return
				}
				f.Close()
			}
			done <- nil
		}()

		tid := <-tids
		for {
			select {
			case err := <-done:
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				fmt.Printf("opened %d\n", count)
				return 0
			default:
				unix.Tgkill(os.Getpid(), tid, unix.SIGURG)
			}
		}
	},
	// thread-open PATH: open PATH from a thread that is not the process's
	// main thread, and print "tid=TID pid=PID".
	"thread-open": func(args []string) int {
		done := make(chan int)
		go func() {
			// Locked goroutines never share a thread, so if this one holds
			// the main thread, the next one runs on another. Both threads
			// stay locked and end with their goroutines.
			runtime.LockOSThread()
			if unix.Gettid() != unix.Getpid() {
				done <- openOnThisThread(args[0])
				return
			}
			go func() {
				runtime.LockOSThread()
				done <- openOnThisThread(args[0])
			}()
			select {} // hold the main thread until the process exits
		}()
		tid := <-done
		if tid < 0 {
			return 1
		}
		fmt.Printf("tid=%d pid=%d\n", tid, os.Getpid())
		return 0
	},
}

// openOnThisThread opens and closes path, and returns the id of the
// calling thread, or -1 if the open failed.
func openOnThisThread(path string) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return -1
	}
	f.Close()
	return unix.Gettid()
}

func TestMain(m *testing.M) {
	if os.Getenv(multiCallEnv) == "1" && len(os.Args) > 1 {
		program, ok := programs[os.Args[1]]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown program %q\n", os.Args[1])
			os.Exit(2)
		}
		os.Exit(program(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// errnoText returns "ok" for nil and the errno's name for an error that
// wraps one.
func errnoText(err error) string {
	if err == nil {
		return "ok"
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// self returns the path of the test binary.
func self(t *testing.T) string {
	t.Helper()
	path, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// requireStatic skips the test when the test binary is dynamically linked,
// as with -race, which needs cgo: a test that denies openat would stop its
// loader before main.
func requireStatic(t *testing.T) {
	t.Helper()
	f, err := elf.Open(self(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Skip("the test binary is dynamically linked (cgo, as -race needs), and denying openat would stop its loader")
		}
	}
}

// result is the outcome of one unotify run.
type result struct {
	status int
	stdout string
	stderr string
}

// commandTimeout bounds every process a test starts. The VMs that run these
// tests emulate the CPU, so it is generous.
const commandTimeout = 2 * time.Minute

// unotifyCommand returns the test binary acting as unotify with args.
func unotifyCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, self(t), append([]string{"unotify"}, args...)...)
	cmd.Env = append(os.Environ(), multiCallEnv+"=1")
	if os.Getenv("GORACE") == "" {
		// A race-enabled binary sleeps a second at exit by default.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runUnotify runs the test binary as unotify with args and waits for it.
func runUnotify(t *testing.T, args ...string) result {
	t.Helper()
	cmd := unotifyCommand(t, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running unotify %q: %v\nstderr:\n%s", args, err, stderr.String())
	}
	return result{status: exitStatus(cmd.ProcessState), stdout: stdout.String(), stderr: stderr.String()}
}

// readReport returns the contents of the report file path.
func readReport(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the report: %v", err)
	}
	return string(data)
}

// shortTempDir returns a temporary directory whose path is short enough
// for a Unix socket address (108 bytes), which t.TempDir's may not be.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "unotify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
