package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seccompgo/seccomp"
)

// resources counts what a run could leak: open fds and goroutines.
type resources struct {
	fds        int
	goroutines int
}

func countResources(t *testing.T) resources {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return resources{fds: len(entries), goroutines: runtime.NumGoroutine()}
}

// checkNoLeaks fails the test if fds or goroutines are still above before.
// Goroutines that are ending get a few seconds.
func checkNoLeaks(t *testing.T, before resources) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := countResources(t)
		if now.fds <= before.fds && now.goroutines <= before.goroutines {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("leaked: %d fds and %d goroutines before, %d and %d after; goroutines:\n%s",
				before.fds, before.goroutines, now.fds, now.goroutines, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runInProcess calls run with args and returns its status and output.
func runInProcess(args ...string) (status int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	status = run(args, stdio{out: &out, err: &errOut})
	return status, out.String(), errOut.String()
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantError  string
	}{
		{"unknown system call", []string{"-trace", "nosuchcall", "--", "true"}, exitUsage, `unknown system call "nosuchcall"`},
		{"empty name in list", []string{"-trace", "openat,,connect", "--", "true"}, exitUsage, "empty system call name"},
		{"empty list", []string{"-trace", "", "--", "true"}, exitUsage, "empty system call name"},
		{"deny without errno", []string{"-deny", "connect", "--", "true"}, exitUsage, "want NAME=ERRNO"},
		{"deny without name", []string{"-deny", "=EPERM", "--", "true"}, exitUsage, "want NAME=ERRNO"},
		{"deny of unknown call", []string{"-deny", "nosuchcall=EPERM", "--", "true"}, exitUsage, `unknown system call "nosuchcall"`},
		{"unknown errno name", []string{"-deny", "connect=EFOO", "--", "true"}, exitUsage, `unknown errno name "EFOO"`},
		{"errno zero", []string{"-deny", "connect=0", "--", "true"}, exitUsage, `invalid errno "0"`},
		{"errno too large", []string{"-deny", "connect=4096", "--", "true"}, exitUsage, `invalid errno "4096"`},
		{"conflicting deny", []string{"-deny", "connect=EPERM", "-deny", "connect=EACCES", "--", "true"}, exitUsage, "connect is already denied with EPERM"},
		{"unknown flag", []string{"-bogus", "--", "true"}, exitUsage, "flag provided but not defined: -bogus"},
		{"missing command", []string{"-trace", "openat"}, exitUsage, "missing command"},
		{"missing command after --", []string{"--"}, exitUsage, "missing command"},
		{"missing executable", []string{"--", filepath.Join(dir, "missing")}, exitNotFound, "no such file or directory"},
		{"report in missing directory", []string{"-o", filepath.Join(dir, "no", "report"), "--", self(t), "exit", "0"}, exitFailure, "cannot write the report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := countResources(t)
			status, stdout, stderr := runInProcess(tt.args...)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d", status, tt.wantStatus)
			}
			if !strings.HasPrefix(stderr, "unotify: ") || !strings.Contains(stderr, tt.wantError) {
				t.Errorf("stderr %q, want an unotify message with %q", stderr, tt.wantError)
			}
			if tt.wantStatus == exitUsage && !strings.Contains(stderr, "unotify -h") {
				t.Errorf("stderr %q, want a pointer to -h", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			checkNoLeaks(t, before)
		})
	}
}

func TestRunHelp(t *testing.T) {
	status, stdout, stderr := runInProcess("-h")
	if status != 0 || stderr != "" {
		t.Errorf("status %d, stderr %q; want 0 and nothing", status, stderr)
	}
	for _, want := range []string{"Usage: unotify", "-trace LIST", "-deny NAME=ERRNO", "-json", "-o FILE", "-nested", "-wait-killable", "Exit status", "openat"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("usage lacks %q:\n%s", want, stdout)
		}
	}
}

// warmUp runs unotify in-process once, which starts the goroutines that
// live as long as the process, such as the one os/signal starts, so that
// they are not counted as leaks. The caller sets multiCallEnv.
func warmUp(t *testing.T) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report")
	if status, _, stderr := runInProcess("-o", report, "--", self(t), "exit", "0"); status != 0 {
		t.Fatalf("status %d, want 0; stderr:\n%s", status, stderr)
	}
}

func TestRunInProcessLeavesNothing(t *testing.T) {
	t.Setenv(multiCallEnv, "1") // for the command, the test binary itself
	warmUp(t)

	report := filepath.Join(t.TempDir(), "report")
	args := []string{"-o", report, "--", self(t), "exit", "3"}
	before := countResources(t)
	status, stdout, stderr := runInProcess(args...)
	if status != 3 {
		t.Errorf("status %d, want 3; stderr:\n%s", status, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q: the report went there despite -o", stdout)
	}
	if !strings.Contains(readReport(t, report), " execve(") {
		t.Errorf("the report lacks the command's execve:\n%s", readReport(t, report))
	}
	checkNoLeaks(t, before)
}

func TestRunNestedInProcess(t *testing.T) {
	t.Setenv(multiCallEnv, "1")
	warmUp(t)

	report := filepath.Join(t.TempDir(), "report")
	before := countResources(t)
	status, _, stderr := runInProcess("-nested", "-o", report, "--", self(t), "exit", "0")

	if err := seccomp.HaveNestedListeners(); err != nil {
		if status != exitFailure || !strings.Contains(stderr, "nested seccomp listeners") {
			t.Errorf("status %d, stderr %q; want %d and a message about nested listeners", status, stderr, exitFailure)
		}
	} else if status != 0 {
		t.Errorf("status %d, want 0; stderr:\n%s", status, stderr)
	}
	checkNoLeaks(t, before)
}
