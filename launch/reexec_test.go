package launch_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/launch"
)

// notifyNames returns a filter that notifies the named calls.
func notifyNames(t *testing.T, names ...string) []unix.SockFilter {
	t.Helper()
	prog, err := launch.NotifyFilterNames(names)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// sigBlk returns the SigBlk line of this process's main thread.
func sigBlk() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err.Error()
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "SigBlk:") {
			return strings.Join(strings.Fields(line), "=")
		}
	}
	return "SigBlk missing"
}

// Start takes the re-exec route by itself when the filter notifies the
// command's execve, and Serve responds to that execve.
func TestStartTrapsTargetExec(t *testing.T) {
	checkNoLeaks(t)
	checkThreads(t)
	cmd, out := childCommand("getppid")
	s := newServeAll()

	l, err := launch.Start(cmd, launch.Options{Filter: notifyNames(t, "execve", "getppid"), Serve: s.serve})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if err := <-s.done; !errors.Is(err, seccomp.ErrNoTargets) {
		t.Errorf("serve ended with %v, want ErrNoTargets", err)
	}
	l.Close()

	if got, want := strings.TrimSpace(out.String()), fmt.Sprintf("ret=%d errno=0", os.Getpid()); got != want {
		t.Errorf("child output %q, want %q", got, want)
	}
	if calls := compactRestarts(s.seen()); !reflect.DeepEqual(calls, []string{"execve", "getppid"}) {
		t.Errorf("notified calls %v, want [execve getppid]", calls)
	}
}

// The command gets the caller's extra files at their numbers and the signal
// mask of a normal start. It gets nothing of the helper: not its variable,
// even when the caller's environment had it, not its socket, and not the
// signals it blocks while installing the filter.
func TestStartReexecLeavesNoTrace(t *testing.T) {
	checkNoLeaks(t)
	extra, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	cmd, out := childCommand("status")
	cmd.Env = append(cmd.Env, launch.HelperEnv+"=7")
	cmd.ExtraFiles = []*os.File{extra}
	s := newServeAll()

	l, err := launch.Start(cmd, launch.Options{Filter: notifyNames(t, "execve"), Serve: s.serve})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	<-s.done
	l.Close()

	want := fmt.Sprintf("helper-env=false %s fd3=<nil> sockets=0", sigBlk())
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("child output %q, want %q", got, want)
	}
	if calls := compactRestarts(s.seen()); !reflect.DeepEqual(calls, []string{"execve"}) {
		t.Errorf("notified calls %v, want [execve]", calls)
	}
}

