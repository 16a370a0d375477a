//go:build linux

// Package sysnum converts between Linux system call names and numbers for
// the GOARCH that the program was built for.
//
// Names are the kernel's, as <asm/unistd.h> spells them without the "__NR_"
// prefix: "openat", "getppid", "_llseek". Numbers belong to the ABI that Go
// uses on that GOARCH: o32 on mips and mipsle, n64 on mips64 and mips64le,
// EABI on arm and the 64-bit ABI (not x32) on amd64.
//
// The tables are generated from the Linux 6.1 headers of Debian 12, so
// system calls added after Linux 6.1, such as cachestat or fchmodat2, are
// missing.
package sysnum

// TODO: generate the tables from newer uapi headers than Linux 6.1, as the
// loong64 route already installs them from a kernel source package.

import (
	"slices"
	"strings"
)

// An entry is one row of the generated tables.
type entry struct {
	name string
	nr   uint32
}

// Number returns the number of the system call called name. Aliases, such
// as sync_file_range2 on arm, are accepted.
func Number(name string) (nr uint32, ok bool) {
	i, found := slices.BinarySearchFunc(byName[:], name, func(e entry, name string) int {
		return strings.Compare(e.name, name)
	})
	if !found {
		return 0, false
	}
	return byName[i].nr, true
}

// Name returns the name of system call nr. Where an alias shares the
// number, Name returns the name that the header defines as a number, not
// the alias.
func Name(nr uint32) (name string, ok bool) {
	i, found := slices.BinarySearchFunc(byNumber[:], nr, func(e entry, nr uint32) int {
		switch {
		case e.nr < nr:
			return -1
		case e.nr > nr:
			return 1
		}
		return 0
	})
	if !found {
		return "", false
	}
	return byNumber[i].name, true
}

// Names returns the names of all system calls, aliases included, sorted.
// The caller owns the returned slice.
func Names() []string {
	names := make([]string, len(byName))
	for i, e := range byName {
		names[i] = e.name
	}
	return names
}
