// Command vm runs the module's test binaries on several kernels under qemu.
//
// For each architecture in the selected kernels it cross-compiles the test binaries
// (CGO_ENABLED=0 go test -c) and a static init, and packs them into an initramfs. It then
// boots each kernel with that initramfs, streams the guest console with the kernel's name
// as prefix, parses the -test.v output, checks the feature claims the tests print, and
// ends with a table. It exits with status 1 when any kernel failed and 2 when it could not
// start.
//
//	go run ./test/vm                            # every kernel in kernels.json
//	go run ./test/vm -kernel 7.2-nested-amd64   # one kernel
//	go run ./test/vm -list                      # the kernel list
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

// listFlag collects a flag given several times, each time possibly a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(value string) error {
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}

// appendFlag collects a flag given several times, each value whole.
type appendFlag []string

func (a *appendFlag) String() string { return strings.Join(*a, " ") }

func (a *appendFlag) Set(value string) error {
	*a = append(*a, value)
	return nil
}

// defaultExclude is the default of -exclude. The generator's tests compare the generated
// files with golang.org/x/sys: they read the source tree and run `go mod download`, so
// they work only on the host.
var defaultExclude = []string{"gen"}

// options are the command-line flags.
type options struct {
	kernels    listFlag
	packages   listFlag
	exclude    listFlag
	list       bool
	run        string
	timeout    time.Duration
	parallel   int
	kernelsDir string
	cacheDir   string
	vmlinux    bool
	cpus       int
	memory     string
	accel      string
	testFlags  appendFlag
	env        appendFlag
	keep       bool
	verbose    bool
}

func parseFlags() options {
	var o options
	flag.Var(&o.kernels, "kernel", "run only the named `kernel`; repeat the flag or give a comma-separated list (see -list)")
	flag.Var(&o.packages, "pkg", "test `packages` to run: import paths, patterns or directories, comma-separated or repeated (default: every package in the module with tests, except test/vm and -exclude)")
	flag.Var(&o.exclude, "exclude", "module `directories` whose packages the default package list leaves out, with everything below them; comma-separated (default "+strings.Join(defaultExclude, ",")+")")
	flag.BoolVar(&o.list, "list", false, "print the kernel list and exit")
	flag.StringVar(&o.run, "run", "", "run only the tests matching `regexp`, passed to the test binaries as -test.run")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "time limit for all test binaries on one kernel, after boot; each binary gets the rest as -test.timeout")
	flag.IntVar(&o.parallel, "parallel", 1, "boot up to `n` kernels at once")
	flag.StringVar(&o.kernelsDir, "kernels", "", "`directory` with the kernel images and SHA256SUMS (default: ../shared/kernels beside the repository root)")
	flag.StringVar(&o.cacheDir, "cache", "", "`directory` for vmlinux files extracted from bzImages (default: seccomp-vmtest in the user cache directory)")
	flag.BoolVar(&o.vmlinux, "vmlinux", true, "boot the uncompressed vmlinux of kernels marked extract_vmlinux, which saves their decompression")
	flag.IntVar(&o.cpus, "smp", 1, "number of guest CPUs")
	flag.StringVar(&o.memory, "m", "512M", "guest memory `size`, as qemu's -m takes it")
	flag.StringVar(&o.accel, "accel", "tcg", "qemu `accelerator`")
	flag.Var(&o.testFlags, "testflag", "extra `flag` for the test binaries, such as -test.short; repeatable")
	flag.Var(&o.env, "env", "`KEY=VALUE` added to the test binaries' environment; repeatable")
	flag.BoolVar(&o.keep, "keep", false, "keep the build directory with the binaries and initramfs files, and print its path")
	flag.BoolVar(&o.verbose, "v", false, "print the build and qemu commands")
	flag.Parse()

	excludeSet := false
	flag.Visit(func(f *flag.Flag) { excludeSet = excludeSet || f.Name == "exclude" })
	if !excludeSet {
		o.exclude = defaultExclude
	}

	if flag.NArg() > 0 {
		fatalUsage("unexpected arguments %q; flags for the tests go in -run and -testflag", flag.Args())
	}
	if o.parallel < 1 || o.cpus < 1 || o.timeout <= 0 {
		fatalUsage("-parallel and -smp must be at least 1, and -timeout positive")
	}
	if _, err := regexp.Compile(o.run); err != nil {
		fatalUsage("invalid -run: %v", err)
	}
	for _, kv := range o.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			fatalUsage("invalid -env %q: expected KEY=VALUE", kv)
		}
	}
	return o
}

func fatalUsage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vm: "+format+"\n", args...)
	flag.Usage()
	os.Exit(2)
}

func main() {
	o := parseFlags()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code, err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vm: %v\n", err)
	}
	os.Exit(code)
}

// bootTarget is a selected kernel, ready to boot.
type bootTarget struct {
	kernel kernel
	path   string // the image, or its extracted vmlinux
}

// run runs the selected kernels and returns the exit status.
func run(ctx context.Context, o options) (int, error) {
	all, err := parseKernels(kernelsJSON)
	if err != nil {
		return 2, err
	}
	if o.list {
		printKernelList(all)
		return 0, nil
	}
	selected, err := selectKernels(all, o.kernels)
	if err != nil {
		return 2, err
	}

	cwd, err := os.Getwd()
	if err != nil {
		return 2, err
	}
	root, err := repoRoot(ctx, cwd)
	if err != nil {
		return 2, err
	}

	targets, err := prepareKernels(ctx, selected, root, o)
	if err != nil {
		return 2, err
	}

	var pkgs []testPackage
	if len(o.packages) == 0 {
		pkgs, err = defaultPackages(ctx, root, o.exclude)
	} else {
		pkgs, err = resolvePackages(ctx, cwd, o.packages)
	}
	if err != nil {
		return 2, err
	}
	nameBinaries(pkgs)

	workDir, err := os.MkdirTemp("", "vmtest-")
	if err != nil {
		return 2, err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "vm: build directory %s\n", workDir)
	} else {
		defer os.RemoveAll(workDir)
	}

	builds, buildErrs := buildAll(ctx, selected, pkgs, root, workDir, o)
	if ctx.Err() != nil {
		return 2, ctx.Err()
	}

	reports := bootAll(ctx, targets, builds, buildErrs, o)
	printReport(os.Stdout, reports)

	for _, r := range reports {
		if r.status != statusOK {
			return 1, nil
		}
	}
	return 0, nil
}

