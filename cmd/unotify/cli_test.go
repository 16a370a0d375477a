package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/sysnum"
)

// reportLine matches one line of the text report and captures the thread
// id, the system call, its arguments and the response.
var reportLine = regexp.MustCompile(`^(\d+) ([a-z0-9_]+)\((.*)\) -> (continue|errno [A-Z0-9]+|gone|failed)$`)

// findLine returns the first report line for the system call name whose
// arguments contain the substring arg, or fails the test.
func findLine(t *testing.T, report, name, arg string) []string {
	t.Helper()
	for line := range strings.Lines(report) {
		m := reportLine.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m != nil && m[2] == name && strings.Contains(m[3], arg) {
			return m
		}
	}
	t.Fatalf("no %s line with %s in the report:\n%s", name, arg, report)
	return nil
}

func TestReportLinesAreWellFormed(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	res := runUnotify(t, "-o", report, "--", self(t), "open", "/")
	if res.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
	}

	text := readReport(t, report)
	if text == "" {
		t.Fatal("empty report")
	}
	for line := range strings.Lines(text) {
		if !reportLine.MatchString(strings.TrimSuffix(line, "\n")) {
			t.Errorf("malformed report line %q", line)
		}
	}
}

func TestDefaultTraceDecodesOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(file, []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Without -o the report goes to standard output, with the command's.
	res := runUnotify(t, "--", self(t), "open", file)
	if res.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
	}
	if !strings.Contains(res.stdout, "open: ok\n") {
		t.Errorf("the command's output is missing from stdout:\n%s", res.stdout)
	}

	m := findLine(t, res.stdout, "openat", strconv.Quote(file))
	wantArgs := regexp.MustCompile(`^AT_FDCWD, ` + regexp.QuoteMeta(strconv.Quote(file)) + `, O_RDONLY\|O_CLOEXEC[^,]*, 0$`)
	if !wantArgs.MatchString(m[3]) {
		t.Errorf("openat arguments %q, want them to match %s", m[3], wantArgs)
	}
	if m[4] != "continue" {
		t.Errorf("openat got %q, want continue", m[4])
	}

	exec := findLine(t, res.stdout, "execve", strconv.Quote(self(t)))
	wantArgv := `[` + strconv.Quote(self(t)) + `, "open", ` + strconv.Quote(file) + `]`
	if !strings.Contains(exec[3], wantArgv) {
		t.Errorf("execve arguments %q, want argv %s", exec[3], wantArgv)
	}
}

func TestTraceListReplacesDefaults(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	newDir := filepath.Join(dir, "new")

	res := runUnotify(t, "-trace", "mkdirat, getcwd", "-trace", "getppid", "-o", report, "--", self(t), "mkdir", newDir)
	if res.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
	}
	if info, err := os.Stat(newDir); err != nil || !info.IsDir() {
		t.Errorf("the command did not create %s: %v", newDir, err)
	}

	text := readReport(t, report)
	m := findLine(t, text, "mkdirat", strconv.Quote(newDir))
	if want := "AT_FDCWD, " + strconv.Quote(newDir) + ", 0750"; m[3] != want {
		t.Errorf("mkdirat arguments %q, want %q", m[3], want)
	}
	for _, name := range []string{"execve", "openat"} {
		if strings.Contains(text, " "+name+"(") {
			t.Errorf("the report has %s, which -trace did not ask for:\n%s", name, text)
		}
	}
}

func TestTraceCallWithoutArguments(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	res := runUnotify(t, "-trace", "getppid", "-o", report, "--", self(t), "getppid")
	if res.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
	}
	if !strings.Contains(res.stdout, "getppid: ") {
		t.Errorf("stdout %q, want the command's getppid line", res.stdout)
	}
	findLine(t, readReport(t, report), "getppid", "")
}

func TestDenyOpenat(t *testing.T) {
	requireStatic(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report")

	res := runUnotify(t, "-deny", "openat=EACCES", "-o", report, "--", self(t), "open", file)
	if res.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
	}
	if res.stdout != "open: EACCES\n" {
		t.Errorf("the command printed %q, want %q", res.stdout, "open: EACCES\n")
	}

	m := findLine(t, readReport(t, report), "openat", strconv.Quote(file))
	if m[4] != "errno EACCES" {
		t.Errorf("openat got %q, want errno EACCES", m[4])
	}
}

