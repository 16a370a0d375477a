package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Kernel statuses in the report, from the most to the least severe.
const (
	statusBuildFailed = "BUILD FAILED"
	statusError       = "ERROR"
	statusInterrupted = "INTERRUPTED"
	statusTimeout     = "TIMEOUT"
	statusFail        = "FAIL"
	statusNoTests     = "NO TESTS"
	statusOK          = "ok"
)

// maxTailLines is how many lines of a failed binary's output outside any test the report
// repeats.
const maxTailLines = 30

// kernelReport is the verdict on one kernel.
type kernelReport struct {
	kernel kernel
	boot   *bootResult // nil when the build failed

	passed, failed, skipped int
	status                  string
	problems                []string
	failures                []testFailure
}

// testFailure is a failed or unfinished test with the output to show for it.
type testFailure struct {
	binary string
	name   string
	state  string // "FAIL" or "did not finish"
	output []string
}

// evaluate checks everything one boot printed against what the kernel and the build
// expect. filtered is set when -run selected only some tests.
func evaluate(k kernel, build *archBuild, buildErr error, boot *bootResult, filtered bool) kernelReport {
	r := kernelReport{kernel: k, boot: boot}
	if buildErr != nil {
		r.status = statusBuildFailed
		r.problems = append(r.problems, buildErr.Error())
		return r
	}
	s := boot.session

	switch {
	case boot.qemuErr != nil:
		r.problems = append(r.problems, fmt.Sprintf("qemu failed: %v %s", boot.qemuErr, strings.Join(boot.qemuStderr, " ")))
	case boot.interrupted:
		r.problems = append(r.problems, "the run was interrupted by SIGINT or SIGTERM")
	case boot.timedOut == "boot":
		r.problems = append(r.problems, fmt.Sprintf("the init was not ready within the boot timeout of %v", time.Duration(k.BootTimeout)))
	case boot.timedOut == "tests":
		r.problems = append(r.problems, fmt.Sprintf("the tests did not finish within -timeout plus %v, so the runner killed qemu", runGrace))
	}

	stoppedEarly := boot.qemuErr != nil || boot.interrupted || boot.timedOut != ""
	r.problems = append(r.problems, s.errors...)

	// Without the ready line no binary ran, and the reason is above: a boot timeout, a
	// qemu error, or an init error or kernel panic on the console.
	noTests := false
	switch {
	case !s.ready && !stoppedEarly:
		r.problems = append(r.problems, "the guest stopped before the init was ready (see the console above)")
	case s.ready:
		r.checkRun(k, build, s, stoppedEarly, filtered)
		noTests = r.passed+r.failed+r.skipped == 0
	}

	switch {
	case boot.qemuErr != nil:
		r.status = statusError
	case boot.interrupted:
		r.status = statusInterrupted
	case boot.timedOut != "":
		r.status = statusTimeout
	case noTests && len(r.problems) == 1:
		r.status = statusNoTests
	case len(r.problems) > 0:
		r.status = statusFail
	default:
		r.status = statusOK
	}
	return r
}

// checkRun checks a run from the init's ready line on: the kernel release and
// architecture, the binaries and their tests, and the feature claims.
func (r *kernelReport) checkRun(k kernel, build *archBuild, s *session, stoppedEarly, filtered bool) {
	if !strings.HasPrefix(s.release, k.ReleasePrefix) {
		r.problems = append(r.problems, fmt.Sprintf("kernel release is %s, but kernels.json expects a release starting with %s: is the image the right one?", s.release, k.ReleasePrefix))
	}
	if s.goarch != k.Arch {
		r.problems = append(r.problems, fmt.Sprintf("the init runs as %s, expected %s", s.goarch, k.Arch))
	}

	r.checkBinaries(build, s)

	if !stoppedEarly && !s.done {
		r.problems = append(r.problems, "the guest stopped before the init reported that all binaries had run")
	}
	if r.passed+r.failed+r.skipped == 0 {
		r.problems = append(r.problems, "no tests ran")
	}
	r.problems = append(r.problems, checkClaims(k, s.release, s.claims, filtered)...)
}