// prepareKernels checks that qemu is installed and each image matches SHA256SUMS, and
// extracts vmlinux files where the kernel list and -vmlinux ask for it.
func prepareKernels(ctx context.Context, selected []kernel, root string, o options) ([]bootTarget, error) {
	dir := o.kernelsDir
	if dir == "" {
		dir = filepath.Join(root, "..", "shared", "kernels")
	}
	sums, err := readChecksums(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		return nil, fmt.Errorf("kernel checksums: %v (set -kernels to the directory with the images)", err)
	}

	cacheDir := o.cacheDir
	if cacheDir == "" {
		userCache, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("find a cache directory for vmlinux files: %v (set -cache)", err)
		}
		cacheDir = filepath.Join(userCache, "seccomp-vmtest")
	}

	var targets []bootTarget
	for _, k := range selected {
		if _, err := exec.LookPath(archs[k.Arch].qemu); err != nil {
			return nil, fmt.Errorf("kernel %s needs %s: %v (Debian package qemu-system-x86 or qemu-system-arm)", k.Name, archs[k.Arch].qemu, err)
		}

		digest, err := verifyImage(dir, k.Image, sums)
		if err != nil {
			return nil, err
		}
		target := bootTarget{kernel: k, path: filepath.Join(dir, k.Image)}

		if k.ExtractVmlinux && o.vmlinux {
			vmlinux, err := cachedVmlinux(ctx, target.path, digest, cacheDir)
			if err != nil {
				fmt.Fprintf(os.Stderr, "vm: %s: booting the bzImage, because %v\n", k.Name, err)
			} else {
				target.path = vmlinux
			}
		}
		targets = append(targets, target)
	}
	return targets, nil
}

// buildAll builds the initramfs for each architecture among the selected kernels. A
// failed build fails only the kernels of its architecture.
func buildAll(ctx context.Context, selected []kernel, pkgs []testPackage, root, workDir string, o options) (map[string]*archBuild, map[string]error) {
	var testArgs []string
	if o.run != "" {
		testArgs = append(testArgs, "-test.run="+o.run)
	}
	testArgs = append(testArgs, o.testFlags...)

	opts := buildOptions{
		root:     root,
		workDir:  workDir,
		testArgs: testArgs,
		env:      o.env,
		timeout:  o.timeout,
		logf: func(format string, args ...any) {
			if o.verbose {
				fmt.Fprintf(os.Stderr, "vm: "+format+"\n", args...)
			}
		},
	}

	builds := make(map[string]*archBuild)
	buildErrs := make(map[string]error)
	for _, k := range selected {
		if builds[k.Arch] != nil || buildErrs[k.Arch] != nil {
			continue
		}
		start := time.Now()
		fmt.Fprintf(os.Stderr, "vm: building %d test packages for %s\n", len(pkgs), k.Arch)
		build, err := buildArch(ctx, k.Arch, pkgs, opts)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vm: build for %s failed: %v\n", k.Arch, err)
			buildErrs[k.Arch] = err
			continue
		}
		for _, p := range build.noTests {
			fmt.Fprintf(os.Stderr, "vm: %s has no test files for %s\n", p, k.Arch)
		}
		fmt.Fprintf(os.Stderr, "vm: built %s in %.1fs\n", k.Arch, time.Since(start).Seconds())
		builds[k.Arch] = build
	}
	return builds, buildErrs
}

// bootAll boots the targets, up to o.parallel at once, and returns a report for each in
// the order of targets.
func bootAll(ctx context.Context, targets []bootTarget, builds map[string]*archBuild, buildErrs map[string]error, o options) []kernelReport {
	console := &consolePrinter{w: os.Stdout}
	bootOpts := bootOptions{
		accel:       o.accel,
		memory:      o.memory,
		cpus:        o.cpus,
		testTimeout: o.timeout,
		verbose:     o.verbose,
	}

	reports := make([]kernelReport, len(targets))
	slots := make(chan struct{}, o.parallel)
	var wg sync.WaitGroup
	for i, t := range targets {
		k := t.kernel
		build, buildErr := builds[k.Arch], buildErrs[k.Arch]
		if buildErr != nil {
			reports[i] = evaluate(k, nil, buildErr, nil, o.run != "")
			continue
		}

		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()

			var boot *bootResult
			if ctx.Err() != nil {
				boot = &bootResult{session: &session{}, interrupted: true}
			} else {
				boot = bootKernel(ctx, k, t.path, build.initramfs, bootOpts, console)
			}
			reports[i] = evaluate(k, build, nil, boot, o.run != "")
		})
	}
	wg.Wait()
	return reports
}

func printKernelList(all []kernel) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tARCH\tRELEASE PREFIX\tNESTED\tVMLINUX\tBOOT TIMEOUT\tIMAGE")
	for _, k := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%v\t%s\n",
			k.Name, k.Arch, k.ReleasePrefix, k.NestedListeners, k.ExtractVmlinux, time.Duration(k.BootTimeout), k.Image)
	}
	tw.Flush()
}
