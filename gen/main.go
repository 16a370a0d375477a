// Command gen writes the generated files of package seccomp and package
// sysnum from the Linux uapi headers. It runs cmd/cgo -godefs and the C
// preprocessor with one real C compiler per GOARCH, as listed in targets.
//
// Run it from the module root, directly or through go generate:
//
//	go run ./gen
//
// gen/README.md lists the Debian packages that it needs.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// modulePath identifies the module root that gen writes into.
const modulePath = "github.com/seccompgo/seccomp"

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")

	root := flag.String("root", ".", "module `directory` to write the generated files into")
	cache := flag.String("cache", defaultCacheDir(), "`directory` that caches kernel headers built from source; it must be outside the module")
	keep := flag.Bool("keep", false, "keep the temporary directory with the cgo -godefs inputs and print its path")
	flag.Parse()
	if flag.NArg() != 0 {
		log.Fatalf("unexpected arguments %q; gen takes only flags", flag.Args())
	}

	if err := run(context.Background(), *root, *cache, *keep); err != nil {
		log.Fatal(err)
	}
}

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "seccompgo-gen")
	}
	return filepath.Join(dir, "seccompgo-gen")
}

// An archResult is everything generated for one target.
type archResult struct {
	Target   target
	Linux    string // "major.minor" of the kernel headers
	Types    types
	Syscalls []syscall
}

func run(ctx context.Context, root, cache string, keep bool) error {
	if err := checkRoot(root, cache); err != nil {
		return err
	}
	if err := checkTools(); err != nil {
		return err
	}

	work, err := os.MkdirTemp("", "seccompgo-gen-")
	if err != nil {
		return err
	}
	if keep {
		log.Printf("keeping work directory %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	// Build any headers from source first, one at a time, so parallel
	// targets never race on the cache.
	flags := make([][]string, len(targets))
	for i, t := range targets {
		flags[i], err = includeFlags(ctx, t, cache)
		if err != nil {
			return err
		}
	}

	results := make([]archResult, len(targets))
	errs := make([]error, len(targets))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = generateTarget(ctx, t, flags[i], work)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	files, err := render(results)
	if err != nil {
		return err
	}
	return writeFiles(root, files)
}

// generateTarget runs the compiler passes for one target.
func generateTarget(ctx context.Context, t target, includeFlags []string, work string) (archResult, error) {
	r := archResult{Target: t}

	macros, err := readMacros(ctx, t, includeFlags)
	if err != nil {
		return r, err
	}
	if err := checkTarget(t, macros); err != nil {
		return r, err
	}
	r.Linux, err = linuxVersion(macros)
	if err != nil {
		return r, fmt.Errorf("%s: %v", t.GOARCH, err)
	}

	out, err := runGodefs(ctx, t, includeFlags, work)
	if err != nil {
		return r, err
	}
	r.Types, err = parseGodefs(out)
	if err != nil {
		return r, fmt.Errorf("%s: %v", t.GOARCH, err)
	}

	r.Syscalls, err = readSyscalls(ctx, t, includeFlags, macros)
	if err != nil {
		return r, fmt.Errorf("%s: %v", t.GOARCH, err)
	}
	return r, nil
}

// checkRoot makes sure root is this module and cache lies outside it, so
// no cached header ends up in the repository.
func checkRoot(root, cache string) error {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return fmt.Errorf("run gen from the module root: %v", err)
	}
	if !bytes.Contains(mod, []byte("module "+modulePath+"\n")) {
		return fmt.Errorf("%s is not the root of module %s", root, modulePath)
	}

	absRoot, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	absCache, err := filepath.Abs(cache)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(absRoot, absCache); err == nil && !strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cache directory %s is inside the module; choose one outside it", cache)
	}
	return nil
}

// checkTools reports every missing compiler or build tool at once, with
// the apt-get command that installs all of them.
func checkTools() error {
	var missing []string
	need := map[string]bool{}
	for _, t := range targets {
		if _, err := exec.LookPath(t.CC[0]); err != nil {
			missing = append(missing, t.CC[0])
		}
		if t.KernelArch != "" {
			if _, err := os.Stat(kernelSource); err != nil {
				missing = append(missing, kernelSource)
			}
			for _, tool := range []string{"make", "rsync", "tar", "xz", "gcc"} {
				if _, err := exec.LookPath(tool); err != nil {
					missing = append(missing, tool)
				}
			}
		}
		for _, p := range t.Packages {
			need[p] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}

	var pkgs []string
	for p := range need {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	return fmt.Errorf("missing %s; install them with:\n\tapt-get install -y --no-install-recommends %s",
		strings.Join(missing, ", "), strings.Join(pkgs, " "))
}