func TestDenyConnectUnixSocket(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "s")
	listenUnix(t, sock)

	tests := []struct {
		name         string
		flags        []string
		wantOutput   string
		wantResponse string
	}{
		{"allowed", []string{"-trace", "connect"}, "connect: ok\n", "continue"},
		{"denied", []string{"-deny", "connect=ECONNREFUSED"}, "connect: ECONNREFUSED\n", "errno ECONNREFUSED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "report")
			args := append(tt.flags, "-o", report, "--", self(t), "connect", sock)
			res := runUnotify(t, args...)
			if res.status != 0 {
				t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
			}
			if res.stdout != tt.wantOutput {
				t.Errorf("the command printed %q, want %q", res.stdout, tt.wantOutput)
			}

			m := findLine(t, readReport(t, report), "connect", "{AF_UNIX, "+strconv.Quote(sock)+"}")
			if m[4] != tt.wantResponse {
				t.Errorf("connect got %q, want %q", m[4], tt.wantResponse)
			}
		})
	}
}

// listenUnix listens on a Unix stream socket at path until the test ends.
// Connections wait in the backlog and are never accepted, which is enough
// for connect to succeed.
func listenUnix(t *testing.T, path string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 16); err != nil {
		t.Fatal(err)
	}
}

// jsonEvent is a line of the -json report.
type jsonEvent struct {
	ID      string    `json:"id"`
	Pid     int       `json:"pid"`
	Syscall string    `json:"syscall"`
	Args    []jsonArg `json:"args"`
	Action  string    `json:"action"`
	Errno   string    `json:"errno"`
}

type jsonArg struct {
	Name      string   `json:"name"`
	Raw       string   `json:"raw"`
	Value     *string  `json:"value"`
	List      []string `json:"list"`
	Family    string   `json:"family"`
	Abstract  bool     `json:"abstract"`
	Hex       string   `json:"hex"`
	Error     string   `json:"error"`
	Truncated bool     `json:"truncated"`
}

func TestJSONReport(t *testing.T) {
	dir := t.TempDir()
	newDir := filepath.Join(dir, "new")
	report := filepath.Join(dir, "report")

	res := runUnotify(t, "-json", "-trace", "execve,openat", "-deny", "mkdirat=EACCES", "-o", report, "--", self(t), "mkdir", newDir)
	if res.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
	}
	if res.stdout != "mkdir: EACCES\n" {
		t.Errorf("the command printed %q, want %q", res.stdout, "mkdir: EACCES\n")
	}

	var events []jsonEvent
	for line := range strings.Lines(readReport(t, report)) {
		var ev jsonEvent
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		events = append(events, ev)
	}

	hexID := regexp.MustCompile(`^0x[0-9a-f]+$`)
	var sawMkdir, sawExec, sawOpen bool
	for _, ev := range events {
		if !hexID.MatchString(ev.ID) || ev.Pid <= 0 {
			t.Errorf("event %+v: want an id in hex and a pid", ev)
		}
		for _, a := range ev.Args {
			if !hexID.MatchString(a.Raw) {
				t.Errorf("event %s: argument %s has raw %q, want hex", ev.Syscall, a.Name, a.Raw)
			}
			if a.Value == nil && a.List == nil && a.Error == "" {
				t.Errorf("event %s: argument %s has no value, list or error", ev.Syscall, a.Name)
			}
		}

		switch ev.Syscall {
		case "mkdirat":
			sawMkdir = true
			if len(ev.Args) != 3 || ev.Args[1].Name != "pathname" || ev.Args[1].Value == nil || *ev.Args[1].Value != newDir {
				t.Errorf("mkdirat arguments %+v, want pathname %s", ev.Args, newDir)
			} else if *ev.Args[0].Value != "AT_FDCWD" || *ev.Args[2].Value != "0750" {
				t.Errorf("mkdirat dirfd %s and mode %s, want AT_FDCWD and 0750", *ev.Args[0].Value, *ev.Args[2].Value)
			}
			if ev.Action != "errno" || ev.Errno != "EACCES" {
				t.Errorf("mkdirat: action %q errno %q, want errno EACCES", ev.Action, ev.Errno)
			}
		case "execve":
			sawExec = true
			want := []string{self(t), "mkdir", newDir}
			if len(ev.Args) != 3 || strings.Join(ev.Args[1].List, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("execve arguments %+v, want argv %q", ev.Args, want)
			}
			if ev.Action != "continue" || ev.Errno != "" {
				t.Errorf("execve: action %q errno %q, want continue", ev.Action, ev.Errno)
			}
		case "openat":
			sawOpen = true
			if len(ev.Args) != 4 || ev.Args[1].Value == nil && ev.Args[1].Error == "" {
				t.Errorf("openat arguments %+v, want four with a pathname", ev.Args)
			}
		}
	}
	if !sawMkdir || !sawExec || !sawOpen {
		t.Errorf("the report lacks mkdirat (%t), execve (%t) or openat (%t)", sawMkdir, sawExec, sawOpen)
	}
}