// With ForceReexec, a filter the direct route could start under notifies
// none of the launching thread's calls, such as its read of the status pipe
// that TestStartServesStartup finds.
func TestStartForceReexec(t *testing.T) {
	checkNoLeaks(t)
	checkThreads(t)
	cmd, out := childCommand("getppid")
	s := newServeAll()

	l, err := launch.Start(cmd, launch.Options{Filter: notifyNames(t, "read", "getppid"), Serve: s.serve, ForceReexec: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	<-s.done
	l.Close()

	if got, want := strings.TrimSpace(out.String()), fmt.Sprintf("ret=%d errno=0", os.Getpid()); got != want {
		t.Errorf("child output %q, want %q", got, want)
	}
	calls := s.seen()
	for _, call := range calls {
		if strings.HasPrefix(call, "launcher ") {
			t.Errorf("notified calls %v include one of the launching thread", calls)
			break
		}
	}
	if len(calls) == 0 || calls[len(calls)-1] != "getppid" {
		t.Errorf("notified calls %v, want getppid last", calls)
	}

	_, err = launch.Start(exec.Command(os.Args[0]), launch.Options{Filter: notifyNames(t, "getppid"), ForceReexec: true})
	if err == nil || !strings.Contains(err.Error(), "ForceReexec needs Options.Serve") {
		t.Errorf("ForceReexec without Serve: error %v, want one naming Options.Serve", err)
	}
}

func TestStartExecError(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plain := write("plain", "data", 0o644)
	noInterpreter := write("no-interpreter", "#!"+filepath.Join(dir, "missing")+"\n", 0o755)
	plainInterpreter := write("plain-interpreter", "#!"+plain+"\n", 0o755)
	badFormat := write("bad-format", "\x00\x01\x02\x03", 0o755)

	// denyExec responds to the execve with EACCES and to every other call
	// with CONTINUE.
	denyExec := func(l *seccomp.Listener) {
		var n seccomp.Notif
		for l.Receive(&n) == nil {
			if nr, _ := launch.Resolve([]string{"execve"}); uint32(n.Data.Nr) == nr[0] {
				l.RespondErrno(n.ID, unix.EACCES)
			} else {
				l.Continue(n.ID)
			}
		}
	}

	tests := []struct {
		name      string
		path      string
		trap      string
		serve     func(*seccomp.Listener)
		wantErrno unix.Errno
		wantMsg   string
		// wantHelper is the status of the re-exec helper that Start
		// reaped, or 0 when Start rejected the command before starting
		// anything.
		wantHelper int
	}{
		{"missing file, direct route", filepath.Join(dir, "missing"), "getppid", nil, unix.ENOENT, "no such file or directory", 0},
		{"missing file, execve notified", filepath.Join(dir, "missing"), "execve", newServeAll().serve, unix.ENOENT, "no such file or directory", 0},
		{"not executable", plain, "execve", newServeAll().serve, unix.EACCES, "not executable", 0},
		{"missing interpreter", noInterpreter, "execve", newServeAll().serve, unix.ENOENT, "no such file or directory", 127},
		{"interpreter not executable", plainInterpreter, "execve", newServeAll().serve, unix.EACCES, "permission denied", 126},
		{"exec format error", badFormat, "execve", newServeAll().serve, unix.ENOEXEC, "exec format error", 126},
		{"execve answered with EACCES", os.Args[0], "execve", denyExec, unix.EACCES, "permission denied", 126},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeaks(t)
			checkThreads(t)
			cmd := exec.Command(tt.path)
			cmd.Env = append(os.Environ(), childEnv+"=getppid")

			l, err := launch.Start(cmd, launch.Options{Filter: notifyNames(t, tt.trap), Serve: tt.serve})
			if err == nil {
				l.Close()
				cmd.Wait()
				t.Fatal("Start succeeded")
			}

			var execErr *launch.ExecError
			if !errors.As(err, &execErr) {
				t.Fatalf("error %q (%T), want an *ExecError", err, err)
			}
			if execErr.Errno != tt.wantErrno || execErr.Path != tt.path {
				t.Errorf("ExecError for %s with %v, want %s with %v", execErr.Path, unix.ErrnoName(execErr.Errno), tt.path, unix.ErrnoName(tt.wantErrno))
			}
			if !errors.Is(err, tt.wantErrno) {
				t.Errorf("errors.Is(%q, %v) = false", err, unix.ErrnoName(tt.wantErrno))
			}
			if got, want := errors.Is(err, fs.ErrNotExist), tt.wantErrno == unix.ENOENT; got != want {
				t.Errorf("errors.Is(%q, fs.ErrNotExist) = %t, want %t", err, got, want)
			}
			if !strings.HasPrefix(err.Error(), "launch: command "+tt.path+": ") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q, want one naming %s with %q", err, tt.path, tt.wantMsg)
			}

			switch {
			case tt.wantHelper == 0 && cmd.Process != nil:
				t.Errorf("a process was started")
			case tt.wantHelper != 0 && cmd.ProcessState == nil:
				t.Errorf("the re-exec helper was not reaped")
			case tt.wantHelper != 0 && cmd.ProcessState.ExitCode() != tt.wantHelper:
				t.Errorf("the re-exec helper exited with %v, want status %d", cmd.ProcessState, tt.wantHelper)
			}
		})
	}
}

