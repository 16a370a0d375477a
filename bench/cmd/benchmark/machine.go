package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// machine describes where and how the benchmark ran.
type machine struct {
	Command    string
	Date       string
	CPU        string
	CPUs       int
	GOMAXPROCS int
	Kernel     string
	Go         string
	GCC        string
	Libseccomp string
	SyncWakeUp bool // the kernel has SYNC_WAKE_UP (Linux 6.6)
	LoadStart  string
	LoadEnd    string
	Duration   time.Duration
}

func describeMachine() machine {
	m := machine{
		Date:       time.Now().UTC().Format("2006-01-02 15:04 MST"),
		CPU:        cpuModel(),
		CPUs:       runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go:         runtime.Version(),
		GCC:        firstLine("gcc", "--version"),
		Libseccomp: firstLine("dpkg-query", "-W", "-f", "${Version}", "libseccomp-dev"),
		LoadStart:  loadAverage(),
	}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		m.Kernel = unix.ByteSliceToString(uts.Release[:])
	}
	m.SyncWakeUp = atLeast(m.Kernel, 6, 6)
	return m
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	model, virtual := "unknown", false
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok && model == "unknown" {
			model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
		if flags, ok := strings.CutPrefix(line, "flags"); ok && strings.Contains(flags+" ", " hypervisor ") {
			virtual = true
		}
	}
	if virtual {
		model += " (virtual machine)"
	}
	return model
}

func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// loadAverage returns the 1, 5 and 15 minute load averages from
// /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// atLeast reports whether kernel release is major.minor or later.
func atLeast(release string, major, minor int) bool {
	var v [2]int
	parts := strings.SplitN(release, ".", 3)
	for i := 0; i < 2 && i < len(parts); i++ {
		for _, c := range parts[i] {
			if c < '0' || c > '9' {
				break
			}
			v[i] = v[i]*10 + int(c-'0')
		}
	}
	return v[0] > major || v[0] == major && v[1] >= minor
}
