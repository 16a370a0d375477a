//go:build linux

package sysnum_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp/sysnum"
)

func TestNumberMatchesXSys(t *testing.T) {
	tests := []struct {
		name string
		want uint32
	}{
		{"openat", unix.SYS_OPENAT},
		{"getppid", unix.SYS_GETPPID},
		{"seccomp", unix.SYS_SECCOMP},
		{"execve", unix.SYS_EXECVE},
		{"connect", unix.SYS_CONNECT},
	}
	for _, tt := range tests {
		got, ok := sysnum.Number(tt.name)
		if !ok {
			t.Errorf("Number(%q) found nothing on %s", tt.name, runtime.GOARCH)
			continue
		}
		if got != tt.want {
			t.Errorf("Number(%q) = %d, unix.SYS_%s = %d on %s", tt.name, got, tt.name, tt.want, runtime.GOARCH)
		}

		name, ok := sysnum.Name(tt.want)
		if !ok || name != tt.name {
			t.Errorf("Name(%d) = %q, %v, want %q", tt.want, name, ok, tt.name)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	names := sysnum.Names()
	if len(names) < 250 {
		t.Fatalf("Names returned %d names, want at least 250", len(names))
	}

	for _, name := range names {
		nr, ok := sysnum.Number(name)
		if !ok {
			t.Errorf("Number(%q) found nothing, but Names lists it", name)
			continue
		}

		// An alias maps back to the primary name of its number, which
		// must map to the same number.
		back, ok := sysnum.Name(nr)
		if !ok {
			t.Errorf("Name(%d) found nothing, but Number(%q) returned it", nr, name)
			continue
		}
		if again, _ := sysnum.Number(back); again != nr {
			t.Errorf("Number(%q) = %d, Name(%d) = %q, Number(%q) = %d", name, nr, nr, back, back, again)
		}
	}
}

func TestUnknown(t *testing.T) {
	for _, name := range []string{"", "no_such_syscall", "OPENAT", "__NR_openat", "openat ", "syscalls"} {
		if nr, ok := sysnum.Number(name); ok {
			t.Errorf("Number(%q) = %d, true; want false", name, nr)
		}
	}
	for _, nr := range []uint32{0xffffffff, 0x7fffffff, 100000} {
		if name, ok := sysnum.Name(nr); ok {
			t.Errorf("Name(%d) = %q, true; want false", nr, name)
		}
	}
}

func TestNamesSortedCopy(t *testing.T) {
	names := sysnum.Names()
	if !slices.IsSorted(names) {
		t.Error("Names is not sorted")
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Error("Names has duplicates")
	}

	names[0] = "changed"
	if again := sysnum.Names(); again[0] == "changed" {
		t.Error("Names returned the package's own slice, not a copy")
	}
}

func TestNoAllocations(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		nr, ok := sysnum.Number("getppid")
		if !ok {
			panic("getppid not found")
		}
		if _, ok := sysnum.Name(nr); !ok {
			panic("getppid's number not found")
		}
		sysnum.Number("no_such_syscall")
		sysnum.Name(0xffffffff)
	})
	if allocs != 0 {
		t.Errorf("Number and Name allocate %v times per call pair, want 0", allocs)
	}
}

func BenchmarkNumber(b *testing.B) {
	for b.Loop() {
		sysnum.Number("seccomp")
	}
}

func BenchmarkName(b *testing.B) {
	for b.Loop() {
		sysnum.Name(unix.SYS_SECCOMP)
	}
}

func ExampleNumber() {
	nr, ok := sysnum.Number("getppid")
	if !ok {
		fmt.Println("getppid is not a system call on", runtime.GOARCH)
		return
	}
	name, _ := sysnum.Name(nr)
	fmt.Println(name)
	// Output: getppid
}
