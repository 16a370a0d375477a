package bench_test

import (
	"os"
	"testing"

	"github.com/seccompgo/seccomp/bench/internal/harness"
)

func TestMain(m *testing.M) {
	code := m.Run()
	harness.RemoveBuilds()
	os.Exit(code)
}

// BenchmarkRoundTrip is the round trip of one intercepted getppid between
// one target and the supervisor, with and without SYNC_WAKE_UP. ns/op is
// the round trip as the supervisor sees it, and allocs/op counts every
// allocation of the supervisor process during the run.
func BenchmarkRoundTrip(b *testing.B) {
	for _, impl := range []harness.Impl{harness.ListenerImpl, harness.BlockingImpl} {
		for _, sync := range []bool{false, true} {
			b.Run(impl.Name+"/"+harness.BenchmarkName(1, sync), func(b *testing.B) {
				harness.Benchmark(b, impl, 1, sync)
			})
		}
	}
}

// BenchmarkScale serves 1 to 1000 targets, each with its own listener,
// from this process: ns/op is the time per round trip over all targets,
// and the threads metrics are the process's OS threads with every
// listener idle and after the run.
func BenchmarkScale(b *testing.B) {
	for _, impl := range []harness.Impl{harness.ListenerImpl, harness.BlockingImpl} {
		for _, targets := range []int{1, 10, 100, 1000} {
			b.Run(impl.Name+"/"+harness.BenchmarkName(targets, false), func(b *testing.B) {
				harness.Benchmark(b, impl, targets, false)
			})
		}
	}
}
