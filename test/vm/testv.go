package main

import (
	"regexp"
	"strconv"
	"time"
)

// outcome is the result of one test.
type outcome string

const (
	outcomePass outcome = "PASS"
	outcomeFail outcome = "FAIL"
	outcomeSkip outcome = "SKIP"
)

// testResult is one "--- PASS/FAIL/SKIP" line.
type testResult struct {
	Name    string // with its parents, as in "TestA/sub"
	Outcome outcome
	Elapsed time.Duration
}

// Limits on the output a testLog keeps for the report. The console stream has all of it.
const (
	maxTestOutputLines   = 200
	maxBinaryOutputLines = 60
)

var (
	// The markers may follow other text on the same line, because output a test writes
	// without a final newline runs into the next marker ("partial--- PASS: TestX (0.00s)").
	// Test names never contain spaces: the testing package replaces them with underscores.
	testMarker     = regexp.MustCompile(`=== (RUN|PAUSE|CONT|NAME) +(\S+)\s*$`)
	testResultLine = regexp.MustCompile(`--- (PASS|FAIL|SKIP): (\S+) \((\d+(?:\.\d+)?)s\)\s*$`)
)

// testLog parses the output of one test binary run with -test.v, a line at a time.
//
// A test that logs the -test.v output of a child process puts markers for the child's
// tests into its own output. Two rules keep those from changing the result. First, a later
// result line for the same test replaces an earlier one, because the testing package prints
// a test's own result after everything the test logged. Second, tests that started but have
// no result matter only when the binary failed (see Incomplete).
type testLog struct {
	results []testResult
	index   map[string]int // results index by test name

	started []string // test names in the order of their RUN lines
	running map[string]bool

	// current is the test that output lines belong to: the one named by the latest RUN,
	// CONT or NAME marker, until a result line ends it.
	current string
	output  map[string][]string
	dropped map[string]int

	// tail holds the latest lines outside any test, such as a panic's goroutine dump.
	tail []string
}

func newTestLog() *testLog {
	return &testLog{
		index:   make(map[string]int),
		running: make(map[string]bool),
		output:  make(map[string][]string),
		dropped: make(map[string]int),
	}
}

// Line parses one line of output, without its line ending.
func (l *testLog) Line(line string) {
	if m := testResultLine.FindStringSubmatch(line); m != nil {
		l.result(m[2], outcome(m[1]), m[3])
		return
	}

	if m := testMarker.FindStringSubmatch(line); m != nil {
		name := m[2]
		// A RUN line for a test that is already running comes from a child's logged output.
		// One for a test that has a result is a repeated run, as with -test.count.
		if m[1] == "RUN" && !l.running[name] {
			l.started = append(l.started, name)
			l.running[name] = true
		}
		l.current = name
		return
	}

	if l.current == "" {
		l.tail = append(l.tail, line)
		if len(l.tail) > maxBinaryOutputLines {
			l.tail = l.tail[1:]
		}
		return
	}
	if len(l.output[l.current]) < maxTestOutputLines {
		l.output[l.current] = append(l.output[l.current], line)
	} else {
		l.dropped[l.current]++
	}
}

func (l *testLog) result(name string, o outcome, seconds string) {
	elapsed, _ := strconv.ParseFloat(seconds, 64)
	r := testResult{Name: name, Outcome: o, Elapsed: time.Duration(elapsed * float64(time.Second))}

	if i, ok := l.index[name]; ok {
		l.results[i] = r
	} else {
		l.index[name] = len(l.results)
		l.results = append(l.results, r)
	}
	delete(l.running, name)

	// Until the next marker, output belongs to no test. With -test.v the testing package
	// prints a marker before any further output of a test.
	l.current = ""
}

// Results returns the tests with a result line, in the order of those lines.
func (l *testLog) Results() []testResult {
	return l.results
}

// Incomplete returns the tests that started but printed no result, in the order they
// started: tests that were running when the binary panicked, timed out, called os.Exit or
// the VM stopped.
func (l *testLog) Incomplete() []string {
	var names []string
	listed := make(map[string]bool)
	for _, name := range l.started {
		if l.running[name] && !listed[name] {
			names = append(names, name)
			listed[name] = true
		}
	}
	return names
}

// Output returns the lines a test printed (at most maxTestOutputLines) and the number of
// lines dropped after those.
func (l *testLog) Output(name string) ([]string, int) {
	return l.output[name], l.dropped[name]
}

// Tail returns the latest lines printed outside any test.
func (l *testLog) Tail() []string {
	return l.tail
}

// Counts returns the number of tests, subtests included, with each outcome.
func (l *testLog) Counts() (passed, failed, skipped int) {
	for _, r := range l.results {
		switch r.Outcome {
		case outcomePass:
			passed++
		case outcomeFail:
			failed++
		case outcomeSkip:
			skipped++
		}
	}
	return passed, failed, skipped
}
