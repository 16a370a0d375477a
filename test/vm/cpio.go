package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// File type bits of a cpio entry's mode, as in stat(2).
const (
	cpioModeDir     = 0o040000
	cpioModeRegular = 0o100000
	cpioModeSymlink = 0o120000
	cpioModeCharDev = 0o020000
)

// cpioHeaderSize is the size of a newc header: the magic "070701" and thirteen fields of
// eight hexadecimal digits.
const cpioHeaderSize = 6 + 13*8

// cpioWriter writes an archive in the newc ("SVR4 with no CRC") format, which the kernel
// unpacks as an initramfs. Every entry gets its own inode number and a link count of 1 (2
// for directories), because the kernel treats regular files that share an inode number and
// have more than one link as hard links. Names are relative and must come after their
// parent directories.
type cpioWriter struct {
	w      io.Writer
	offset int64
	inode  uint32
	mtime  time.Time
	err    error
}

func newCPIOWriter(w io.Writer, mtime time.Time) *cpioWriter {
	return &cpioWriter{w: w, mtime: mtime}
}

// Dir writes a directory entry.
func (c *cpioWriter) Dir(name string, perm uint32) error {
	return c.entry(name, cpioModeDir|perm&0o7777, 2, 0, 0, nil, 0)
}

// File writes a regular file of size bytes read from r.
func (c *cpioWriter) File(name string, perm uint32, size int64, r io.Reader) error {
	return c.entry(name, cpioModeRegular|perm&0o7777, 1, 0, 0, r, size)
}

// Symlink writes a symbolic link to target.
func (c *cpioWriter) Symlink(name, target string) error {
	return c.entry(name, cpioModeSymlink|0o777, 1, 0, 0, strings.NewReader(target), int64(len(target)))
}

// CharDevice writes a character device node.
func (c *cpioWriter) CharDevice(name string, perm uint32, major, minor uint32) error {
	return c.entry(name, cpioModeCharDev|perm&0o7777, 1, major, minor, nil, 0)
}

// Close writes the trailer entry. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	return c.entry("TRAILER!!!", 0, 1, 0, 0, nil, 0)
}

func (c *cpioWriter) entry(name string, mode, nlink, rdevMajor, rdevMinor uint32, data io.Reader, size int64) error {
	if c.err != nil {
		return c.err
	}
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) {
		c.err = fmt.Errorf("cpio: invalid name %q: it must be relative and non-empty", name)
		return c.err
	}
	if size < 0 || size > 0xffffffff {
		c.err = fmt.Errorf("cpio: %s: size %d does not fit the newc format", name, size)
		return c.err
	}

	c.inode++
	inode := c.inode
	if name == "TRAILER!!!" {
		inode = 0
	}

	fields := []uint32{
		inode,
		mode,
		0, // uid
		0, // gid
		nlink,
		uint32(c.mtime.Unix()),
		uint32(size),
		0, // major number of the device holding the file
		0, // its minor number
		rdevMajor,
		rdevMinor,
		uint32(len(name) + 1), // the name's size, its NUL included
		0,                     // checksum, unused by newc
	}
	var header strings.Builder
	header.WriteString("070701")
	for _, f := range fields {
		fmt.Fprintf(&header, "%08x", f)
	}
	header.WriteString(name)
	header.WriteByte(0)
	c.write([]byte(header.String()))
	c.pad()

	if data != nil {
		n, err := io.CopyN(c.w, data, size)
		c.offset += n
		if err != nil && c.err == nil {
			c.err = fmt.Errorf("cpio: write %s: %v", name, err)
		}
		c.pad()
	}
	return c.err
}

func (c *cpioWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.offset += int64(n)
	c.err = err
}

// pad aligns the archive to four bytes, which newc requires after each name and each
// file's data.
func (c *cpioWriter) pad() {
	if rem := c.offset % 4; rem != 0 {
		c.write(make([]byte, 4-rem))
	}
}
