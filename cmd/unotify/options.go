package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp/sysnum"
)

// maxErrno is the largest errno a listener can respond with (MAX_ERRNO).
const maxErrno = 4095

// config is unotify's parsed command line.
type config struct {
	trace   []string   // names given with -trace; empty for the default set
	deny    []denyRule // from -deny, in the order given
	json    bool
	output  string // -o, or "" for stdout
	nested  bool
	command []string

	waitKillable bool
	// waitKillableSet is set when -wait-killable was given, so that a
	// kernel without the flag is an error instead of a silent fallback.
	waitKillableSet bool

	syncWakeUp bool
	// syncWakeUpSet is set when -sync-wake-up was given, so that a kernel
	// without the flag gets a warning instead of a silent fallback.
	syncWakeUpSet bool
}

// denyRule is one -deny NAME=ERRNO.
type denyRule struct {
	name  string
	nr    uint32
	errno unix.Errno
}

// usageError is a mistake in unotify's flags or arguments.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// newFlagSet returns unotify's flags, bound to cfg.
func newFlagSet(cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet("unotify", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseArgs reports errors itself
	fs.Var((*traceFlag)(&cfg.trace), "trace",
		"intercept the comma-separated system calls in `LIST` instead of the default\n"+
			"set, and let them run (CONTINUE); repeatable. A call is a name of Linux 6.1\n"+
			"or a number, for newer calls")
	fs.Var((*denyFlag)(&cfg.deny), "deny",
		"intercept system call NAME and make it fail with ERRNO without running it,\n"+
			"for each `NAME=ERRNO` given; ERRNO is a name such as EACCES or a number\n"+
			"from 1 to 4095. NAME is added to the intercepted set")
	fs.BoolVar(&cfg.json, "json", false,
		"write the report as one JSON object per line")
	fs.StringVar(&cfg.output, "o", "",
		"write the report to `FILE`, created or truncated, instead of standard output")
	fs.BoolVar(&cfg.nested, "nested", false,
		"install the listener with ALLOW_NESTED_LISTENERS, so that the command can\n"+
			"install listeners of its own, such as another unotify's; fails at once on\n"+
			"a kernel without nested listeners, which no released kernel has")
	fs.BoolVar(&cfg.waitKillable, "wait-killable", true,
		"install the listener with WAIT_KILLABLE_RECV (Linux 5.19): once unotify has\n"+
			"received a call, only a fatal signal interrupts it. Without it, a signal that\n"+
			"arrives while a call waits for the response restarts the call, which is then\n"+
			"reported again. By default it is used only if the kernel has it; giving\n"+
			"-wait-killable or -wait-killable=true explicitly makes its absence an error")
	fs.BoolVar(&cfg.syncWakeUp, "sync-wake-up", true,
		"set SYNC_WAKE_UP on the listener (Linux 6.6), so that the kernel runs the\n"+
			"command and unotify on the same CPU while unotify responds to a call,\n"+
			"which makes tracing faster on an idle machine. By default it is used only\n"+
			"if the kernel has it; giving -sync-wake-up=true explicitly makes its\n"+
			"absence a warning")
	return fs
}

// parseArgs parses unotify's command line, not including the program name.
// It returns flag.ErrHelp for -h and a *usageError for any mistake.
func parseArgs(args []string) (*config, error) {
	cfg := new(config)
	fs := newFlagSet(cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		return nil, &usageError{err.Error()}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "wait-killable":
			cfg.waitKillableSet = true
		case "sync-wake-up":
			cfg.syncWakeUpSet = true
		}
	})

	cfg.command = fs.Args()
	if len(cfg.command) == 0 {
		return nil, &usageError{"missing command: give it after the flags, as in: unotify -- cat /etc/hostname"}
	}
	if cfg.command[0] == "" {
		return nil, &usageError{"empty command name"}
	}
	return cfg, nil
}