func TestExitStatusPassthrough(t *testing.T) {
	tests := []struct {
		name    string
		program []string
		want    int
	}{
		{"success", []string{"exit", "0"}, 0},
		{"failure", []string{"exit", "3"}, 3},
		{"killed", []string{"kill-self", strconv.Itoa(int(syscall.SIGKILL))}, 128 + int(syscall.SIGKILL)},
		{"terminated", []string{"kill-self", strconv.Itoa(int(syscall.SIGTERM))}, 128 + int(syscall.SIGTERM)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "report")
			res := runUnotify(t, append([]string{"-o", report, "--", self(t)}, tt.program...)...)
			if res.status != tt.want {
				t.Errorf("status %d, want %d; stderr:\n%s", res.status, tt.want, res.stderr)
			}
		})
	}
}

func TestSignalForwarding(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "report")
			cmd := unotifyCommand(t, "-o", report, "--", self(t), "wait-signal")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}

			// The command prints "ready" once its handler is installed,
			// and unotify forwards signals from before it starts the
			// command.
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if line != "ready\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the command printed %q (%v), want ready; stderr:\n%s", line, err, stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}

			cmd.Wait()
			if got, want := exitStatus(cmd.ProcessState), 100+int(sig); got != want {
				t.Errorf("status %d, want %d (the command's own for %v); stderr:\n%s", got, want, sig, stderr.String())
			}
		})
	}
}

func TestThreadTarget(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	file := filepath.Join(dir, "data")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	res := runUnotify(t, "-trace", "openat", "-o", report, "--", self(t), "thread-open", file)
	if res.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
	}
	var tid, pid int
	if _, err := fmt.Sscanf(res.stdout, "tid=%d pid=%d\n", &tid, &pid); err != nil {
		t.Fatalf("the command printed %q: %v", res.stdout, err)
	}

	m := findLine(t, readReport(t, report), "openat", strconv.Quote(file))
	if m[1] != strconv.Itoa(tid) {
		t.Errorf("the openat line names thread %s, want %d (process %d)", m[1], tid, pid)
	}
}

func TestRestartedCallsUnderSignals(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	file := filepath.Join(dir, "data")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const count = 1000

	for _, waitKillable := range []bool{false, true} {
		t.Run("wait-killable="+strconv.FormatBool(waitKillable), func(t *testing.T) {
			if err := seccomp.HaveFilterFlag(seccomp.FilterFlagWaitKillableRecv); waitKillable && err != nil {
				t.Skip(err)
			}
			res := runUnotify(t, "-wait-killable="+strconv.FormatBool(waitKillable), "-trace", "openat", "-o", report,
				"--", self(t), "open-under-signals", file, strconv.Itoa(count))
			if res.status != 0 || res.stdout != fmt.Sprintf("opened %d\n", count) {
				t.Fatalf("status %d, stdout %q, stderr:\n%s", res.status, res.stdout, res.stderr)
			}

			// A signal that interrupts a call waiting for the response
			// makes the kernel drop the notification (gone) and restart
			// the call as a new notification. A signal that comes with the
			// response makes the kernel drop the response too, so an open
			// can get continue more than once. With WAIT_KILLABLE_RECV,
			// only a fatal signal ends a wait that unotify has received,
			// and neither happens.
			var continued, gone int
			for line := range strings.Lines(readReport(t, report)) {
				switch {
				case strings.HasSuffix(line, " -> gone\n"):
					gone++
				case strings.Contains(line, strconv.Quote(file)) && strings.HasSuffix(line, " -> continue\n"):
					continued++
				case strings.Contains(line, strconv.Quote(file)):
					t.Errorf("unexpected line %q", line)
				}
			}
			if continued < count || waitKillable && continued != count {
				t.Errorf("%d opens got continue, want %d", continued, count)
			}
			if waitKillable && gone != 0 {
				t.Errorf("%d notifications gone despite WAIT_KILLABLE_RECV", gone)
			}
			t.Logf("%d notifications gone and restarted", gone)
		})
	}
}

