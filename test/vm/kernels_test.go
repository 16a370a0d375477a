package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEmbeddedKernelList(t *testing.T) {
	kernels, err := parseKernels(kernelsJSON)
	if err != nil {
		t.Fatal(err)
	}

	arches := make(map[string]bool)
	nested := 0
	for _, k := range kernels {
		arches[k.Arch] = true
		if k.NestedListeners {
			nested++
		}
	}
	if !arches["amd64"] || !arches["arm64"] {
		t.Errorf("the list covers %v, expected amd64 and arm64", arches)
	}
	if nested == 0 {
		t.Error("no kernel in the list has nested listeners")
	}
}

func TestParseKernelsRejects(t *testing.T) {
	valid := `{"name": "k", "arch": "amd64", "image": "vmlinuz", "release_prefix": "6.1", "boot_timeout": "60s"}`
	cases := []struct {
		name  string
		json  string
		error string
	}{
		{"empty list", `{"kernels": []}`, "empty"},
		{"duplicate name", `{"kernels": [` + valid + `,` + valid + `]}`, "duplicate"},
		{"name with comma", `{"kernels": [{"name": "a,b", "arch": "amd64", "image": "x", "release_prefix": "6", "boot_timeout": "1s"}]}`, "invalid name"},
		{"unknown arch", `{"kernels": [{"name": "k", "arch": "riscv64", "image": "x", "release_prefix": "6", "boot_timeout": "1s"}]}`, "unsupported arch"},
		{"image in a subdirectory", `{"kernels": [{"name": "k", "arch": "amd64", "image": "a/x", "release_prefix": "6", "boot_timeout": "1s"}]}`, "file name"},
		{"missing release prefix", `{"kernels": [{"name": "k", "arch": "amd64", "image": "x", "boot_timeout": "1s"}]}`, "release_prefix"},
		{"missing boot timeout", `{"kernels": [{"name": "k", "arch": "amd64", "image": "x", "release_prefix": "6"}]}`, "boot_timeout"},
		{"numeric boot timeout", `{"kernels": [{"name": "k", "arch": "amd64", "image": "x", "release_prefix": "6", "boot_timeout": 60}]}`, "string"},
		{"vmlinux on arm64", `{"kernels": [{"name": "k", "arch": "arm64", "image": "x", "release_prefix": "6", "boot_timeout": "1s", "extract_vmlinux": true}]}`, "extract_vmlinux"},
		{"unknown field", `{"kernels": [{"name": "k", "arch": "amd64", "image": "x", "release_prefix": "6", "boot_timeout": "1s", "nested": true}]}`, "unknown field"},
	}
	for _, c := range cases {
		_, err := parseKernels([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%s: error %v, expected one containing %q", c.name, err, c.error)
		}
	}
}

func TestParseKernelsBootTimeout(t *testing.T) {
	kernels, err := parseKernels([]byte(`{"kernels": [{"name": "k", "arch": "arm64", "image": "x", "release_prefix": "6", "boot_timeout": "1m30s"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(kernels[0].BootTimeout); got != 90*time.Second {
		t.Errorf("boot timeout %v, expected 1m30s", got)
	}
}

func TestSelectKernels(t *testing.T) {
	all := []kernel{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	names := func(ks []kernel) []string {
		var out []string
		for _, k := range ks {
			out = append(out, k.Name)
		}
		return out
	}

	selected, err := selectKernels(all, nil)
	if err != nil || !slices.Equal(names(selected), []string{"a", "b", "c"}) {
		t.Errorf("no names: %v, %v; expected all kernels", names(selected), err)
	}

	selected, err = selectKernels(all, []string{"c, a", "c"})
	if err != nil || !slices.Equal(names(selected), []string{"a", "c"}) {
		t.Errorf("names c,a and c: %v, %v; expected a and c in list order", names(selected), err)
	}

	if _, err := selectKernels(all, []string{"a,d"}); err == nil || !strings.Contains(err.Error(), `"d"`) {
		t.Errorf("unknown name: error %v, expected one naming d", err)
	}
	if _, err := selectKernels(all, []string{","}); err == nil {
		t.Error("only commas: no error, expected one")
	}
}

const (
	digestA = "b3dbd4e87b4b3045853c2951fd73ecf0cce1e7911427d503cadf62354aa7661f"
	digestB = "78204379636b61183c185e069f1962c1e193b194d4e443b3878b12612b0fd5a9"
)

func TestReadChecksums(t *testing.T) {
	path := filepath.Join(t.TempDir(), "SHA256SUMS")
	content := digestA + "  Image-a.gz\n\n# comment\n" + strings.ToUpper(digestB) + " *vmlinuz-b\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}

	sums, err := readChecksums(path)
	if err != nil {
		t.Fatal(err)
	}
	if sums["Image-a.gz"] != digestA || sums["vmlinuz-b"] != digestB || len(sums) != 2 {
		t.Errorf("sums %v", sums)
	}
}

func TestReadChecksumsRejects(t *testing.T) {
	for _, content := range []string{"abc  file\n", digestA + "\n", digestA[:63] + "g  file\n"} {
		path := filepath.Join(t.TempDir(), "SHA256SUMS")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readChecksums(path); err == nil || !strings.Contains(err.Error(), ":1:") {
			t.Errorf("content %q: error %v, expected one for line 1", content, err)
		}
	}
}

func TestVerifyImage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "img"), []byte("kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("kernel"))
	good := hex.EncodeToString(sum[:])

	digest, err := verifyImage(dir, "img", map[string]string{"img": good})
	if err != nil {
		t.Fatalf("matching digest: %v", err)
	}
	if digest != good {
		t.Errorf("digest %s, expected %s", digest, good)
	}

	if _, err := verifyImage(dir, "img", map[string]string{"img": digestA}); err == nil || !strings.Contains(err.Error(), "SHA256SUMS lists") {
		t.Errorf("wrong digest: error %v, expected a mismatch", err)
	}
	if _, err := verifyImage(dir, "img", map[string]string{}); err == nil || !strings.Contains(err.Error(), "no entry") {
		t.Errorf("missing entry: error %v, expected one saying so", err)
	}
}

// TestKernelImagesListed checks that every kernel in the list has an image and a
// checksum in the default kernels directory, where that directory exists.
func TestKernelImagesListed(t *testing.T) {
	root, err := repoRoot(t.Context(), ".")
	if err != nil {
		t.Skipf("needs the repository root: %v", err)
	}
	dir := filepath.Join(root, "..", "shared", "kernels")
	sums, err := readChecksums(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Skipf("needs the kernel images beside the repository: %v", err)
	}

	kernels, err := parseKernels(kernelsJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kernels {
		if _, ok := sums[k.Image]; !ok {
			t.Errorf("kernel %s: %s is not in SHA256SUMS", k.Name, k.Image)
		}
		if _, err := os.Stat(filepath.Join(dir, k.Image)); err != nil {
			t.Errorf("kernel %s: %v", k.Name, err)
		}
	}
}
