//go:build linux

// Command init is PID 1 of the VM test runner's guests. It mounts the file systems a Go
// test binary expects, runs each test binary listed in the initramfs's configuration in
// turn, prints a status line for each on the console, and powers the machine off.
//
// The guest has no shell and no other programs, so everything here uses system calls. The
// runner builds this program with CGO_ENABLED=0 so that it is static.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seccompgo/seccomp/test/vm/internal/protocol"
)

// outputGrace is how long the init keeps copying a binary's output after the binary exits.
// A child process that outlives the binary keeps the pipe open, and the init drops what the
// child writes after that.
const outputGrace = 2 * time.Second

func main() {
	start := time.Now()

	mountFilesystems()
	if err := syscall.Sethostname([]byte("vmtest")); err != nil {
		warn("set hostname: %v", err)
	}

	config, err := readConfig()
	if err != nil {
		status(protocol.EventError, "msg", err.Error())
		powerOff()
	}

	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		warn("read kernel release: %v", err)
	}
	status(protocol.EventReady,
		"release", strings.TrimSpace(string(release)),
		"goarch", runtime.GOARCH,
		"cpus", strconv.Itoa(runtime.NumCPU()))

	failed := 0
	for _, binary := range config.Binaries {
		// Each binary gets what is left of the common budget, but at least a second, so that
		// a binary started late still fails with its own timeout message.
		left := max(config.Timeout-time.Since(start), time.Second)
		if !runBinary(binary, config, left) {
			failed++
		}
	}

	status(protocol.EventDone, "binaries", strconv.Itoa(len(config.Binaries)), "failed", strconv.Itoa(failed))
	powerOff()
}

// mount is one file system the init mounts. Only /proc is required, because test binaries
// find their own executable through /proc/self/exe to start child processes.
type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
	required               bool
}

var mounts = []mount{
	{"proc", "/proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", true},
	{"sysfs", "/sys", "sysfs", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", false},
	{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755", false},
	{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "mode=0620,ptmxmode=0666", false},
	{"tmpfs", "/dev/shm", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", false},
	{"tmpfs", "/tmp", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", false},
	{"tmpfs", "/run", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=0755", false},
}

// mountFilesystems mounts everything in mounts and adds the /dev entries that udev would
// create on a full system. A missing optional file system only prints a warning, so that a
// small kernel built from tinyconfig still runs the tests.
func mountFilesystems() {
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			warn("create %s: %v", m.target, err)
			continue
		}

		err := syscall.Mount(m.source, m.target, m.fstype, m.flags, m.data)
		if err != nil && m.required {
			status(protocol.EventError, "msg", fmt.Sprintf("mount %s on %s: %v", m.fstype, m.target, err))
			powerOff()
		}
		if err != nil {
			warn("mount %s on %s: %v", m.fstype, m.target, err)
		}
	}

	// os/exec opens /dev/null for a command without stdin, so it must exist even when
	// devtmpfs is missing.
	if _, err := os.Stat("/dev/null"); err != nil {
		if err := syscall.Mknod("/dev/null", syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
			warn("create /dev/null: %v", err)
		}
	}

	links := [][2]string{
		{"/proc/self/fd", "/dev/fd"},
		{"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"},
		{"/proc/self/fd/2", "/dev/stderr"},
	}
	for _, link := range links {
		if err := os.Symlink(link[0], link[1]); err != nil && !errors.Is(err, os.ErrExist) {
			warn("create %s: %v", link[1], err)
		}
	}
}

func readConfig() (protocol.Config, error) {
	var config protocol.Config

	data, err := os.ReadFile(protocol.ConfigPath)
	if err != nil {
		return config, fmt.Errorf("read configuration: %v", err)
	}
	if err := json.Unmarshal(data, &config); err != nil {
		return config, fmt.Errorf("parse configuration %s: %v", protocol.ConfigPath, err)
	}
	return config, nil
}

// runBinary runs one test binary with its output on the console and reports whether it
// exited with status 0.
func runBinary(binary protocol.Binary, config protocol.Config, timeout time.Duration) bool {
	status(protocol.EventStart, "binary", binary.Name)
	start := time.Now()

	args := append([]string{"-test.timeout=" + timeout.String()}, config.Args...)
	cmd := exec.Command(binary.Path, args...)
	cmd.Dir = binary.Dir
	cmd.Env = config.Env

	// The binary writes stdout and stderr into one pipe, in the order it writes them, and the
	// init copies that to the console. The copy lets the init end a partial last line before
	// its own status line.
	reader, writer, err := os.Pipe()
	if err != nil {
		return exitStatus(binary, start, "-1", "msg", "create pipe: "+err.Error())
	}
	cmd.Stdout = writer
	cmd.Stderr = writer

	copied := make(chan bool, 1)
	go func() {
		copied <- copyOutput(os.Stdout, reader)
	}()

	err = cmd.Start()
	writer.Close()
	if err != nil {
		reader.Close()
		<-copied
		return exitStatus(binary, start, "-1", "msg", "start: "+err.Error())
	}
	waitErr := cmd.Wait()

	var endedWithNewline, pipeLeftOpen bool
	select {
	case endedWithNewline = <-copied:
	case <-time.After(outputGrace):
		reader.Close()
		endedWithNewline = <-copied
		pipeLeftOpen = true
	}
	if !endedWithNewline {
		os.Stdout.WriteString("\n")
	}
	if pipeLeftOpen {
		warn("%s: a child process kept the output pipe open after the binary exited, so its later output is lost", binary.Name)
	}

	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		return exitStatus(binary, start, "0")
	case errors.As(waitErr, &exitErr):
		ws, _ := exitErr.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return exitStatus(binary, start, "-1", "signal", ws.Signal().String())
		}
		return exitStatus(binary, start, strconv.Itoa(exitErr.ExitCode()))
	default:
		return exitStatus(binary, start, "-1", "msg", "wait: "+waitErr.Error())
	}
}

// copyOutput copies from r to w until r ends or is closed, and reports whether the last
// byte copied was a newline.
func copyOutput(w io.Writer, r io.Reader) bool {
	endedWithNewline := true
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
			endedWithNewline = buf[n-1] == '\n'
		}
		if err != nil {
			return endedWithNewline
		}
	}
}

func exitStatus(binary protocol.Binary, start time.Time, code string, extra ...string) bool {
	fields := []string{"binary", binary.Name, "status", code}
	fields = append(fields, extra...)
	fields = append(fields, "elapsed", time.Since(start).Round(time.Millisecond).String())
	status(protocol.EventExit, fields...)
	return code == "0"
}

func status(event string, keysAndValues ...string) {
	os.Stdout.WriteString(protocol.FormatLine(event, keysAndValues...) + "\n")
}

func warn(format string, args ...any) {
	status(protocol.EventWarning, "msg", fmt.Sprintf(format, args...))
}

// powerOff flushes the file systems and powers the machine off. If that fails, the init
// exits. The kernel then panics, and with panic=-1 on the command line and qemu's
// -no-reboot the VM ends all the same.
func powerOff() {
	syscall.Sync()
	err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	status(protocol.EventError, "msg", fmt.Sprintf("power off: %v", err))
	os.Exit(1)
}