// A filter the re-exec helper cannot install under is rejected before
// anything starts, naming the call, with an error distinct from ExecError.
func TestStartRejectsHelperCalls(t *testing.T) {
	checkNoLeaks(t)
	if _, err := launch.Resolve([]string{"sendmsg"}); err != nil {
		t.Skip("sendmsg is not a system call on this architecture")
	}
	cmd, _ := childCommand("getppid")

	_, err := launch.Start(cmd, launch.Options{Filter: notifyNames(t, "execve", "sendmsg"), Serve: newServeAll().serve})
	var filterErr *launch.FilterError
	if !errors.As(err, &filterErr) {
		t.Fatalf("error %v (%T), want a *FilterError", err, err)
	}
	if filterErr.Call != "sendmsg" || filterErr.Action != seccomp.ActionUserNotif {
		t.Errorf("FilterError for %s returning %v, want sendmsg returning USER_NOTIF", filterErr.Call, filterErr.Action)
	}
	want := "launch: filter returns USER_NOTIF for sendmsg, which the re-exec helper makes before the launcher has the listener; allow it in the filter"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	var execErr *launch.ExecError
	if errors.As(err, &execErr) {
		t.Errorf("error %q is also an *ExecError", err)
	}
	if cmd.Process != nil {
		t.Errorf("a process was started")
	}
}

// A helper that fails to install the filter reports the errno, and Start
// reaps it.
func TestReexecReportsInstallFailure(t *testing.T) {
	checkNoLeaks(t)
	checkThreads(t)
	cmd, _ := childCommand("getppid")

	// An unknown flag bit passes only because the test calls the re-exec
	// route without Start's checks; the kernel rejects it in the helper.
	_, err := launch.StartReexec(cmd, launch.Options{Filter: notifyNames(t, "getppid"), Flags: 0x8000})
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "install filter in re-exec helper") {
		t.Errorf("error %v, want the helper's EINVAL from installing the filter", err)
	}
	if cmd.ProcessState == nil {
		t.Errorf("the re-exec helper was not reaped")
	}
}

// A program started with the helper's variable but no request socket
// reports it and exits with 125, instead of running as a helper or as
// itself.
func TestHelperEnvironmentSetByMistake(t *testing.T) {
	for _, value := range []string{"3", "1", "x"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), launch.HelperEnv+"="+value)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		cmd.Run()

		if got := cmd.ProcessState.ExitCode(); got != 125 {
			t.Errorf("%s=%s: status %d, want 125", launch.HelperEnv, value, got)
		}
		if !strings.Contains(stderr.String(), "unset "+launch.HelperEnv) {
			t.Errorf("%s=%s: stderr %q, want a message naming %s", launch.HelperEnv, value, stderr.String(), launch.HelperEnv)
		}
	}
}

func TestHelperRequestRoundTrip(t *testing.T) {
	prog := notifyNames(t, "openat", "execve")
	want := launch.Request{Flags: seccomp.FilterFlagWaitKillableRecv, NoNewPrivs: true, Path: "/usr/bin/cat", Prog: prog}

	b, err := launch.EncodeRequest(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := launch.DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v, want %+v", got, want)
	}

	encode := func(r launch.Request) []byte {
		b, err := launch.EncodeRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	valid := encode(launch.Request{Path: "/x", Prog: prog})
	badPrivs := append([]byte(nil), valid...)
	badPrivs[5] = 2
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"kind only", []byte("R")},
		{"no program", valid[:10+2]},
		{"cut inside the program", valid[:23]},
		{"another kind", append([]byte{'Q'}, valid[1:]...)},
		{"invalid no_new_privs byte", badPrivs},
	}
	for _, tt := range tests {
		if _, err := launch.DecodeRequest(tt.data); err == nil {
			t.Errorf("%s: DecodeRequest accepted an invalid request", tt.name)
		}
	}

	if _, err := launch.EncodeRequest(launch.Request{Path: "/x"}); err == nil {
		t.Errorf("EncodeRequest accepted an empty program")
	}
	if _, err := launch.EncodeRequest(launch.Request{Path: strings.Repeat("x", 65<<10), Prog: prog}); err == nil {
		t.Errorf("EncodeRequest accepted a path of 65 KiB")
	}
}

// compactRestarts merges runs of the same call: a signal that interrupts a
// call waiting for its response makes the kernel restart it, and the
// restarted call is notified again with a new id.
func compactRestarts(calls []string) []string {
	return slices.Compact(slices.Clone(calls))
}
