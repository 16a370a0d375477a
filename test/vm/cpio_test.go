package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpioEntry is one entry read back by readCPIO.
type cpioEntry struct {
	name      string
	inode     uint32
	mode      uint32
	nlink     uint32
	mtime     uint32
	rdevMajor uint32
	rdevMinor uint32
	data      string
}

// readCPIO parses a newc archive independently of cpioWriter, checking the alignment
// rules the kernel's unpacker relies on. It stops at the trailer, which it does not return.
func readCPIO(t *testing.T, archive []byte) []cpioEntry {
	t.Helper()
	var entries []cpioEntry
	offset := 0
	for {
		if offset%4 != 0 {
			t.Fatalf("entry at offset %d is not 4-byte aligned", offset)
		}
		if len(archive)-offset < cpioHeaderSize {
			t.Fatalf("archive ends at %d without a trailer", len(archive))
		}
		header := archive[offset : offset+cpioHeaderSize]
		if string(header[:6]) != "070701" {
			t.Fatalf("offset %d: magic %q, expected 070701", offset, header[:6])
		}
		var fields [13]uint32
		for i := range fields {
			v, err := strconv.ParseUint(string(header[6+i*8:14+i*8]), 16, 32)
			if err != nil {
				t.Fatalf("offset %d: field %d: %v", offset, i, err)
			}
			fields[i] = uint32(v)
		}

		nameStart := offset + cpioHeaderSize
		nameSize := int(fields[11])
		name := archive[nameStart : nameStart+nameSize]
		if name[nameSize-1] != 0 {
			t.Fatalf("offset %d: name %q is not NUL-terminated", offset, name)
		}
		dataStart := align4(nameStart + nameSize)
		if !bytes.Equal(archive[nameStart+nameSize:dataStart], make([]byte, dataStart-nameStart-nameSize)) {
			t.Fatalf("offset %d: name padding is not zero", offset)
		}
		dataEnd := dataStart + int(fields[6])

		e := cpioEntry{
			name:      string(name[:nameSize-1]),
			inode:     fields[0],
			mode:      fields[1],
			nlink:     fields[4],
			mtime:     fields[5],
			rdevMajor: fields[9],
			rdevMinor: fields[10],
			data:      string(archive[dataStart:dataEnd]),
		}
		offset = align4(dataEnd)
		if e.name == "TRAILER!!!" {
			if offset != len(archive) {
				t.Errorf("%d bytes after the trailer", len(archive)-offset)
			}
			return entries
		}
		entries = append(entries, e)
	}
}

func align4(n int) int {
	return (n + 3) &^ 3
}

func writeTestArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newCPIOWriter(&buf, time.Unix(1700000000, 0))
	steps := []error{
		w.Dir("dev", 0o755),
		w.CharDevice("dev/console", 0o600, 5, 1),
		w.Dir("bin", 0o755),
		w.File("bin/a.test", 0o755, 5, strings.NewReader("12345")),
		w.File("init", 0o755, 4, strings.NewReader("init")),
		w.File("empty", 0o644, 0, strings.NewReader("")),
		w.Symlink("dev/fd", "/proc/self/fd"),
		w.Close(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	return buf.Bytes()
}

func TestCPIORoundTrip(t *testing.T) {
	entries := readCPIO(t, writeTestArchive(t))

	expected := []cpioEntry{
		{name: "dev", mode: 0o040755, nlink: 2},
		{name: "dev/console", mode: 0o020600, nlink: 1, rdevMajor: 5, rdevMinor: 1},
		{name: "bin", mode: 0o040755, nlink: 2},
		{name: "bin/a.test", mode: 0o100755, nlink: 1, data: "12345"},
		{name: "init", mode: 0o100755, nlink: 1, data: "init"},
		{name: "empty", mode: 0o100644, nlink: 1},
		{name: "dev/fd", mode: 0o120777, nlink: 1, data: "/proc/self/fd"},
	}
	if len(entries) != len(expected) {
		t.Fatalf("%d entries, expected %d: %+v", len(entries), len(expected), entries)
	}

	inodes := make(map[uint32]string)
	for i, e := range entries {
		if other, ok := inodes[e.inode]; ok || e.inode == 0 {
			t.Errorf("%s: inode %d is zero or shared with %s", e.name, e.inode, other)
		}
		inodes[e.inode] = e.name
		if e.mtime != 1700000000 {
			t.Errorf("%s: mtime %d, expected 1700000000", e.name, e.mtime)
		}

		e.inode, e.mtime = 0, 0
		if e != expected[i] {
			t.Errorf("entry %d: %+v, expected %+v", i, e, expected[i])
		}
	}
}

func TestCPIOListedByCpio(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("needs the cpio command (Debian package cpio)")
	}

	cmd := exec.Command("cpio", "-itv", "--quiet")
	cmd.Stdin = bytes.NewReader(writeTestArchive(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itv: %v\n%s", err, out)
	}

	listing := string(out)
	for _, expected := range []string{"crw-------", "5,", "dev/console", "-rwxr-xr-x", "bin/a.test", "lrwxrwxrwx", "dev/fd -> /proc/self/fd", "drwxr-xr-x"} {
		if !strings.Contains(listing, expected) {
			t.Errorf("cpio -itv output lacks %q:\n%s", expected, listing)
		}
	}
}

func TestCPIORejectsInvalidNames(t *testing.T) {
	for _, name := range []string{"", "/init", "a\x00b"} {
		w := newCPIOWriter(io.Discard, time.Now())
		if err := w.Dir(name, 0o755); err == nil {
			t.Errorf("Dir(%q) succeeded, expected an error", name)
		}
		if err := w.Close(); err == nil {
			t.Errorf("Close after Dir(%q) succeeded, expected the first error", name)
		}
	}
}

func TestCPIOShortData(t *testing.T) {
	w := newCPIOWriter(io.Discard, time.Now())
	err := w.File("short", 0o644, 10, strings.NewReader("abc"))
	if err == nil {
		t.Fatal("File with 3 of 10 bytes succeeded, expected an error")
	}
	if !strings.Contains(err.Error(), "short") {
		t.Errorf("error %q does not name the entry", err)
	}
}

// failingWriter fails every write after the first limit bytes.
type failingWriter struct{ limit int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n := f.limit
		f.limit = 0
		return n, fmt.Errorf("disk full")
	}
	f.limit -= len(p)
	return len(p), nil
}

func TestCPIOWriteError(t *testing.T) {
	w := newCPIOWriter(&failingWriter{limit: 200}, time.Now())
	w.Dir("a", 0o755)
	w.File("b", 0o644, 300, strings.NewReader(strings.Repeat("x", 300)))
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close returned %v, expected the write error", err)
	}
}
