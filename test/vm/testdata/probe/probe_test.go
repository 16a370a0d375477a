// Package probe is a small stand-in for the module's test packages. The VM test runner's
// own end-to-end test runs it in a VM, and `go run ./test/vm -pkg ./test/vm/testdata/probe`
// checks a kernel image without depending on the state of the real packages.
//
// With PROBE_FAIL set (through the runner's -env flag), TestFailureMode fails in one of the
// ways the runner must catch: fail, panic, exit, hang, or claim (a wrong version claim).
package probe

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// childEnv marks the process that TestReexec starts from the test binary itself.
const childEnv = "PROBE_REEXEC_CHILD"

func TestPass(t *testing.T) {
	if os.Getpid() <= 1 {
		t.Errorf("pid %d: the test binary runs as init", os.Getpid())
	}
}

func TestSkip(t *testing.T) {
	t.Skip("skips on purpose, so that the runner sees a skip")
}

func TestProcStatusSeccomp(t *testing.T) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), "Seccomp:"); ok {
			t.Logf("Seccomp:%s", value)
			return
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	t.Error("/proc/self/status has no Seccomp line: the kernel lacks CONFIG_SECCOMP")
}

func TestReexec(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		os.Stdout.WriteString("child ran\n")
		return
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestReexec$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", exe, err, out)
	}
	if !strings.Contains(string(out), "child ran") {
		t.Errorf("child output lacks %q:\n%s", "child ran", out)
	}
}

// TestFeature probes two seccomp flags the way the module's tests do: it prints a
// seccomp-feature line for the runner's version-claim check, then runs or skips.
func TestFeature(t *testing.T) {
	features := []struct {
		name  string
		min   string
		flags uintptr
	}{
		{"WAIT_KILLABLE_RECV", "5.19", unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
		// ALLOW_NESTED_LISTENERS (1<<6) exists only in patched kernels.
		{"nested listeners", "none", unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | 1<<6},
	}
	for _, f := range features {
		t.Run(f.name, func(t *testing.T) {
			// A NULL program makes a kernel that accepts the flags fail with EFAULT, and one
			// that rejects them fail with EINVAL first, without installing anything.
			_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, f.flags, uintptr(unsafe.Pointer(nil)))
			supported := errors.Is(errno, unix.EFAULT)
			if !supported && !errors.Is(errno, unix.EINVAL) {
				t.Fatalf("probe %s: unexpected error %v", f.name, errno)
			}

			var uts unix.Utsname
			if err := unix.Uname(&uts); err != nil {
				t.Fatal(err)
			}
			result := "run"
			if !supported {
				result = "skip"
			}
			t.Logf("seccomp-feature: name=%s min=%s kernel=%s result=%s", f.name, f.min, unix.ByteSliceToString(uts.Release[:]), result)

			if !supported && f.min == "none" {
				t.Skipf("needs %s, which no released kernel has", f.name)
			}
			if !supported {
				t.Skipf("needs %s (Linux %s)", f.name, f.min)
			}
		})
	}
}

func TestFailureMode(t *testing.T) {
	switch mode := os.Getenv("PROBE_FAIL"); mode {
	case "":
		t.Skip("PROBE_FAIL is not set")
	case "fail":
		t.Run("sub", func(t *testing.T) { t.Error("fails on purpose") })
	case "panic":
		panic("panics on purpose")
	case "exit":
		fmt.Print("exits on purpose, mid-line")
		os.Exit(3)
	case "hang":
		time.Sleep(24 * time.Hour)
	case "claim":
		// NEW_LISTENER is in Linux 5.0, so skipping it on any kernel here is a wrong claim.
		var uts unix.Utsname
		if err := unix.Uname(&uts); err != nil {
			t.Fatal(err)
		}
		t.Logf("seccomp-feature: name=NEW_LISTENER min=5.0 kernel=%s result=skip", unix.ByteSliceToString(uts.Release[:]))
		t.Skip("needs NEW_LISTENER (Linux 5.0)")
	default:
		t.Fatalf("unknown PROBE_FAIL %q", mode)
	}
}
