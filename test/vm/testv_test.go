package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTestLog(t *testing.T) {
	cases := []struct {
		name       string
		output     string
		results    []string // "OUTCOME Name"
		incomplete []string
		counts     [3]int // passed, failed, skipped
	}{
		{
			name: "nested subtests",
			output: `=== RUN   TestNested
=== RUN   TestNested/a
=== RUN   TestNested/a/deep_one
    a_test.go:14: x
=== RUN   TestNested/a/fails
    a_test.go:15: bad value
=== RUN   TestNested/b(x)
    a_test.go:17: no
--- FAIL: TestNested (0.00s)
    --- FAIL: TestNested/a (0.00s)
        --- PASS: TestNested/a/deep_one (0.00s)
        --- FAIL: TestNested/a/fails (0.00s)
    --- SKIP: TestNested/b(x) (0.00s)
FAIL`,
			results: []string{"FAIL TestNested", "FAIL TestNested/a", "PASS TestNested/a/deep_one", "FAIL TestNested/a/fails", "SKIP TestNested/b(x)"},
			counts:  [3]int{1, 3, 1},
		},
		{
			name: "parallel subtests",
			output: `=== RUN   TestParallel
=== RUN   TestParallel/p1
=== PAUSE TestParallel/p1
=== RUN   TestParallel/p2
=== PAUSE TestParallel/p2
=== CONT  TestParallel/p1
=== CONT  TestParallel/p2
    a_test.go:21: p2
=== NAME  TestParallel/p1
    a_test.go:21: p1
--- PASS: TestParallel (0.00s)
    --- PASS: TestParallel/p2 (0.01s)
    --- PASS: TestParallel/p1 (0.01s)
PASS`,
			results: []string{"PASS TestParallel", "PASS TestParallel/p2", "PASS TestParallel/p1"},
			counts:  [3]int{3, 0, 0},
		},
		{
			name: "output without newline runs into the result",
			output: `=== RUN   TestNoNewline
partial--- PASS: TestNoNewline (0.00s)
=== RUN   TestNext
partial=== RUN   TestNext/sub
--- PASS: TestNext (1.25s)
    --- PASS: TestNext/sub (1.25s)`,
			results: []string{"PASS TestNoNewline", "PASS TestNext", "PASS TestNext/sub"},
			counts:  [3]int{3, 0, 0},
		},
		{
			name: "kernel message and child output interleaved",
			output: `=== RUN   TestReexec
[    3.369321] random: crng init done
    notif_test.go:40: child output:
        === RUN   TestReexec
        --- PASS: TestReexec (0.00s)
        PASS
--- FAIL: TestReexec (0.20s)
=== RUN   TestAfter
--- PASS: TestAfter (0.00s)`,
			results: []string{"FAIL TestReexec", "PASS TestAfter"},
			counts:  [3]int{1, 1, 0},
		},
		{
			name: "panic in a subtest",
			output: `=== RUN   TestPass
--- PASS: TestPass (0.00s)
=== RUN   TestPanic
=== RUN   TestPanic/inner
--- FAIL: TestPanic (0.00s)
    --- FAIL: TestPanic/inner (0.00s)
panic: boom [recovered, repanicked]

goroutine 21 [running]:
testing.tRunner.func1.2({0x551fe0, 0x595860})`,
			results: []string{"PASS TestPass", "FAIL TestPanic", "FAIL TestPanic/inner"},
			counts:  [3]int{1, 2, 0},
		},
		{
			name: "os.Exit leaves no result",
			output: `=== RUN   TestFirst
--- SKIP: TestFirst (0.00s)
=== RUN   TestExit
exits`,
			results:    []string{"SKIP TestFirst"},
			incomplete: []string{"TestExit"},
			counts:     [3]int{0, 0, 1},
		},
		{
			name: "timeout leaves the parent and the running subtest",
			output: `=== RUN   TestHang
=== RUN   TestHang/done
--- PASS: TestHang/done (0.00s)
=== RUN   TestHang/stuck
panic: test timed out after 1s
	running tests:
		TestHang/stuck (1s)`,
			results:    []string{"PASS TestHang/done"},
			incomplete: []string{"TestHang", "TestHang/stuck"},
			counts:     [3]int{1, 0, 0},
		},
		{
			name: "VM stopped mid-line",
			output: `=== RUN   TestA
--- PASS: TestA (0.00s)
=== RUN   TestB
    b_test.go:3: wai`,
			results:    []string{"PASS TestA"},
			incomplete: []string{"TestB"},
			counts:     [3]int{1, 0, 0},
		},
		{
			name: "repeated run with -test.count",
			output: `=== RUN   TestA
--- PASS: TestA (0.00s)
=== RUN   TestA
--- FAIL: TestA (0.00s)`,
			results: []string{"FAIL TestA"},
			counts:  [3]int{0, 1, 0},
		},
		{
			name:   "no tests",
			output: "testing: warning: no tests to run\nPASS",
			counts: [3]int{0, 0, 0},
		},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log := newTestLog()
			for line := range strings.SplitSeq(c.output, "\n") {
				log.Line(line)
			}

			var results []string
			for _, r := range log.Results() {
				results = append(results, string(r.Outcome)+" "+r.Name)
			}
			if !slices.Equal(results, c.results) {
				t.Errorf("results %q, expected %q", results, c.results)
			}
			if incomplete := log.Incomplete(); !slices.Equal(incomplete, c.incomplete) {
				t.Errorf("incomplete %q, expected %q", incomplete, c.incomplete)
			}
			passed, failed, skipped := log.Counts()
			if counts := [3]int{passed, failed, skipped}; counts != c.counts {
				t.Errorf("counts (passed, failed, skipped) %v, expected %v", counts, c.counts)
			}
		})
	}
}

