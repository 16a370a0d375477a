// Package procstat reads resource counts of the running process from /proc:
// open fds, OS threads and the state of each, and resident memory. The tests
// use it to check that nothing leaks, and cmd/seccomp-soak to report growth.
package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// FDs returns the open fds of the process, mapped to what /proc/self/fd
// shows for each (a path, "pipe:[N]", "anon_inode:seccomp notify").
func FDs() (map[int]string, error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	fds := make(map[int]string, len(entries))
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// The fd that ReadDir used is closed by now, so its link is gone.
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue
		}
		fds[fd] = target
	}
	return fds, nil
}

// Thread is one OS thread of the process.
type Thread struct {
	TID int
	// Filtered is true when the thread is in seccomp filter mode.
	Filtered bool
	// Syscall is the number of the system call the thread is blocked in,
	// or -1 when it is running or /proc does not show one.
	Syscall int
}

// Threads returns the OS threads of the process.
func Threads() ([]Thread, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	threads := make([]Thread, 0, len(entries))
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := "/proc/self/task/" + e.Name()
		status, err := os.ReadFile(dir + "/status")
		if err != nil {
			continue // the thread exited meanwhile
		}
		th := Thread{TID: tid, Syscall: -1}
		th.Filtered = statusField(status, "Seccomp") == "2"

		// The file holds "running", or the blocked call's number and its
		// arguments, or -1 when the thread is blocked outside a system call.
		if raw, err := os.ReadFile(dir + "/syscall"); err == nil {
			first, _, _ := strings.Cut(strings.TrimSpace(string(raw)), " ")
			if nr, err := strconv.Atoi(first); err == nil && nr >= 0 {
				th.Syscall = nr
			}
		}
		threads = append(threads, th)
	}
	return threads, nil
}

// RSS returns the resident set size of the process in bytes (VmRSS).
func RSS() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	field := statusField(status, "VmRSS")
	kib, err := strconv.ParseInt(strings.TrimSuffix(field, " kB"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("VmRSS %q in /proc/self/status: %w", field, err)
	}
	return kib * 1024, nil
}

// statusField returns the value of one "Name:\tvalue" line of a
// /proc/PID/status file, or "".
func statusField(status []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
