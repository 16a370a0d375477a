// Package bench holds the benchmark harness of this module: the round trip
// of one intercepted system call and the cost of many listeners, for this
// package's Listener, its raw ioctl functions, a C reference supervisor and
// libseccomp-golang. See README.md in this directory for how to run it.
//
// The package itself builds the C programs in c/; the measurement code is
// in internal/harness, the programs in cmd/ and libseccomp/, and the Go
// benchmarks in this package's tests.
package bench

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed c/target.c c/supervisor.c
var cSources embed.FS

// CPrograms are the paths of the compiled C programs.
type CPrograms struct {
	Target     string // the target, from c/target.c
	Supervisor string // the C reference supervisor, from c/supervisor.c
}

// BuildC compiles the C programs into dir with gcc -O2 and returns their
// paths. It fails with gcc's output when gcc is missing or rejects a file.
func BuildC(dir string) (CPrograms, error) {
	progs := CPrograms{Target: filepath.Join(dir, "target"), Supervisor: filepath.Join(dir, "supervisor")}
	for _, p := range []struct{ name, out string }{
		{"target.c", progs.Target},
		{"supervisor.c", progs.Supervisor},
	} {
		code, err := cSources.ReadFile("c/" + p.name)
		if err != nil {
			return CPrograms{}, err
		}
		src := filepath.Join(dir, p.name)
		if err := os.WriteFile(src, code, 0o644); err != nil {
			return CPrograms{}, err
		}
		out, err := exec.Command("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", p.out, src).CombinedOutput()
		if err != nil {
			return CPrograms{}, fmt.Errorf("build %s with gcc: %v\n%s", p.name, err, strings.TrimSpace(string(out)))
		}
	}
	return progs, nil
}
