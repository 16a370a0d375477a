// Command benchmark runs every benchmark supervisor against the same
// targets and prints the round trip per intercepted system call and the
// cost of many listeners, with ratios to the C reference supervisor.
//
// It builds the C programs with gcc, the pure-Go supervisor and the
// libseccomp-golang supervisor (cgo, needs libseccomp-dev), then runs:
//
//   - round trip: one target making -calls intercepted getppid calls, for
//     each implementation with and without SYNC_WAKE_UP, -runs times,
//     interleaved so that a change in the machine's load hits every
//     implementation alike; the C supervisor runs twice, blocking in RECV
//     and polling before RECV;
//   - scale: 1, 10, 100 and 1000 targets served by one supervisor process,
//     -scale-calls calls in total, reporting throughput and the
//     supervisor's OS threads.
//
// With -docs it also rewrites the generated part of docs/benchmarks.md and
// the chart docs/benchmarks-roundtrip.png. Run it through bench/run, which
// installs gcc and libseccomp-dev first; see bench/README.md.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/seccompgo/seccomp/bench"
	"github.com/seccompgo/seccomp/bench/internal/harness"
)

type options struct {
	runs       int
	calls      int
	warmup     int
	scaleRuns  int
	scaleCalls int
	targets    []int
	docs       bool
	quick      bool
}

func main() {
	var opts options
	targets := "1,10,100,1000"
	flag.IntVar(&opts.runs, "runs", 7, "runs of the round-trip benchmark per implementation and wake-up mode")
	flag.IntVar(&opts.calls, "calls", 20000, "timed getppid calls per round-trip run")
	flag.IntVar(&opts.warmup, "warmup", 2000, "untimed getppid calls before the timed ones in each round-trip run")
	flag.IntVar(&opts.scaleRuns, "scale-runs", 3, "runs of the scale benchmark per implementation and target count")
	flag.IntVar(&opts.scaleCalls, "scale-calls", 20000, "getppid calls per scale run, spread over the targets (at least 1 per target)")
	flag.StringVar(&targets, "targets", targets, "comma-separated target counts of the scale benchmark")
	flag.BoolVar(&opts.docs, "docs", false, "rewrite the results in docs/benchmarks.md and the chart docs/benchmarks-roundtrip.png")
	flag.BoolVar(&opts.quick, "quick", false, "run each benchmark once with few calls, to check that everything works (implies no -docs)")
	flag.Parse()

	var err error
	if opts.targets, err = parseCounts(targets); err != nil {
		fatalf("-targets: %v", err)
	}
	if opts.quick {
		opts.runs, opts.calls, opts.warmup, opts.scaleRuns, opts.scaleCalls, opts.docs = 1, 200, 20, 1, 1000, false
	}
	if opts.runs < 1 || opts.calls < 100 || opts.scaleRuns < 1 || opts.warmup < 0 {
		fatalf("want -runs and -scale-runs of at least 1, -calls of at least 100 and -warmup not negative")
	}

	if err := run(opts); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchmark: "+format+"\n", args...)
	os.Exit(1)
}

func parseCounts(s string) ([]int, error) {
	var counts []int
	for _, field := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("invalid target count %q: want a positive integer", field)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

func run(opts options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "seccomp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	step("building the supervisors in %s", dir)
	impls, err := build(root, dir)
	if err != nil {
		return err
	}

	env := describeMachine()
	env.Command = commandLine(opts)
	syncModes := []bool{false}
	if env.SyncWakeUp {
		syncModes = append(syncModes, true)
	} else {
		step("kernel %s has no SYNC_WAKE_UP (Linux 6.6): measuring the default wake-up only", env.Kernel)
	}

	started := time.Now()
	rt, err := measureRoundTrips(impls, syncModes, opts, dir)
	if err != nil {
		return err
	}
	scale, err := measureScale(impls, opts)
	if err != nil {
		return err
	}
	env.LoadEnd = loadAverage()
	env.Duration = time.Since(started).Round(time.Second)

	rep := &report{env: env, opts: opts, impls: impls, roundTrips: rt, scale: scale}
	fmt.Println()
	if opts.quick {
		fmt.Println("-quick: too few calls for these numbers to mean anything; they only show that every benchmark runs.")
		fmt.Println()
	}
	fmt.Print(rep.text())

	if opts.docs {
		doc := filepath.Join(root, "docs", "benchmarks.md")
		chart := filepath.Join(root, "docs", "benchmarks-roundtrip.png")
		if err := rep.writeDocs(doc, chart); err != nil {
			return err
		}
		step("wrote %s and %s", doc, chart)
	}
	return nil
}

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchmark: "+format+"\n", args...)
}

