package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// kernelsJSON is the kernel list. Adding a kernel means adding an entry there, putting its
// image in the kernels directory and its hash in that directory's SHA256SUMS.
//
//go:embed kernels.json
var kernelsJSON []byte

// kernel is one entry of kernels.json.
type kernel struct {
	// Name identifies the kernel in -kernel, in console prefixes and in the report.
	Name string `json:"name"`

	// Arch is the GOARCH of the test binaries and selects the qemu system (see archs).
	Arch string `json:"arch"`

	// Image is the file name of the kernel image in the kernels directory.
	Image string `json:"image"`

	// Origin is the package and version the image comes from, for readers of the list.
	Origin string `json:"origin"`

	// ReleasePrefix must start the release the booted kernel reports, which catches a
	// wrong or replaced image.
	ReleasePrefix string `json:"release_prefix"`

	// NestedListeners is set for kernels with the proposed nested-listener series, where
	// the "nested listeners" feature must run.
	NestedListeners bool `json:"nested_listeners"`

	// ExtractVmlinux boots the ELF vmlinux inside a bzImage instead of the bzImage, which
	// saves its decompression under TCG. The kernel must have a PVH entry point.
	ExtractVmlinux bool `json:"extract_vmlinux"`

	// BootTimeout bounds the time from qemu's start to the init's ready line.
	BootTimeout duration `json:"boot_timeout"`
}

// duration is a time.Duration written in JSON as a string such as "60s".
type duration time.Duration

func (d *duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"60s\": %v", err)
	}
	parsed, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(parsed)
	return nil
}

// archSpec is how qemu boots a kernel of one architecture.
type archSpec struct {
	qemu    string   // the qemu system emulator
	machine []string // machine and CPU options
	console string   // the serial console device for console=
}

var archs = map[string]archSpec{
	"amd64": {qemu: "qemu-system-x86_64", machine: []string{"-M", "pc", "-cpu", "max"}, console: "ttyS0"},
	// With -cpu max, Debian's 6.1 kernel took 7.2 s to run the probe package instead of 2.0 s
	// (qemu 7.2, TCG), most likely because qemu emulates pointer authentication in software.
	"arm64": {qemu: "qemu-system-aarch64", machine: []string{"-M", "virt", "-cpu", "cortex-a57"}, console: "ttyAMA0"},
}

// parseKernels decodes and checks a kernel list.
func parseKernels(data []byte) ([]kernel, error) {
	var list struct {
		Kernels []kernel `json:"kernels"`
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&list); err != nil {
		return nil, fmt.Errorf("kernel list: %v", err)
	}
	if len(list.Kernels) == 0 {
		return nil, fmt.Errorf("kernel list is empty")
	}

	seen := make(map[string]bool)
	for i, k := range list.Kernels {
		switch {
		case k.Name == "" || strings.ContainsAny(k.Name, " ,\t"):
			return nil, fmt.Errorf("kernel list entry %d: invalid name %q: it must be non-empty, without spaces or commas", i, k.Name)
		case seen[k.Name]:
			return nil, fmt.Errorf("kernel list: duplicate name %q", k.Name)
		case archs[k.Arch].qemu == "":
			return nil, fmt.Errorf("kernel %s: unsupported arch %q (supported: amd64, arm64)", k.Name, k.Arch)
		case k.Image == "" || filepath.Base(k.Image) != k.Image:
			return nil, fmt.Errorf("kernel %s: image %q must be a file name in the kernels directory", k.Name, k.Image)
		case k.ReleasePrefix == "":
			return nil, fmt.Errorf("kernel %s: release_prefix is missing", k.Name)
		case k.BootTimeout <= 0:
			return nil, fmt.Errorf("kernel %s: boot_timeout is missing", k.Name)
		case k.ExtractVmlinux && k.Arch != "amd64":
			return nil, fmt.Errorf("kernel %s: extract_vmlinux applies only to amd64 bzImages", k.Name)
		}
		seen[k.Name] = true
	}
	return list.Kernels, nil
}

// selectKernels returns the kernels named in names, in list order, or all of them when
// names is empty. Each element of names may be a comma-separated list.
func selectKernels(all []kernel, names []string) ([]kernel, error) {
	if len(names) == 0 {
		return all, nil
	}

	requested := make(map[string]bool)
	for _, n := range names {
		for name := range strings.SplitSeq(n, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !slices.ContainsFunc(all, func(k kernel) bool { return k.Name == name }) {
				return nil, fmt.Errorf("unknown kernel %q (run with -list to see the kernels)", name)
			}
			requested[name] = true
		}
	}

	var selected []kernel
	for _, k := range all {
		if requested[k.Name] {
			selected = append(selected, k)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("-kernel names no kernel")
	}
	return selected, nil
}

// readChecksums parses a SHA256SUMS file in the format sha256sum writes: a hex digest, a
// space, a space or '*', and a file name.
func readChecksums(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}

	sums := make(map[string]string)
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		digest, name, ok := strings.Cut(text, " ")
		name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
		if _, err := hex.DecodeString(digest); !ok || err != nil || len(digest) != sha256.Size*2 || name == "" {
			return nil, fmt.Errorf("%s:%d: invalid line %q: expected a SHA-256 digest and a file name", path, line, text)
		}
		sums[name] = strings.ToLower(digest)
	}
	return sums, nil
}

// verifyImage checks a kernel image against its SHA256SUMS entry and returns its digest.
func verifyImage(dir, image string, sums map[string]string) (string, error) {
	expected, ok := sums[image]
	if !ok {
		return "", fmt.Errorf("%s has no entry for %s: add one with sha256sum", filepath.Join(dir, "SHA256SUMS"), image)
	}

	f, err := os.Open(filepath.Join(dir, image))
	if err != nil {
		return "", err
	}
	defer f.Close()

	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %v", f.Name(), err)
	}
	actual := hex.EncodeToString(h.Sum(nil))
	if actual != expected {
		return "", fmt.Errorf("%s: SHA-256 is %s, but SHA256SUMS lists %s", f.Name(), actual, expected)
	}
	return actual, nil
}
