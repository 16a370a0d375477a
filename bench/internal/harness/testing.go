package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/bench"
)

var (
	buildOnce sync.Once
	buildDir  string
	built     bench.CPrograms
	buildErr  error
)

// BenchmarkTarget returns the path of the target program, built with gcc
// once per test binary. It skips b when gcc is not installed and fails it
// when the build fails. Call [RemoveBuilds] from TestMain.
func BenchmarkTarget(b *testing.B) string {
	b.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		b.Skipf("the target program is built with gcc, which is not installed: %v", err)
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "seccomp-bench-")
		if buildErr == nil {
			built, buildErr = bench.BuildC(buildDir)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return built.Target
}

// RemoveBuilds removes what [BenchmarkTarget] built.
func RemoveBuilds() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Benchmark measures impl serving targets targets, b.N round trips in
// total (rounded up to a multiple of targets), and reports the time and
// allocations per round trip and the thread counts as the metrics
// threads-idle and threads. It skips b on a kernel without SYNC_WAKE_UP
// when syncWakeUp is set.
func Benchmark(b *testing.B, impl Impl, targets int, syncWakeUp bool) {
	cfg := Config{
		Target:     BenchmarkTarget(b),
		Targets:    targets,
		Calls:      (b.N + targets - 1) / targets,
		SyncWakeUp: syncWakeUp,
	}
	b.ReportAllocs()
	res, err := Measure(impl, cfg, Hooks{BeforeRelease: b.ResetTimer, AfterServe: b.StopTimer})
	if errors.Is(err, seccomp.ErrNotSupported) {
		b.Skipf("SYNC_WAKE_UP needs Linux 6.6: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.ThreadsIdle), "threads-idle")
	b.ReportMetric(float64(res.ThreadsEnd), "threads")
}

// BenchmarkName returns the sub-benchmark name for targets and a wake-up
// mode, such as "targets=1/sync_wake_up".
func BenchmarkName(targets int, syncWakeUp bool) string {
	if syncWakeUp {
		return fmt.Sprintf("targets=%d/sync_wake_up", targets)
	}
	return fmt.Sprintf("targets=%d/default", targets)
}
