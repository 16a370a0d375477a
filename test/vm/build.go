package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/seccompgo/seccomp/test/vm/internal/protocol"
)

// testPackage is a Go package whose test binary runs in the VMs.
type testPackage struct {
	ImportPath string
	Dir        string // the directory the go command builds it in
	Binary     string // file name stem of the binary in the guest, unique
}

// goPackage holds the fields of `go list -json` output used here.
type goPackage struct {
	ImportPath   string
	Dir          string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

// repoRoot returns the top directory of the git work tree around dir, or when that fails,
// the directory of the main module's go.mod.
func repoRoot(ctx context.Context, dir string) (string, error) {
	out, gitErr := commandOutput(ctx, dir, nil, "git", "rev-parse", "--show-toplevel")
	if gitErr == nil {
		return strings.TrimSpace(out), nil
	}

	out, err := commandOutput(ctx, dir, nil, "go", "env", "GOMOD")
	gomod := strings.TrimSpace(out)
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find the repository root: %v; and %s is not in a Go module", gitErr, dir)
	}
	return filepath.Dir(gomod), nil
}

// runnerDir is the runner's own directory in the module. Its tests check the host side,
// so they never run in the VMs.
const runnerDir = "test/vm"

// defaultPackages lists the packages in the module at root that have tests, except those
// in runnerDir and in the excluded directories (given relative to the module root), each
// with everything below it.
func defaultPackages(ctx context.Context, root string, excluded []string) ([]testPackage, error) {
	out, err := commandOutput(ctx, root, nil, "go", "list", "-m")
	if err != nil {
		return nil, err
	}
	module := strings.TrimSpace(out)

	all, err := listPackages(ctx, root, []string{"./..."})
	if err != nil {
		return nil, err
	}
	var pkgs []testPackage
	for _, p := range all {
		if !underAny(p.ImportPath, module, append([]string{runnerDir}, excluded...)) {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("no package in the module has tests once %s and -exclude %s are left out; name packages with -pkg", runnerDir, strings.Join(excluded, ","))
	}
	return pkgs, nil
}

// underAny reports whether importPath is one of the module's directories dirs or below one.
func underAny(importPath, module string, dirs []string) bool {
	for _, dir := range dirs {
		prefix := path.Join(module, dir)
		if importPath == prefix || strings.HasPrefix(importPath, prefix+"/") {
			return true
		}
	}
	return false
}

// resolvePackages turns -pkg arguments into packages with tests. The go command lists an
// argument that is an existing directory from inside it, so the directory may belong to
// another module. It lists any other argument, an import path or pattern, from dir.
func resolvePackages(ctx context.Context, dir string, args []string) ([]testPackage, error) {
	var pkgs []testPackage
	for _, arg := range args {
		listDir, patterns := dir, []string{arg}
		if info, err := os.Stat(arg); err == nil && info.IsDir() {
			listDir, patterns = arg, []string{"."}
		}

		found, err := listPackages(ctx, listDir, patterns)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("-pkg %s: no package with tests", arg)
		}
		pkgs = append(pkgs, found...)
	}
	return pkgs, nil
}