func TestTestLogElapsed(t *testing.T) {
	log := newTestLog()
	log.Line("=== RUN   TestSlow")
	log.Line("--- PASS: TestSlow (12.50s)")

	results := log.Results()
	if len(results) != 1 {
		t.Fatalf("%d results, expected 1", len(results))
	}
	if results[0].Elapsed != 12500*time.Millisecond {
		t.Errorf("elapsed %v, expected 12.5s", results[0].Elapsed)
	}
}

func TestTestLogOutput(t *testing.T) {
	log := newTestLog()
	for _, line := range []string{
		"=== RUN   TestA",
		"=== RUN   TestA/one",
		"=== PAUSE TestA/one",
		"=== RUN   TestA/two",
		"    a_test.go:5: from two",
		"=== CONT  TestA/one",
		"    a_test.go:9: from one",
		"--- FAIL: TestA/one (0.00s)",
		"panic: after the results",
	} {
		log.Line(line)
	}

	if output, _ := log.Output("TestA/one"); !slices.Equal(output, []string{"    a_test.go:9: from one"}) {
		t.Errorf("output of TestA/one %q", output)
	}
	if output, _ := log.Output("TestA/two"); !slices.Equal(output, []string{"    a_test.go:5: from two"}) {
		t.Errorf("output of TestA/two %q", output)
	}
	if tail := log.Tail(); !slices.Equal(tail, []string{"panic: after the results"}) {
		t.Errorf("tail %q, expected the panic line", tail)
	}
}

func TestTestLogOutputLimits(t *testing.T) {
	log := newTestLog()
	log.Line("=== RUN   TestNoisy")
	for range maxTestOutputLines + 5 {
		log.Line("noise")
	}
	log.Line("--- PASS: TestNoisy (0.00s)")
	for range maxBinaryOutputLines + 5 {
		log.Line("trailer")
	}

	output, dropped := log.Output("TestNoisy")
	if len(output) != maxTestOutputLines || dropped != 5 {
		t.Errorf("kept %d lines and dropped %d, expected %d and 5", len(output), dropped, maxTestOutputLines)
	}
	if len(log.Tail()) != maxBinaryOutputLines {
		t.Errorf("tail has %d lines, expected %d", len(log.Tail()), maxBinaryOutputLines)
	}
}