// moduleRoot returns the directory of the main module, this repository.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root with go list -m (run from inside the repository): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// implementation is one supervisor program and the flags that select it.
type implementation struct {
	Name  string   // as in harness.Result.Impl
	Label string   // for tables and the chart
	Argv  []string // program and leading arguments
	// RoundTripOnly leaves the implementation out of the scale benchmark.
	RoundTripOnly bool
}

// build compiles every supervisor into dir and returns them in the order
// of the tables, the C reference first.
func build(root, dir string) ([]implementation, error) {
	progs, err := bench.BuildC(dir)
	if err != nil {
		return nil, fmt.Errorf("%w\ninstall gcc (apt-get install gcc) or run bench/run, which does", err)
	}

	goSupervisor := filepath.Join(dir, "supervisor-go")
	if err := goBuild(root, "CGO_ENABLED=0", goSupervisor, "./bench/cmd/supervisor"); err != nil {
		return nil, err
	}
	libSupervisor := filepath.Join(dir, "supervisor-libseccomp")
	if err := goBuild(filepath.Join(root, "bench", "libseccomp"), "CGO_ENABLED=1", libSupervisor, "."); err != nil {
		return nil, fmt.Errorf("%w\nthe libseccomp-golang supervisor needs libseccomp-dev and gcc: run bench/run, which installs them", err)
	}
	targetProgram = progs.Target

	return []implementation{
		{Name: "c", Label: "C reference (raw ioctls, blocking RECV)", Argv: []string{progs.Supervisor}},
		{Name: "c-poll", Label: "C, poll then RECV (as a receiver that Close can wake)", Argv: []string{progs.Supervisor, "-p"}, RoundTripOnly: true},
		{Name: "listener", Label: "seccomp.Listener (runtime poller)", Argv: []string{goSupervisor, "-impl", "listener"}},
		{Name: "blocking", Label: "seccomp.IoctlNotifRecv/Send (locked thread)", Argv: []string{goSupervisor, "-impl", "blocking"}},
		{Name: "libseccomp", Label: "libseccomp-golang " + libseccompGolangVersion(root) + " (cgo)", Argv: []string{libSupervisor, "-impl", "libseccomp"}},
	}, nil
}

// targetProgram is the compiled target, set by build.
var targetProgram string

func goBuild(dir, cgo, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), cgo)
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %v\n%s", pkg, dir, err, strings.TrimSpace(string(output)))
	}
	return nil
}

// libseccompGolangVersion returns the version of libseccomp-golang that
// bench/libseccomp/go.mod requires.
func libseccompGolangVersion(root string) string {
	data, err := os.ReadFile(filepath.Join(root, "bench", "libseccomp", "go.mod"))
	if err != nil {
		return "(unknown version)"
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "github.com/seccomp/libseccomp-golang" {
			return fields[1]
		}
	}
	return "(unknown version)"
}

