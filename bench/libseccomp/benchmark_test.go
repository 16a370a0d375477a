package main

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

// BenchmarkRoundTrip is the round trip of one intercepted getppid served
// with libseccomp-golang, with and without SYNC_WAKE_UP; see the benchmark
// of the same name in bench/.
func BenchmarkRoundTrip(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(impl.Name+"/"+harness.BenchmarkName(1, sync), func(b *testing.B) {
			harness.Benchmark(b, impl, 1, sync)
		})
	}
}

// BenchmarkScale serves 1 to 1000 targets with libseccomp-golang; see the
// benchmark of the same name in bench/.
func BenchmarkScale(b *testing.B) {
	for _, targets := range []int{1, 10, 100, 1000} {
		b.Run(impl.Name+"/"+harness.BenchmarkName(targets, false), func(b *testing.B) {
			harness.Benchmark(b, impl, targets, false)
		})
	}
}
