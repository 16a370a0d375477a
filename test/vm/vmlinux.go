package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Offsets in a bzImage's setup header, from the x86 boot protocol (the kernel's
// Documentation/arch/x86/boot.rst). payload_offset and payload_length exist since
// protocol 2.08.
const (
	bzSetupSects    = 0x1f1
	bzHeaderMagic   = 0x202
	bzVersion       = 0x206
	bzPayloadOffset = 0x248
	bzPayloadLength = 0x24c
)

// cachedVmlinux returns the path of the ELF vmlinux inside a bzImage, extracting it into
// cacheDir under the image's SHA-256 on first use. The vmlinux must have a PVH entry
// point, because that is how qemu boots an uncompressed ELF kernel.
func cachedVmlinux(ctx context.Context, image, digest, cacheDir string) (string, error) {
	path := filepath.Join(cacheDir, "vmlinux-"+digest[:16])
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}

	data, err := os.ReadFile(image)
	if err != nil {
		return "", err
	}
	vmlinux, err := extractVmlinux(ctx, data)
	if err != nil {
		return "", fmt.Errorf("extract vmlinux from %s: %v", image, err)
	}
	if err := checkPVHNote(vmlinux); err != nil {
		return "", fmt.Errorf("vmlinux from %s: %v", image, err)
	}

	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cacheDir, "vmlinux-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(vmlinux); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	// The rename makes the cache entry appear complete or not at all, even when two runs
	// extract the same image at once.
	return path, os.Rename(tmp.Name(), path)
}

// extractVmlinux decompresses the payload of an x86 bzImage. The payload ends with its
// uncompressed size as a little-endian 32-bit number, which checks the result here. The
// kernel's build appends it to xz and zstd streams, and gzip's own trailer ends with it.
func extractVmlinux(ctx context.Context, bzImage []byte) ([]byte, error) {
	if len(bzImage) < bzPayloadLength+4 || string(bzImage[bzHeaderMagic:bzHeaderMagic+4]) != "HdrS" {
		return nil, errors.New("not a bzImage: the setup header magic HdrS is missing")
	}
	if version := binary.LittleEndian.Uint16(bzImage[bzVersion:]); version < 0x208 {
		return nil, fmt.Errorf("boot protocol %#x has no payload fields (needs 2.08)", version)
	}

	setupSects := int(bzImage[bzSetupSects])
	if setupSects == 0 {
		setupSects = 4
	}
	start := (setupSects+1)*512 + int(binary.LittleEndian.Uint32(bzImage[bzPayloadOffset:]))
	length := int(binary.LittleEndian.Uint32(bzImage[bzPayloadLength:]))
	if length < 4 || start+length > len(bzImage) {
		return nil, fmt.Errorf("payload at %d, %d bytes, lies outside the %d-byte file", start, length, len(bzImage))
	}
	payload := bzImage[start : start+length]
	size := int(binary.LittleEndian.Uint32(payload[length-4:]))
	stream := payload[:length-4]

	var out []byte
	var err error
	switch {
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		out, err = gunzip(payload)
	case bytes.HasPrefix(payload, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		out, err = runDecompressor(ctx, stream, "xz", "-dc")
	case bytes.HasPrefix(payload, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		out, err = runDecompressor(ctx, stream, "zstd", "-dcq")
	default:
		return nil, fmt.Errorf("payload compression %x is not gzip, xz or zstd", payload[:min(6, len(payload))])
	}
	if err != nil {
		return nil, err
	}

	if len(out) != size {
		return nil, fmt.Errorf("payload decompressed to %d bytes, but the bzImage records %d", len(out), size)
	}
	return out, nil
}

func gunzip(data []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	r.Multistream(false)
	return io.ReadAll(r)
}

// runDecompressor runs a decompressing command with data on its stdin.
func runDecompressor(ctx context.Context, data []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s (install it, or set -vmlinux=false)", name, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// checkPVHNote checks that an ELF kernel has the Xen note XEN_ELFNOTE_PHYS32_ENTRY (type
// 18), the PVH entry point that qemu needs to boot it with -kernel.
func checkPVHNote(vmlinux []byte) error {
	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return fmt.Errorf("not an ELF file: %v", err)
	}

	for _, prog := range f.Progs {
		if prog.Type != elf.PT_NOTE {
			continue
		}
		notes, err := io.ReadAll(prog.Open())
		if err != nil {
			return err
		}
		if hasNote(notes, f.ByteOrder, "Xen", 18) {
			return nil
		}
	}
	return errors.New("no PVH entry point (Xen ELF note 18), so qemu cannot boot it")
}

// hasNote reports whether an ELF note segment contains a note with the given owner name
// and type. Each note is a header of three 32-bit words (name size, descriptor size,
// type), then the name and the descriptor, each padded to 4 bytes.
func hasNote(notes []byte, order binary.ByteOrder, name string, noteType uint32) bool {
	align4 := func(n uint32) int { return int((n + 3) &^ 3) }

	for len(notes) >= 12 {
		nameSize := order.Uint32(notes[0:])
		descSize := order.Uint32(notes[4:])
		typ := order.Uint32(notes[8:])

		end := 12 + align4(nameSize) + align4(descSize)
		if nameSize > uint32(len(notes)) || descSize > uint32(len(notes)) || end > len(notes) {
			return false
		}
		owner := string(bytes.TrimRight(notes[12:12+nameSize], "\x00"))
		if owner == name && typ == noteType {
			return true
		}
		notes = notes[end:]
	}
	return false
}