// supervise runs one supervisor with the shared flags and returns its
// result.
func supervise(impl implementation, cfg harness.Config) (harness.Result, error) {
	args := append(impl.Argv[1:len(impl.Argv):len(impl.Argv)],
		"-t", cfg.Target,
		"-k", strconv.Itoa(cfg.Targets),
		"-n", strconv.Itoa(cfg.Calls),
		"-w", strconv.Itoa(cfg.Warmup),
	)
	if cfg.Samples != "" {
		args = append(args, "-o", cfg.Samples)
	}
	if cfg.SyncWakeUp {
		args = append(args, "-s")
	}
	cmd := exec.Command(impl.Argv[0], args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return harness.Result{}, fmt.Errorf("%s %s: %v\n%s", impl.Name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var res harness.Result
	if err := json.Unmarshal(out, &res); err != nil {
		return harness.Result{}, fmt.Errorf("%s: invalid result %q: %v", impl.Name, out, err)
	}
	return res, nil
}

// roundTrip is the round-trip measurement of one implementation in one
// wake-up mode, pooled over the runs.
type roundTrip struct {
	Impl       implementation
	SyncWakeUp bool
	Samples    []uint32 // nanoseconds, sorted
	RunMedians []float64
	Allocs     float64 // Go heap allocations per round trip, -1 for C
}

func measureRoundTrips(impls []implementation, syncModes []bool, opts options, dir string) ([]*roundTrip, error) {
	var all []*roundTrip
	for _, impl := range impls {
		for _, sync := range syncModes {
			all = append(all, &roundTrip{Impl: impl, SyncWakeUp: sync})
		}
	}

	samplesFile := filepath.Join(dir, "samples")
	for r := range opts.runs {
		step("round trip: run %d of %d", r+1, opts.runs)
		// Start each run with another implementation, so that none always
		// runs first or last.
		for i := range all {
			rt := all[(i+r)%len(all)]
			cfg := harness.Config{
				Target: targetProgram, Targets: 1, Calls: opts.calls, Warmup: opts.warmup,
				SyncWakeUp: rt.SyncWakeUp, Samples: samplesFile,
			}
			res, err := supervise(rt.Impl, cfg)
			if err != nil {
				return nil, err
			}
			samples, err := readSamples(samplesFile, opts.calls)
			if err != nil {
				return nil, err
			}
			rt.RunMedians = append(rt.RunMedians, float64(percentile(sortSamples(samples), 0.50)))
			rt.Samples = append(rt.Samples, samples...)
			rt.Allocs += res.AllocsPerCall / float64(opts.runs)
		}
	}
	for _, rt := range all {
		sortSamples(rt.Samples)
	}
	return all, nil
}

func readSamples(path string, want int) ([]uint32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) != 4*want {
		return nil, fmt.Errorf("samples file %s has %d bytes, want %d", path, len(data), 4*want)
	}
	samples := make([]uint32, want)
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, samples); err != nil && err != io.EOF {
		return nil, err
	}
	return samples, nil
}

// scalePoint is the scale measurement of one implementation at one target
// count: the median of the runs.
type scalePoint struct {
	Impl        implementation
	Targets     int
	Throughput  float64 // round trips per second
	ThreadsIdle int
	ThreadsEnd  int
}

func measureScale(impls []implementation, opts options) ([]*scalePoint, error) {
	var points []*scalePoint
	for _, k := range opts.targets {
		calls := max(1, opts.scaleCalls/k)
		results := make(map[string][]harness.Result)
		for r := range opts.scaleRuns {
			step("scale: %d targets, run %d of %d", k, r+1, opts.scaleRuns)
			for i := range impls {
				impl := impls[(i+r)%len(impls)]
				if impl.RoundTripOnly {
					continue
				}
				cfg := harness.Config{Target: targetProgram, Targets: k, Calls: calls}
				res, err := supervise(impl, cfg)
				if err != nil {
					return nil, err
				}
				results[impl.Name] = append(results[impl.Name], res)
			}
		}
		for _, impl := range impls {
			if !impl.RoundTripOnly {
				points = append(points, summarizeScale(impl, k, results[impl.Name]))
			}
		}
	}
	return points, nil
}

func summarizeScale(impl implementation, targets int, results []harness.Result) *scalePoint {
	p := &scalePoint{Impl: impl, Targets: targets}
	rates := make([]float64, len(results))
	for i, res := range results {
		rates[i] = float64(res.Served) / (float64(res.WallNS) / 1e9)
		p.ThreadsIdle = max(p.ThreadsIdle, res.ThreadsIdle)
		p.ThreadsEnd = max(p.ThreadsEnd, res.ThreadsEnd)
	}
	p.Throughput = medianFloat(rates)
	return p
}

// commandLine returns the command that reproduces this run.
func commandLine(opts options) string {
	args := []string{"bench/run"}
	flag.Visit(func(f *flag.Flag) {
		if f.Value.String() == "true" {
			args = append(args, "-"+f.Name) // a bool flag that is set
			return
		}
		args = append(args, "-"+f.Name+"="+f.Value.String())
	})
	return strings.Join(args, " ")
}
