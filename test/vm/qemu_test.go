package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadLines(t *testing.T) {
	long := strings.Repeat("x", maxLineLength+100)
	input := "first\r\n\r\nsecond\n" + long + "\nlast without newline"

	var lines []string
	readLines(strings.NewReader(input), func(line string) { lines = append(lines, line) })

	if len(lines) != 5 {
		t.Fatalf("%d lines, expected 5", len(lines))
	}
	if !slices.Equal(lines[:3], []string{"first", "", "second"}) {
		t.Errorf("first lines %q", lines[:3])
	}
	if len(lines[3]) > maxLineLength || !strings.HasPrefix(lines[3], "xxx") {
		t.Errorf("long line has %d bytes, expected at most %d", len(lines[3]), maxLineLength)
	}
	if lines[4] != "last without newline" {
		t.Errorf("last line %q", lines[4])
	}
}

func TestConsolePrinterRemovesControlSequences(t *testing.T) {
	var out bytes.Buffer
	p := &consolePrinter{w: &out}
	p.Line("6.1-amd64", "\x1bc\x1b[?7l\x1b[2JSeaBIOS\x07 (version)\tok")

	if got, expected := out.String(), "[6.1-amd64] SeaBIOS (version)\tok\n"; got != expected {
		t.Errorf("printed %q, expected %q", got, expected)
	}
}

func TestQemuArgs(t *testing.T) {
	opts := bootOptions{accel: "tcg", memory: "512M", cpus: 2}
	cases := []struct {
		kernel   kernel
		qemu     string
		expected []string
	}{
		{plainKernel, "qemu-system-x86_64", []string{"-M pc -cpu max", "-smp 2", "-no-reboot", "-nic none", "-kernel /k", "-initrd /i", "console=ttyS0 panic=-1"}},
		{kernel{Name: "arm", Arch: "arm64"}, "qemu-system-aarch64", []string{"-M virt -cpu cortex-a57", "-accel tcg", "-m 512M", "console=ttyAMA0 panic=-1"}},
	}
	for _, c := range cases {
		name, args := qemuArgs(c.kernel, "/k", "/i", opts)
		if name != c.qemu {
			t.Errorf("%s: qemu %s, expected %s", c.kernel.Name, name, c.qemu)
		}
		joined := strings.Join(args, " ")
		for _, e := range c.expected {
			if !strings.Contains(joined, e) {
				t.Errorf("%s: arguments %q lack %q", c.kernel.Name, joined, e)
			}
		}
	}
}

// TestBootProbe builds the probe package and boots it on the nested amd64 kernel, the
// fastest to boot (about 2 s under TCG), and then checks that a boot timeout kills qemu.
func TestBootProbe(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a VM")
	}
	const name = "7.2-nested-amd64"

	root, err := repoRoot(t.Context(), ".")
	if err != nil {
		t.Skipf("needs the repository root: %v", err)
	}
	kernels, err := parseKernels(kernelsJSON)
	if err != nil {
		t.Fatal(err)
	}
	selected, err := selectKernels(kernels, []string{name})
	if err != nil {
		t.Fatal(err)
	}
	k := selected[0]
	if _, err := exec.LookPath(archs[k.Arch].qemu); err != nil {
		t.Skipf("needs %s", archs[k.Arch].qemu)
	}
	dir := filepath.Join(root, "..", "shared", "kernels")
	if _, err := os.Stat(filepath.Join(dir, k.Image)); err != nil {
		t.Skipf("needs the kernel images beside the repository: %v", err)
	}

	pkgs, err := resolvePackages(t.Context(), root, []string{filepath.Join(root, "test", "vm", "testdata", "probe")})
	if err != nil {
		t.Fatal(err)
	}
	nameBinaries(pkgs)
	build, err := buildArch(t.Context(), k.Arch, pkgs, buildOptions{
		root:    root,
		workDir: t.TempDir(),
		timeout: time.Minute,
		logf:    t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}

	var console bytes.Buffer
	printer := &consolePrinter{w: &console}
	opts := bootOptions{accel: "tcg", memory: "512M", cpus: 1, testTimeout: time.Minute}
	boot := bootKernel(t.Context(), k, filepath.Join(dir, k.Image), build.initramfs, opts, printer)
	r := evaluate(k, build, nil, boot, false)
	if r.status != statusOK {
		t.Errorf("status %s, problems %q\nconsole:\n%s", r.status, r.problems, console.String())
	}
	// TestSkip always skips; TestFailureMode skips without PROBE_FAIL.
	if r.passed == 0 || r.failed != 0 || r.skipped != 2 {
		t.Errorf("passed %d, failed %d, skipped %d; expected some passed and 2 skipped", r.passed, r.failed, r.skipped)
	}
	if column := nestedColumn(r); column != "ran" {
		t.Errorf("nested listeners %s, expected ran", column)
	}
	t.Logf("boot %v, tests %v, wall %v", boot.bootTime, boot.testTime, boot.wallTime)

	k.BootTimeout = duration(200 * time.Millisecond)
	start := time.Now()
	boot = bootKernel(t.Context(), k, filepath.Join(dir, k.Image), build.initramfs, opts, printer)
	if boot.timedOut != "boot" {
		t.Errorf("timed out %q, expected boot", boot.timedOut)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("the boot timeout of 200ms took %v to kill qemu", elapsed)
	}
}