// checkBinaries counts the test results and checks that every binary ran and exited with
// status 0.
func (r *kernelReport) checkBinaries(build *archBuild, s *session) {
	runs := make(map[string]*binaryRun)
	for _, b := range s.binaries {
		runs[b.name] = b
	}

	for _, name := range build.binaries {
		b := runs[name]
		if b == nil {
			r.problems = append(r.problems, fmt.Sprintf("%s did not run", name))
			continue
		}

		passed, failed, skipped := b.log.Counts()
		r.passed += passed
		r.failed += failed
		r.skipped += skipped
		for _, t := range b.log.Results() {
			if t.Outcome == outcomeFail {
				output, dropped := b.log.Output(t.Name)
				r.failures = append(r.failures, testFailure{binary: name, name: t.Name, state: "FAIL", output: withDropped(output, dropped)})
			}
		}

		if !b.failed() {
			continue
		}
		// A binary that exited with status 0 finished all its tests, so tests without a
		// result matter only here (see testLog).
		incomplete := b.log.Incomplete()
		r.failed += len(incomplete)
		for _, name := range incomplete {
			output, dropped := b.log.Output(name)
			r.failures = append(r.failures, testFailure{binary: b.name, name: name, state: "did not finish", output: withDropped(output, dropped)})
		}

		tail := b.log.Tail()
		tail = tail[max(0, len(tail)-maxTailLines):]
		switch {
		case !b.exited:
			r.problems = append(r.problems, fmt.Sprintf("%s did not finish: the VM stopped while it ran", name))
		case b.detail != "":
			r.problems = append(r.problems, fmt.Sprintf("%s exited with status %d (%s)", name, b.status, b.detail))
		default:
			r.problems = append(r.problems, fmt.Sprintf("%s exited with status %d", name, b.status))
		}
		// The last lines show a panic's goroutines, or why a binary with no failed test
		// exited with an error.
		panicked := slices.ContainsFunc(tail, func(line string) bool { return strings.HasPrefix(line, "panic: ") })
		if len(tail) > 0 && (len(incomplete) > 0 || failed == 0 || panicked) {
			r.failures = append(r.failures, testFailure{binary: b.name, name: "(output outside tests)", state: "last lines", output: tail})
		}
	}
}

func withDropped(lines []string, dropped int) []string {
	if dropped == 0 {
		return lines
	}
	return append(slices.Clip(lines), fmt.Sprintf("... %d more lines on the console", dropped))
}

// nestedColumn describes the features with min=none, those of the nested-listener series,
// on a kernel with nested listeners: "ran" when all of them ran, "skipped" when any was
// skipped. It returns "-" for other kernels.
func nestedColumn(r kernelReport) string {
	if !r.kernel.NestedListeners {
		return "-"
	}
	if r.boot == nil || !r.boot.session.ready {
		return "not run"
	}

	ran, skipped := false, false
	for _, c := range r.boot.session.claims {
		if c.Min == minNone {
			ran = ran || c.Result == "run"
			skipped = skipped || c.Result == "skip"
		}
	}
	switch {
	case skipped:
		return "skipped"
	case ran:
		return "ran"
	}
	return "not reported"
}

// printReport writes the summary table, the feature matrix, and each kernel's problems and
// failed tests.
func printReport(w io.Writer, reports []kernelReport) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KERNEL\tARCH\tRELEASE\tBOOT\tTESTS\tWALL\tPASS\tFAIL\tSKIP\tNESTED\tSTATUS")
	for _, r := range reports {
		release, boot, tests, wall := "-", "-", "-", "-"
		if r.boot != nil {
			release = valueOr(r.boot.session.release, "-")
			boot = formatSeconds(r.boot.bootTime)
			tests = formatSeconds(r.boot.testTime)
			wall = formatSeconds(r.boot.wallTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n",
			r.kernel.Name, r.kernel.Arch, release, boot, tests, wall, r.passed, r.failed, r.skipped, nestedColumn(r), r.status)
	}
	tw.Flush()

	printFeatureMatrix(w, reports)

	for _, r := range reports {
		if len(r.problems) == 0 && len(r.failures) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s: %s\n", r.kernel.Name, r.status)
		for _, p := range r.problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
		for _, f := range r.failures {
			fmt.Fprintf(w, "  %s %s: %s\n", f.binary, f.name, f.state)
			for _, line := range f.output {
				fmt.Fprintf(w, "      | %s\n", line)
			}
		}
	}
}

// printFeatureMatrix writes, for each feature any test reported, its min version and
// whether it ran or was skipped on each kernel.
func printFeatureMatrix(w io.Writer, reports []kernelReport) {
	mins := make(map[string]string)
	for _, r := range reports {
		if r.boot == nil {
			continue
		}
		for _, c := range r.boot.session.claims {
			if mins[c.Name] == "" {
				mins[c.Name] = c.Min
			}
		}
	}
	if len(mins) == 0 {
		return
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "FEATURE\tMIN")
	for _, r := range reports {
		fmt.Fprintf(tw, "\t%s", r.kernel.Name)
	}
	fmt.Fprintln(tw)

	for _, name := range slices.Sorted(maps.Keys(mins)) {
		fmt.Fprintf(tw, "%s\t%s", name, mins[name])
		for _, r := range reports {
			result := "-"
			if r.boot != nil {
				result = valueOr(featureResults(r.boot.session.claims)[name], "-")
			}
			fmt.Fprintf(tw, "\t%s", result)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

func formatSeconds(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func valueOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