// listPackages runs `go list` in dir and returns the matched packages that have test
// files, with unique binary names.
func listPackages(ctx context.Context, dir string, patterns []string) ([]testPackage, error) {
	args := append([]string{"list", "-e", "-json=ImportPath,Dir,TestGoFiles,XTestGoFiles,Error"}, patterns...)
	out, err := commandOutput(ctx, dir, []string{"GOOS=linux", "CGO_ENABLED=0"}, "go", args...)
	if err != nil {
		return nil, err
	}

	var pkgs []testPackage
	decoder := json.NewDecoder(strings.NewReader(out))
	for {
		var p goPackage
		err := decoder.Decode(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse go list output: %v", err)
		}
		if p.Error != nil && p.Dir == "" {
			return nil, fmt.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		if len(p.TestGoFiles)+len(p.XTestGoFiles) > 0 {
			pkgs = append(pkgs, testPackage{ImportPath: p.ImportPath, Dir: p.Dir})
		}
	}
	return pkgs, nil
}

// nameBinaries sets each package's Binary to the last element of its import path, or
// to its whole import path with '/' replaced where two packages share that element.
func nameBinaries(pkgs []testPackage) {
	count := make(map[string]int)
	for _, p := range pkgs {
		count[path.Base(p.ImportPath)]++
	}
	for i, p := range pkgs {
		name := path.Base(p.ImportPath)
		if count[name] > 1 {
			name = strings.NewReplacer("/", "_", ".", "_").Replace(p.ImportPath)
		}
		pkgs[i].Binary = name
	}
}

// archBuild is the initramfs for one architecture: the init and every test binary.
type archBuild struct {
	initramfs string
	binaries  []string // binary names in the initramfs
	noTests   []string // packages without test files for this architecture
}

// buildOptions are the host-side settings that the guest's configuration carries.
type buildOptions struct {
	root     string // repository root, where the init's source lives
	workDir  string // temporary directory for the build
	testArgs []string
	env      []string
	timeout  time.Duration
	logf     func(format string, args ...any)
}

// buildArch compiles the init and the test binaries for arch and writes the initramfs.
func buildArch(ctx context.Context, arch string, pkgs []testPackage, opts buildOptions) (*archBuild, error) {
	dir := filepath.Join(opts.workDir, arch)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch}
	// -s -w drop the symbol table and DWARF, which shrinks the initramfs. Panics still print
	// function names and lines from the runtime's own tables.
	ldflags := "-ldflags=-s -w"

	initPath := filepath.Join(dir, "init")
	opts.logf("build init for %s", arch)
	if _, err := commandOutput(ctx, opts.root, env, "go", "build", ldflags, "-o", initPath, "./test/vm/init"); err != nil {
		return nil, err
	}

	build := &archBuild{initramfs: filepath.Join(dir, "initramfs.cpio.gz")}
	var included []testPackage
	for _, p := range pkgs {
		out := filepath.Join(dir, p.Binary+".test")
		opts.logf("build %s for %s", p.ImportPath, arch)
		if _, err := commandOutput(ctx, p.Dir, env, "go", "test", "-c", ldflags, "-o", out, "."); err != nil {
			return nil, err
		}
		// go test -c writes nothing for a package without test files for this GOARCH.
		if _, err := os.Stat(out); errors.Is(err, fs.ErrNotExist) {
			build.noTests = append(build.noTests, p.ImportPath)
			continue
		}
		included = append(included, p)
		build.binaries = append(build.binaries, p.Binary)
	}
	if len(included) == 0 {
		return nil, fmt.Errorf("no package has test files for %s", arch)
	}

	config := protocol.Config{
		Args:    append([]string{"-test.v"}, opts.testArgs...),
		Env:     append([]string{"PATH=/bin", "HOME=/root", "TMPDIR=/tmp"}, opts.env...),
		Timeout: opts.timeout,
	}
	for _, p := range included {
		config.Binaries = append(config.Binaries, protocol.Binary{
			Name: p.Binary,
			Path: "/bin/" + p.Binary + ".test",
			Dir:  "/pkg/" + p.Binary,
		})
	}

	if err := writeInitramfs(build.initramfs, initPath, dir, included, config); err != nil {
		return nil, fmt.Errorf("write initramfs for %s: %v", arch, err)
	}
	return build, nil
}

// writeInitramfs writes a gzip-compressed newc archive with the init as /init, the test
// binaries from binDir under /bin, each package's testdata directory under /pkg/<binary>,
// the configuration, the mount points and /dev/console.
func writeInitramfs(dest, initPath, binDir string, pkgs []testPackage, config protocol.Config) error {
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	defer f.Close()

	// The cpio writer keeps its first error and returns it from every later call, so the
	// calls below check it only where other errors can occur, and at Close.
	zw := gzip.NewWriter(f)
	cw := newCPIOWriter(zw, time.Now())

	for _, dir := range []string{"bin", "dev", "etc", "pkg", "proc", "root", "run", "sys", "tmp"} {
		cw.Dir(dir, 0o755)
	}
	// The kernel opens /dev/console as the init's stdin, stdout and stderr before any
	// devtmpfs is mounted.
	cw.CharDevice("dev/console", 0o600, 5, 1)

	// os/user reads these when a test looks up the current user.
	writeBytes(cw, "etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/false\n"))
	writeBytes(cw, "etc/group", 0o644, []byte("root:x:0:\n"))

	configJSON, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return err
	}
	writeBytes(cw, strings.TrimPrefix(protocol.ConfigPath, "/"), 0o644, configJSON)

	if err := copyFile(cw, "init", initPath, 0o755); err != nil {
		return err
	}
	for _, p := range pkgs {
		if err := copyFile(cw, "bin/"+p.Binary+".test", filepath.Join(binDir, p.Binary+".test"), 0o755); err != nil {
			return err
		}
		cw.Dir("pkg/"+p.Binary, 0o755)
		if err := copyTree(cw, "pkg/"+p.Binary+"/testdata", filepath.Join(p.Dir, "testdata")); err != nil {
			return err
		}
	}

	if err := cw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func writeBytes(cw *cpioWriter, name string, perm uint32, data []byte) error {
	return cw.File(name, perm, int64(len(data)), bytes.NewReader(data))
}

func copyFile(cw *cpioWriter, name, src string, perm uint32) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return err
	}
	return cw.File(name, perm, info.Size(), f)
}

// copyTree adds the directory src, if it exists, as name with everything below it.
// Symbolic links stay links; other special files are left out.
func copyTree(cw *cpioWriter, name, src string) error {
	if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}

	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := path.Join(name, filepath.ToSlash(rel))

		info, err := d.Info()
		if err != nil {
			return err
		}
		perm := uint32(info.Mode().Perm())
		switch {
		case d.IsDir():
			return cw.Dir(target, perm)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return cw.Symlink(target, link)
		case d.Type().IsRegular():
			return copyFile(cw, target, p, perm)
		}
		return nil
	})
}

// commandOutput runs a command in dir with extra environment variables and returns its
// stdout. The error includes the command's stderr.
func commandOutput(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return string(out), nil
}