func TestCommandNotStarted(t *testing.T) {
	dir := t.TempDir()
	notExecutable := filepath.Join(dir, "plain")
	if err := os.WriteFile(notExecutable, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file with the execute bit but no valid format makes execve itself
	// fail, after the filter is installed.
	badFormat := filepath.Join(dir, "garbage")
	if err := os.WriteFile(badFormat, []byte("\x00\x01\x02\x03"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantError  string
	}{
		{"missing", []string{"--", filepath.Join(dir, "missing")}, exitNotFound, "no such file or directory"},
		{"not in PATH", []string{"--", "unotify-test-no-such-command"}, exitNotFound, "not found"},
		{"not executable", []string{"--", notExecutable}, exitCannotExec, "permission denied"},
		{"directory", []string{"--", dir}, exitCannotExec, "is a directory"},
		{"exec format error", []string{"--", badFormat}, exitCannotExec, "exec format error"},
		{"execve denied", []string{"-deny", "execve=EPERM", "--", self(t), "exit", "0"}, exitCannotExec, "operation not permitted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runUnotify(t, tt.args...)
			if res.status != tt.wantStatus {
				t.Errorf("status %d, want %d", res.status, tt.wantStatus)
			}
			if !strings.Contains(res.stderr, tt.wantError) || !strings.HasPrefix(res.stderr, "unotify: ") {
				t.Errorf("stderr %q, want an unotify message with %q", res.stderr, tt.wantError)
			}
		})
	}
}

func TestNested(t *testing.T) {
	dir := t.TempDir()
	outer := filepath.Join(dir, "outer")
	inner := filepath.Join(dir, "inner")
	file := filepath.Join(dir, "hostname")
	if err := os.WriteFile(file, []byte("testhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The VM test runner collects this line to check that the nested case
	// ran on the kernels with nested listeners and only there.
	nestedErr := seccomp.HaveNestedListeners()
	var uts unix.Utsname
	unix.Uname(&uts)
	result := "run"
	if nestedErr != nil {
		result = "skip"
	}
	fmt.Printf("seccomp-feature: name=nested listeners min=none kernel=%s result=%s\n", unix.ByteSliceToString(uts.Release[:]), result)

	start := time.Now()
	res := runUnotify(t, "-nested", "-o", outer, "--", self(t), "unotify", "-o", inner, "--", self(t), "cat", file)

	if err := nestedErr; err != nil {
		t.Logf("this kernel has no nested listeners (%v): -nested must fail before starting the command", err)
		if res.status != exitFailure {
			t.Errorf("status %d, want %d", res.status, exitFailure)
		}
		if !strings.Contains(res.stderr, "nested") || !strings.Contains(res.stderr, "-nested") {
			t.Errorf("stderr %q, want a message about -nested and nested listeners", res.stderr)
		}
		if res.stdout != "" {
			t.Errorf("stdout %q: the command ran", res.stdout)
		}
		if _, err := os.Stat(outer); err == nil {
			t.Errorf("the report file was created, so unotify got past its checks")
		}
		if elapsed := time.Since(start); elapsed > 30*time.Second {
			t.Errorf("failing took %v", elapsed)
		}
		return
	}

	if res.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", res.status, res.stderr)
	}
	if res.stdout != "testhost\n" {
		t.Errorf("stdout %q, want the file's contents", res.stdout)
	}

	// The inner unotify receives cat's open, and after its CONTINUE the
	// outer one receives it too. The outer one also receives the inner
	// unotify's own calls, such as the open of the target's memory.
	innerOpen := findLine(t, readReport(t, inner), "openat", strconv.Quote(file))
	outerText := readReport(t, outer)
	outerOpen := findLine(t, outerText, "openat", strconv.Quote(file))
	if innerOpen[1] != outerOpen[1] {
		t.Errorf("the inner report has the open from thread %s, the outer from %s", innerOpen[1], outerOpen[1])
	}
	if innerOpen[4] != "continue" || outerOpen[4] != "continue" {
		t.Errorf("responses %q and %q, want continue", innerOpen[4], outerOpen[4])
	}
	findLine(t, outerText, "openat", "/mem\"")
}

func TestNestedWithoutFlagFails(t *testing.T) {
	dir := t.TempDir()
	outer := filepath.Join(dir, "outer")
	res := runUnotify(t, "-trace", "getppid", "-o", outer, "--", self(t), "unotify", "--", self(t), "exit", "0")
	// The inner unotify fails with the status for its own failures, which
	// the outer one passes on.
	if res.status != exitFailure {
		t.Errorf("status %d, want %d", res.status, exitFailure)
	}
	if !strings.Contains(res.stderr, "listener is already installed") {
		t.Errorf("stderr %q, want the inner unotify to name the listener above it", res.stderr)
	}
}

func TestSyscallNumberAcceptsNumbers(t *testing.T) {
	openat, _ := sysnum.Number("openat")
	tests := []struct {
		in     string
		want   uint32
		wantOK bool
	}{
		{"openat", openat, true},
		{"451", 451, true}, // cachestat, newer than the name tables
		{"0", 0, true},
		{"x451", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"4294967296", 0, false},
	}
	for _, tt := range tests {
		got, ok := syscallNumber(tt.in)
		if ok != tt.wantOK || (ok && got != tt.want) {
			t.Errorf("syscallNumber(%q) = %d, %t; want %d, %t", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
	if _, err := parseSyscallList("openat, 451"); err != nil {
		t.Errorf("parseSyscallList with a number: %v", err)
	}
	if _, err := parseDeny("451=EPERM"); err != nil {
		t.Errorf("parseDeny with a number: %v", err)
	}
}

// TestSyncWakeUp runs unotify with -sync-wake-up left out, false and true.
// Only the explicit true warns, and only on a kernel without
// SECCOMP_IOCTL_NOTIF_SET_FLAGS (before Linux 6.6); the command runs and is
// traced in every case.
func TestSyncWakeUp(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(file, []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		args     []string
		explicit bool // -sync-wake-up=true, which warns on a kernel without the flag
	}{
		{nil, false},
		{[]string{"-sync-wake-up=false"}, false},
		{[]string{"-sync-wake-up=true"}, true},
	}
	for _, tt := range tests {
		report := filepath.Join(dir, "report")
		res := runUnotify(t, append(tt.args, "-o", report, "--", self(t), "open", file)...)
		if res.status != 0 {
			t.Fatalf("%v: status %d, stderr:\n%s", tt.args, res.status, res.stderr)
		}
		findLine(t, readReport(t, report), "openat", file)

		warned := strings.Contains(res.stderr, "-sync-wake-up")
		if !tt.explicit {
			if warned {
				t.Errorf("%v: unexpected warning:\n%s", tt.args, res.stderr)
			}
			continue
		}

		// The VM test runner collects this line to check the 6.6 claim on
		// every kernel.
		var uts unix.Utsname
		unix.Uname(&uts)
		result := "run"
		if warned {
			result = "skip"
			if !strings.Contains(res.stderr, "6.6") {
				t.Errorf("%v: the warning does not name the kernel version:\n%s", tt.args, res.stderr)
			}
		}
		fmt.Printf("seccomp-feature: name=unotify -sync-wake-up min=6.6 kernel=%s result=%s\n", unix.ByteSliceToString(uts.Release[:]), result)
	}
}