// intercepted returns the names of the system calls to intercept: the -trace
// list or the default set, and every denied call.
func (cfg *config) intercepted() []string {
	names := slices.Clone(cfg.trace)
	if len(names) == 0 {
		names = availableDefaults()
	}
	for _, rule := range cfg.deny {
		names = append(names, rule.name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// availableDefaults returns the names in defaultTrace that the running
// architecture has.
func availableDefaults() []string {
	var names []string
	for _, name := range defaultTrace {
		if _, ok := sysnum.Number(name); ok {
			names = append(names, name)
		}
	}
	return names
}

// traceFlag is the value of -trace: the system call names of every -trace
// given.
type traceFlag []string

func (t *traceFlag) String() string { return strings.Join(*t, ",") }

func (t *traceFlag) Set(s string) error {
	names, err := parseSyscallList(s)
	if err != nil {
		return err
	}
	*t = append(*t, names...)
	return nil
}

// parseSyscallList parses a comma-separated list of system call names or
// numbers. Each name must exist on the architecture unotify was built for.
func parseSyscallList(s string) ([]string, error) {
	var names []string
	for item := range strings.SplitSeq(s, ",") {
		name := strings.TrimSpace(item)
		if name == "" {
			return nil, fmt.Errorf("empty system call name in %q", s)
		}
		if _, ok := syscallNumber(name); !ok {
			return nil, unknownSyscallError(name)
		}
		names = append(names, name)
	}
	return names, nil
}

// syscallNumber returns the number of the system call called name on this
// architecture, or the number name spells in decimal, for calls newer than
// the name tables.
func syscallNumber(name string) (uint32, bool) {
	if nr, ok := sysnum.Number(name); ok {
		return nr, true
	}
	if name == "" || name[0] < '0' || name[0] > '9' {
		return 0, false
	}
	nr, err := strconv.ParseUint(name, 10, 32)
	// On amd64, numbers from 0x40000000 up are x32 calls, which the filter
	// kills before it looks for the calls to notify.
	if err != nil || (runtime.GOARCH == "amd64" && nr >= 0x40000000) {
		return 0, false
	}
	return uint32(nr), true
}

func unknownSyscallError(name string) error {
	return fmt.Errorf("unknown system call %q on %s (the names are those of Linux 6.1; give a newer call by its number)", name, runtime.GOARCH)
}

// denyFlag is the value of -deny: every rule given.
type denyFlag []denyRule

func (d *denyFlag) String() string {
	var parts []string
	for _, rule := range *d {
		parts = append(parts, rule.name+"="+string(appendErrno(nil, rule.errno)))
	}
	return strings.Join(parts, ",")
}

func (d *denyFlag) Set(s string) error {
	rule, err := parseDeny(s)
	if err != nil {
		return err
	}
	for _, prev := range *d {
		if prev.nr == rule.nr && prev.errno != rule.errno {
			return fmt.Errorf("%s is already denied with %s", prev.name, appendErrno(nil, prev.errno))
		}
	}
	*d = append(*d, rule)
	return nil
}

// parseDeny parses NAME=ERRNO.
func parseDeny(s string) (denyRule, error) {
	name, value, ok := strings.Cut(s, "=")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || value == "" {
		return denyRule{}, fmt.Errorf("want NAME=ERRNO, such as connect=EACCES")
	}

	nr, ok := syscallNumber(name)
	if !ok {
		return denyRule{}, unknownSyscallError(name)
	}
	errno, err := parseErrno(value)
	if err != nil {
		return denyRule{}, err
	}
	return denyRule{name: name, nr: nr, errno: errno}, nil
}

// parseErrno parses an errno name, such as EACCES in any letter case, or a
// decimal number from 1 to maxErrno.
func parseErrno(s string) (unix.Errno, error) {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 || n > maxErrno {
			return 0, fmt.Errorf("invalid errno %q: want a name such as EACCES or a number from 1 to %d", s, maxErrno)
		}
		return unix.Errno(n), nil
	}

	if errno, ok := errnoByName()[strings.ToUpper(s)]; ok {
		return errno, nil
	}
	return 0, fmt.Errorf("unknown errno name %q: want a name such as EACCES or a number from 1 to %d", s, maxErrno)
}

// errnoByName maps every errno name of the running architecture, and the
// aliases C defines, to its value.
var errnoByName = sync.OnceValue(func() map[string]unix.Errno {
	m := map[string]unix.Errno{
		"EWOULDBLOCK": unix.EWOULDBLOCK,
		"EDEADLOCK":   unix.EDEADLOCK,
		"ENOTSUP":     unix.ENOTSUP,
	}
	for errno := unix.Errno(1); errno <= maxErrno; errno++ {
		if name := unix.ErrnoName(errno); name != "" {
			m[name] = errno
		}
	}
	return m
})
