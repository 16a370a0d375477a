package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var (
	nestedKernel = kernel{Name: "7.2-nested-amd64", Arch: "amd64", ReleasePrefix: "7.2.13-rig", NestedListeners: true, BootTimeout: duration(time.Minute)}
	plainKernel  = kernel{Name: "6.1-amd64", Arch: "amd64", ReleasePrefix: "6.1.0-50-amd64", BootTimeout: duration(time.Minute)}
)

// passingConsole is a console transcript of a passing run on the nested kernel, as the
// runner reads it: firmware output, a status line after unterminated firmware output, and
// the kernel's power-off message.
const passingConsole = "\x1bc\x1b[?7lSeaBIOS (version 1.16.2-debian-1.16.2-1)\n" +
	`Booting from ROM..vmtest-init: ready release=7.2.13-rig goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestPass
--- PASS: TestPass (0.00s)
=== RUN   TestSkip
    probe_test.go:28: skips on purpose
--- SKIP: TestSkip (0.01s)
=== RUN   TestFeature
=== RUN   TestFeature/nested_listeners
    probe_test.go:102: seccomp-feature: name=nested listeners min=none kernel=7.2.13-rig result=run
--- PASS: TestFeature (0.02s)
    --- PASS: TestFeature/nested_listeners (0.01s)
PASS
vmtest-init: exit binary=probe status=0 elapsed=414ms
vmtest-init: start binary=sysnum
=== RUN   TestNumbers
--- PASS: TestNumbers (0.00s)
PASS
vmtest-init: exit binary=sysnum status=0 elapsed=20ms
vmtest-init: done binaries=2 failed=0
[    3.369321] reboot: Power down
`

func runSession(console string) *session {
	s := &session{}
	for line := range strings.SplitSeq(strings.TrimSuffix(console, "\n"), "\n") {
		s.Line(strings.TrimRight(line, "\r"))
	}
	return s
}

func TestSessionPassing(t *testing.T) {
	s := runSession(passingConsole)

	if !s.ready || s.release != "7.2.13-rig" || s.goarch != "amd64" || s.cpus != 1 {
		t.Errorf("ready %v, release %q, goarch %q, cpus %d", s.ready, s.release, s.goarch, s.cpus)
	}
	if !s.done || s.doneBinaries != 2 {
		t.Errorf("done %v with %d binaries, expected done with 2", s.done, s.doneBinaries)
	}
	if len(s.binaries) != 2 {
		t.Fatalf("%d binaries, expected 2", len(s.binaries))
	}
	probe := s.binaries[0]
	if probe.name != "probe" || !probe.exited || probe.status != 0 || probe.elapsed != 414*time.Millisecond {
		t.Errorf("probe: %+v", probe)
	}
	if len(s.claims) != 1 || s.claims[0].Name != "nested listeners" {
		t.Errorf("claims %+v, expected one for nested listeners", s.claims)
	}
	if len(s.errors) != 0 {
		t.Errorf("errors %q", s.errors)
	}

	r := evaluate(nestedKernel, &archBuild{binaries: []string{"probe", "sysnum"}}, nil, &bootResult{session: s}, false)
	if r.status != statusOK || len(r.problems) != 0 {
		t.Errorf("status %s, problems %q; expected ok", r.status, r.problems)
	}
	if r.passed != 4 || r.failed != 0 || r.skipped != 1 {
		t.Errorf("passed %d, failed %d, skipped %d; expected 4, 0, 1", r.passed, r.failed, r.skipped)
	}
	if column := nestedColumn(r); column != "ran" {
		t.Errorf("nested column %q, expected ran", column)
	}
}

