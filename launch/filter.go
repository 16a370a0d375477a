package launch

import (
	"errors"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/sysnum"
)

// x32SyscallBit is __X32_SYSCALL_BIT: on amd64, system calls of the x32 ABI
// report AUDIT_ARCH_X86_64 with this bit set in the number.
const x32SyscallBit = 0x40000000

// NotifyFilter returns a filter program that returns USER_NOTIF for the
// system calls in nrs and allows every other call. It kills the process when
// a system call comes from another architecture than the one the program was
// built for, and on amd64 when the call's number is at or above the x32 bit,
// as the x32 ABI's numbers are.
//
// Duplicate numbers are ignored. It returns an error if nrs is empty, if the
// program would exceed [seccomp.MaxInstructions], or, on amd64, if a number
// is at or above the x32 bit, as the filter would kill that call instead.
func NotifyFilter(nrs []uint32) ([]unix.SockFilter, error) {
	if len(nrs) == 0 {
		return nil, errors.New("launch: notify filter: no system calls to notify")
	}
	if runtime.GOARCH == "amd64" {
		for _, nr := range nrs {
			if nr >= x32SyscallBit {
				return nil, fmt.Errorf("launch: notify filter: system call number %#x is at or above the x32 bit %#x, and the filter kills every such call", nr, x32SyscallBit)
			}
		}
	}
	nrs = slices.Clone(nrs)
	slices.Sort(nrs)
	nrs = slices.Compact(nrs)

	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, // seccomp_data.arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, K: seccomp.AuditArchNative},
		{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionKillProcess)},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
	}
	if runtime.GOARCH == "amd64" {
		prog = append(prog,
			unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, Jf: 1, K: x32SyscallBit},
			unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionKillProcess)},
		)
	}

	// Two instructions per call keep every jump short, whatever the count.
	for _, nr := range nrs {
		prog = append(prog,
			unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: 1, K: nr},
			unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionUserNotif)},
		)
	}
	prog = append(prog, unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)})

	if len(prog) > seccomp.MaxInstructions {
		return nil, fmt.Errorf("launch: notify filter: %d system calls need %d instructions, more than the maximum of %d", len(nrs), len(prog), seccomp.MaxInstructions)
	}
	return prog, nil
}

// NotifyFilterNames is [NotifyFilter] for system calls given by name, such
// as "openat", resolved for the architecture the program was built for.
// A name that architecture lacks is an error, for example "open" on arm64.
func NotifyFilterNames(names []string) ([]unix.SockFilter, error) {
	nrs, err := Resolve(names)
	if err != nil {
		return nil, err
	}
	return NotifyFilter(nrs)
}

// Resolve returns the numbers of the named system calls on the
// architecture the program was built for.
func Resolve(names []string) ([]uint32, error) {
	nrs := make([]uint32, 0, len(names))
	for _, name := range names {
		nr, ok := sysnum.Number(name)
		if !ok {
			return nil, fmt.Errorf("launch: unknown system call %q on %s", name, runtime.GOARCH)
		}
		nrs = append(nrs, nr)
	}
	return nrs, nil
}
