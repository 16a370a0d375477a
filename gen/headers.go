package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// includeFlags returns the compiler flags that select t's kernel headers.
// Targets with a Debian cross compiler need none. For a KernelArch target
// the headers are built from the kernel source into cacheDir once and
// reused while the tarball stays the same.
func includeFlags(ctx context.Context, t target, cacheDir string) ([]string, error) {
	if t.KernelArch == "" {
		return nil, nil
	}

	dir, err := kernelHeaders(ctx, t.KernelArch, cacheDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", t.GOARCH, err)
	}

	// -nostdlibinc (a clang flag) keeps clang's own <stddef.h> but drops
	// /usr/include, whose <linux/*.h> belong to the host architecture.
	return []string{"-nostdlibinc", "-isystem", dir}, nil
}

// kernelHeaders returns an include directory holding the uapi headers of
// kernel architecture arch, as "make headers_install" produces them from
// kernelSource. The result is cached under cacheDir, keyed by the
// tarball's SHA-256, so a new linux-source-6.1 package rebuilds it.
func kernelHeaders(ctx context.Context, arch, cacheDir string) (string, error) {
	sum, err := fileSHA256(kernelSource)
	if err != nil {
		return "", fmt.Errorf("read kernel source (install Debian package linux-source-6.1): %v", err)
	}

	dest := filepath.Join(cacheDir, fmt.Sprintf("uapi-%s-%s", arch, sum[:16]))
	include := filepath.Join(dest, "include")
	if _, err := os.Stat(filepath.Join(include, "asm", "unistd.h")); err == nil {
		return include, nil
	}

	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	build, err := os.MkdirTemp(cacheDir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(build)

	// headers_install needs the top-level build files, scripts/ (it compiles
	// scripts/unifdef with the host compiler), the generic and per-arch uapi
	// trees and usr/. Extracting only those saves most of the time and disk.
	top := strings.TrimSuffix(filepath.Base(kernelSource), ".tar.xz")
	members := []string{"Makefile", "Kbuild", "Kconfig", "scripts", "include/uapi", "arch/Kconfig", "arch/" + arch, "usr"}
	tarArgs := []string{"-xJf", kernelSource, "-C", build}
	for _, m := range members {
		tarArgs = append(tarArgs, top+"/"+m)
	}
	if err := runTool(ctx, "", "tar", tarArgs...); err != nil {
		return "", err
	}

	out := filepath.Join(build, "out")
	err = runTool(ctx, filepath.Join(build, top), "make", "-s", "ARCH="+arch, "INSTALL_HDR_PATH="+out, "headers_install")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(out, "include", "linux", "seccomp.h")); err != nil {
		return "", fmt.Errorf("make headers_install ARCH=%s produced no linux/seccomp.h: %v", arch, err)
	}

	if err := os.Rename(out, dest); err != nil {
		// Another run may have finished the same build first.
		if _, statErr := os.Stat(filepath.Join(include, "asm", "unistd.h")); statErr == nil {
			return include, nil
		}
		return "", err
	}
	return include, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()

	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// runTool runs a build tool in dir and includes its output in the error.
func runTool(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s failed: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