func TestEvaluateFailures(t *testing.T) {
	probeOnly := &archBuild{binaries: []string{"probe"}}
	cases := []struct {
		name     string
		kernel   kernel
		build    *archBuild
		console  string
		boot     bootResult // session is filled in from console
		filtered bool
		status   string
		problems []string // a substring of each problem, in any order
		failures []string // "binary name: state"
	}{
		{
			name:   "failed subtest",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=6.1.0-50-amd64 goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestA
=== RUN   TestA/sub
    a_test.go:9: bad value
--- FAIL: TestA (0.00s)
    --- FAIL: TestA/sub (0.00s)
FAIL
vmtest-init: exit binary=probe status=1 elapsed=1s
vmtest-init: done binaries=1 failed=1`,
			status:   statusFail,
			problems: []string{"probe exited with status 1"},
			failures: []string{"probe TestA: FAIL", "probe TestA/sub: FAIL"},
		},
		{
			name:   "panic after results",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=6.1.0-50-amd64 goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestPanic
--- FAIL: TestPanic (0.00s)
panic: boom [recovered, repanicked]
vmtest-init: exit binary=probe status=2 elapsed=1s
vmtest-init: done binaries=1 failed=1`,
			status:   statusFail,
			problems: []string{"status 2"},
			failures: []string{"probe TestPanic: FAIL", "probe (output outside tests): last lines"},
		},
		{
			name:   "binary killed by a signal",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=6.1.0-50-amd64 goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestKilled
vmtest-init: exit binary=probe status=-1 signal=killed elapsed=1s
vmtest-init: done binaries=1 failed=1`,
			status:   statusFail,
			problems: []string{"probe exited with status -1 (killed)"},
			failures: []string{"probe TestKilled: did not finish"},
		},
		{
			name:   "guest stopped mid-binary",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=6.1.0-50-amd64 goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestPass
--- PASS: TestPass (0.00s)
=== RUN   TestCrash
[    4.000000] Kernel panic - not syncing: Attempted to kill init!`,
			status:   statusFail,
			problems: []string{"probe did not finish", "the guest stopped before the init reported"},
			failures: []string{"probe TestCrash: did not finish"},
		},
		{
			name:   "binary never started",
			kernel: plainKernel,
			build:  &archBuild{binaries: []string{"probe", "other"}},
			console: `vmtest-init: ready release=6.1.0-50-amd64 goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestPass
--- PASS: TestPass (0.00s)
vmtest-init: exit binary=probe status=0 elapsed=1s
vmtest-init: done binaries=1 failed=0`,
			status:   statusFail,
			problems: []string{"other did not run"},
		},
		{
			name:   "no tests",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=6.1.0-50-amd64 goarch=amd64 cpus=1
vmtest-init: start binary=probe
testing: warning: no tests to run
PASS
vmtest-init: exit binary=probe status=0 elapsed=1s
vmtest-init: done binaries=1 failed=0`,
			status:   statusNoTests,
			problems: []string{"no tests ran"},
		},
		{
			name:   "wrong image",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=6.12.118+deb12-amd64 goarch=arm64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestPass
--- PASS: TestPass (0.00s)
vmtest-init: exit binary=probe status=0 elapsed=1s
vmtest-init: done binaries=1 failed=0`,
			status:   statusFail,
			problems: []string{"expects a release starting with 6.1.0-50-amd64", "runs as arm64"},
		},
		{
			name:   "init error and malformed lines",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: error msg="mount proc on /proc: no such device"
vmtest-init: exit binary=ghost status=0 elapsed=1s
vmtest-init: bogus
seccomp-feature: name=F min=5.0 kernel=6.1.0 result=perhaps`,
			status:   statusFail,
			problems: []string{"init: mount proc", "ghost, which had not started", `unknown event "bogus"`, "result must be run or skip", "the guest stopped before the init was ready"},
		},
		{
			name:     "boot timeout",
			kernel:   plainKernel,
			build:    probeOnly,
			console:  "SeaBIOS (version 1.16.2-debian-1.16.2-1)",
			boot:     bootResult{timedOut: "boot"},
			status:   statusTimeout,
			problems: []string{"boot timeout of 1m0s"},
		},
		{
			name:   "test timeout",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=6.1.0-50-amd64 goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestHang`,
			boot:     bootResult{timedOut: "tests"},
			status:   statusTimeout,
			problems: []string{"did not finish within -timeout", "probe did not finish"},
			failures: []string{"probe TestHang: did not finish"},
		},
		{
			name:     "qemu error",
			kernel:   plainKernel,
			build:    probeOnly,
			boot:     bootResult{qemuErr: errTest, qemuStderr: []string{"could not load kernel"}},
			status:   statusError,
			problems: []string{"qemu failed: test error could not load kernel"},
		},
		{
			name:   "interrupted during the tests",
			kernel: plainKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=6.1.0-50-amd64 goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestSlow`,
			boot:     bootResult{interrupted: true},
			status:   statusInterrupted,
			problems: []string{"interrupted by SIGINT or SIGTERM", "probe did not finish"},
			failures: []string{"probe TestSlow: did not finish"},
		},
		{
			name:     "interrupted before boot",
			kernel:   plainKernel,
			build:    probeOnly,
			boot:     bootResult{interrupted: true},
			status:   statusInterrupted,
			problems: []string{"interrupted by SIGINT or SIGTERM"},
		},
		{
			name:   "nested feature skipped",
			kernel: nestedKernel,
			build:  probeOnly,
			console: `vmtest-init: ready release=7.2.13-rig goarch=amd64 cpus=1
vmtest-init: start binary=probe
=== RUN   TestNested
seccomp-feature: name=nested listeners min=none kernel=7.2.13-rig result=skip
--- SKIP: TestNested (0.00s)
vmtest-init: exit binary=probe status=0 elapsed=1s
vmtest-init: done binaries=1 failed=0`,
			status:   statusFail,
			problems: []string{`"nested listeners" (min none) was skipped on 7.2.13-rig`, "no test ran a feature with min=none"},
		},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			boot := c.boot
			boot.session = runSession(c.console)
			r := evaluate(c.kernel, c.build, nil, &boot, c.filtered)

			if r.status != c.status {
				t.Errorf("status %s, expected %s", r.status, c.status)
			}
			if len(r.problems) != len(c.problems) {
				t.Errorf("problems %q, expected %d", r.problems, len(c.problems))
			}
			for _, expected := range c.problems {
				if !containsSubstring(r.problems, expected) {
					t.Errorf("no problem contains %q in %q", expected, r.problems)
				}
			}

			var failures []string
			for _, f := range r.failures {
				failures = append(failures, f.binary+" "+f.name+": "+f.state)
			}
			if strings.Join(failures, "\n") != strings.Join(c.failures, "\n") {
				t.Errorf("failures %q, expected %q", failures, c.failures)
			}
		})
	}
}

func TestEvaluateBuildFailure(t *testing.T) {
	r := evaluate(plainKernel, nil, errTest, nil, false)
	if r.status != statusBuildFailed {
		t.Errorf("status %s, expected %s", r.status, statusBuildFailed)
	}
	if column := nestedColumn(evaluate(nestedKernel, nil, errTest, nil, false)); column != "not run" {
		t.Errorf("nested column %q, expected not run", column)
	}
}

func TestPrintReport(t *testing.T) {
	passing := evaluate(nestedKernel, &archBuild{binaries: []string{"probe", "sysnum"}}, nil, &bootResult{
		session:  runSession(passingConsole),
		bootTime: 1500 * time.Millisecond,
		testTime: 500 * time.Millisecond,
		wallTime: 2 * time.Second,
	}, false)
	failed := evaluate(plainKernel, nil, errTest, nil, false)

	var out bytes.Buffer
	printReport(&out, []kernelReport{passing, failed})
	report := out.String()

	for _, expected := range []string{
		"7.2-nested-amd64  amd64  7.2.13-rig  1.5s  0.5s   2.0s  4     0     1     ran     ok",
		"6.1-amd64         amd64  -           -     -      -     0     0     0     -       BUILD FAILED",
		"nested listeners  none  run",
		"6.1-amd64: BUILD FAILED\n  - test error",
	} {
		if !strings.Contains(report, expected) {
			t.Errorf("report lacks %q:\n%s", expected, report)
		}
	}
}

type testError struct{}

func (testError) Error() string { return "test error" }

var errTest error = testError{}

func containsSubstring(list []string, substring string) bool {
	for _, s := range list {
		if strings.Contains(s, substring) {
			return true
		}
	}
	return false
}
