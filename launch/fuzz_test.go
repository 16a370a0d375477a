package launch_test

import (
	"encoding/binary"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/launch"
)

// x32Bit is __X32_SYSCALL_BIT, which marks x32 system calls on amd64.
const x32Bit = 0x40000000

// FuzzNotifyFilter builds a filter from arbitrary system call numbers and
// checks it: the program validates, and for the native architecture it
// returns USER_NOTIF exactly for the listed numbers. probe is one more number
// to evaluate, listed or not.
func FuzzNotifyFilter(f *testing.F) {
	f.Add(binary.LittleEndian.AppendUint32(nil, unix.SYS_GETPPID), uint32(unix.SYS_GETPID))
	f.Add(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0), 0xffffffff), uint32(0))
	f.Add(binary.LittleEndian.AppendUint32(nil, x32Bit|1), uint32(x32Bit|1))
	f.Add([]byte{}, uint32(7))

	f.Fuzz(func(t *testing.T, raw []byte, probe uint32) {
		var nrs []uint32
		for ; len(raw) >= 4; raw = raw[4:] {
			nrs = append(nrs, binary.LittleEndian.Uint32(raw))
		}
		unique := slices.Compact(slices.Sorted(slices.Values(nrs)))

		prog, err := launch.NotifyFilter(nrs)
		if err != nil {
			msg := err.Error()
			switch {
			case len(nrs) == 0 && strings.Contains(msg, "no system calls to notify"):
			case 4+2*len(unique) > seccomp.MaxInstructions && strings.Contains(msg, "more than the maximum"):
			case runtime.GOARCH == "amd64" && len(unique) > 0 && unique[len(unique)-1] >= x32Bit && strings.Contains(msg, "x32"):
			default:
				t.Fatalf("NotifyFilter(%d numbers) = %v", len(nrs), err)
			}
			return
		}
		if err := seccomp.ValidateProgram(prog); err != nil {
			t.Fatalf("NotifyFilter program is invalid: %v", err)
		}

		check := func(nr uint32) {
			data := seccomp.Data{Nr: int32(nr), Arch: seccomp.AuditArchNative}
			got, err := seccomp.Evaluate(prog, &data)
			if err != nil {
				t.Fatal(err)
			}
			want := seccomp.ActionAllow
			switch {
			case slices.Contains(unique, nr):
				want = seccomp.ActionUserNotif
			case runtime.GOARCH == "amd64" && nr >= x32Bit:
				// The filter takes every number from the x32 bit up for an
				// x32 call.
				want = seccomp.ActionKillProcess
			}
			if got != want {
				t.Fatalf("filter for %v returns %v for %d (%#x), want %v", unique, got, nr, nr, want)
			}

			foreign := seccomp.Data{Nr: int32(nr), Arch: seccomp.AuditArchNative ^ 1}
			if got, _ := seccomp.Evaluate(prog, &foreign); got != seccomp.ActionKillProcess {
				t.Fatalf("filter returns %v for a foreign architecture, want KILL_PROCESS", got)
			}
		}
		for _, nr := range unique[:min(len(unique), 64)] {
			check(nr)
		}
		check(probe)
	})
}
