package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os/exec"
	"strings"
	"testing"
)

// fakeBzImage builds the parts of a bzImage that extractVmlinux reads: a setup header with
// one setup sector, and the payload at payload_offset in the protected-mode part.
func fakeBzImage(payload []byte, payloadOffset int) []byte {
	image := make([]byte, 2*512+payloadOffset)
	image[bzSetupSects] = 1
	copy(image[bzHeaderMagic:], "HdrS")
	binary.LittleEndian.PutUint16(image[bzVersion:], 0x20f)
	binary.LittleEndian.PutUint32(image[bzPayloadOffset:], uint32(payloadOffset))
	binary.LittleEndian.PutUint32(image[bzPayloadLength:], uint32(len(payload)))
	return append(image, payload...)
}

// withSize appends the uncompressed size the way the kernel's build does for xz and zstd.
func withSize(stream []byte, size int) []byte {
	return binary.LittleEndian.AppendUint32(bytes.Clone(stream), uint32(size))
}

var fakeVmlinux = bytes.Repeat([]byte("\x7fELF not really a kernel "), 1000)

func TestExtractVmlinuxGzip(t *testing.T) {
	var payload bytes.Buffer
	zw := gzip.NewWriter(&payload)
	zw.Write(fakeVmlinux)
	zw.Close()

	out, err := extractVmlinux(t.Context(), fakeBzImage(payload.Bytes(), 0x40))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, fakeVmlinux) {
		t.Errorf("extracted %d bytes that differ from the %d compressed", len(out), len(fakeVmlinux))
	}
}

func TestExtractVmlinuxTools(t *testing.T) {
	for _, tool := range []struct {
		name string
		args []string
	}{
		{"xz", []string{"-c", "--check=crc32"}},
		{"zstd", []string{"-c", "-q"}},
	} {
		t.Run(tool.name, func(t *testing.T) {
			if _, err := exec.LookPath(tool.name); err != nil {
				t.Skipf("needs %s", tool.name)
			}
			cmd := exec.Command(tool.name, tool.args...)
			cmd.Stdin = bytes.NewReader(fakeVmlinux)
			stream, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}

			out, err := extractVmlinux(t.Context(), fakeBzImage(withSize(stream, len(fakeVmlinux)), 0))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, fakeVmlinux) {
				t.Errorf("extracted %d bytes that differ from the %d compressed", len(out), len(fakeVmlinux))
			}

			_, err = extractVmlinux(t.Context(), fakeBzImage(withSize(stream, len(fakeVmlinux)+1), 0))
			if err == nil || !strings.Contains(err.Error(), "records") {
				t.Errorf("wrong recorded size: error %v, expected a size mismatch", err)
			}
		})
	}
}

func TestExtractVmlinuxRejects(t *testing.T) {
	valid := fakeBzImage(withSize([]byte{0x1f, 0x8b, 0, 0}, 1), 0)

	noMagic := bytes.Clone(valid)
	copy(noMagic[bzHeaderMagic:], "MZ\x00\x00")

	oldProtocol := bytes.Clone(valid)
	binary.LittleEndian.PutUint16(oldProtocol[bzVersion:], 0x207)

	truncated := valid[:len(valid)-2]

	unknown := fakeBzImage(withSize([]byte("LZ4!"), 1), 0)

	cases := []struct {
		name  string
		image []byte
		error string
	}{
		{"no setup header", noMagic, "HdrS"},
		{"boot protocol before 2.08", oldProtocol, "2.08"},
		{"payload past the end", truncated, "outside"},
		{"unknown compression", unknown, "not gzip, xz or zstd"},
		{"too short", valid[:0x100], "not a bzImage"},
	}
	for _, c := range cases {
		_, err := extractVmlinux(t.Context(), c.image)
		if err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%s: error %v, expected one containing %q", c.name, err, c.error)
		}
	}
}

// appendNote appends one ELF note in the little-endian layout hasNote reads.
func appendNote(notes []byte, name string, noteType uint32, desc []byte) []byte {
	nameBytes := append([]byte(name), 0)
	notes = binary.LittleEndian.AppendUint32(notes, uint32(len(nameBytes)))
	notes = binary.LittleEndian.AppendUint32(notes, uint32(len(desc)))
	notes = binary.LittleEndian.AppendUint32(notes, noteType)
	notes = append(notes, nameBytes...)
	notes = append(notes, make([]byte, align4(len(nameBytes))-len(nameBytes))...)
	notes = append(notes, desc...)
	return append(notes, make([]byte, align4(len(desc))-len(desc))...)
}

func TestHasNote(t *testing.T) {
	notes := appendNote(nil, "GNU", 3, []byte("build id bytes"))
	notes = appendNote(notes, "Xen", 1, []byte{1, 2, 3})
	notes = appendNote(notes, "Linux", 18, []byte{0, 0, 0, 1})

	if hasNote(notes, binary.LittleEndian, "Xen", 18) {
		t.Error("found Xen note 18 among notes without it")
	}

	notes = appendNote(notes, "Xen", 18, []byte{0, 0, 0, 1})
	if !hasNote(notes, binary.LittleEndian, "Xen", 18) {
		t.Error("did not find Xen note 18 at the end")
	}
	if hasNote(notes[:len(notes)-6], binary.LittleEndian, "Xen", 18) {
		t.Error("found Xen note 18 in a truncated segment")
	}
}

func TestCheckPVHNoteRejectsNonELF(t *testing.T) {
	if err := checkPVHNote(fakeVmlinux); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("error %v, expected one saying it is not ELF", err)
	}
}
