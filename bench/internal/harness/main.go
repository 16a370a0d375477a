package harness

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

// Main is the main function of a Go supervisor program. It parses the same
// flags as the C supervisor, runs one [Measure] with the implementation
// that -impl names (the first of impls by default), prints the [Result] as
// JSON on stdout and exits; on failure it prints the error on stderr and
// exits with status 1.
func Main(impls ...Impl) {
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	implName := fs.String("impl", impls[0].Name, "implementation to run")
	var cfg Config
	fs.StringVar(&cfg.Target, "t", "", "path of the compiled target program (required)")
	fs.IntVar(&cfg.Targets, "k", 1, "number of target processes")
	fs.IntVar(&cfg.Calls, "n", 10000, "timed getppid calls per target")
	fs.IntVar(&cfg.Warmup, "w", 0, "untimed getppid calls per target before the timed ones")
	fs.StringVar(&cfg.Samples, "o", "", "file the first target writes its round trips to (uint32 nanoseconds)")
	fs.BoolVar(&cfg.SyncWakeUp, "s", false, "set SYNC_WAKE_UP on every listener (Linux 6.6)")
	fs.Parse(os.Args[1:])

	if cfg.Target == "" {
		fmt.Fprintln(os.Stderr, "supervisor: -t is required")
		os.Exit(2)
	}
	impl, err := Lookup(impls, *implName)
	if err != nil {
		fmt.Fprintf(os.Stderr, "supervisor: %v\n", err)
		os.Exit(2)
	}

	res, err := Measure(impl, cfg, Hooks{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "supervisor: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "supervisor: %v\n", err)
		os.Exit(1)
	}
}
