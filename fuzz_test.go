package seccomp_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/sysnum"
)

// seccompOpcodes are the opcodes a seccomp filter may use. decodeProgram
// draws most opcodes from it, so that the fuzzer reaches the checks past the
// opcode whitelist instead of failing at the first instruction.
var seccompOpcodes = []uint16{
	unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, unix.BPF_LD | unix.BPF_W | unix.BPF_LEN,
	unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN, unix.BPF_LD | unix.BPF_IMM, unix.BPF_LDX | unix.BPF_IMM,
	unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM, unix.BPF_ST, unix.BPF_STX,
	unix.BPF_RET | unix.BPF_K, unix.BPF_RET | unix.BPF_A,
	unix.BPF_ALU | unix.BPF_ADD | unix.BPF_K, unix.BPF_ALU | unix.BPF_ADD | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_SUB | unix.BPF_K, unix.BPF_ALU | unix.BPF_SUB | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_MUL | unix.BPF_K, unix.BPF_ALU | unix.BPF_MUL | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K, unix.BPF_ALU | unix.BPF_DIV | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, unix.BPF_ALU | unix.BPF_AND | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_OR | unix.BPF_K, unix.BPF_ALU | unix.BPF_OR | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_XOR | unix.BPF_K, unix.BPF_ALU | unix.BPF_XOR | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_LSH | unix.BPF_K, unix.BPF_ALU | unix.BPF_LSH | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K, unix.BPF_ALU | unix.BPF_RSH | unix.BPF_X,
	unix.BPF_ALU | unix.BPF_NEG, unix.BPF_MISC | unix.BPF_TAX, unix.BPF_MISC | unix.BPF_TXA,
	unix.BPF_JMP | unix.BPF_JA,
	unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_X,
	unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_X,
	unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_X,
	unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_X,
}

// decodeProgram turns fuzz input into a program, 8 bytes per instruction: a
// 16-bit opcode selector, jt, jf and a 32-bit k, all little-endian. A
// selector with the top bit clear picks from seccompOpcodes, one with it set
// is a raw opcode, which is mostly invalid.
func decodeProgram(b []byte) []unix.SockFilter {
	prog := make([]unix.SockFilter, 0, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		sel := binary.LittleEndian.Uint16(b[0:])
		code := sel & 0x7fff
		if sel&0x8000 == 0 {
			code = seccompOpcodes[int(sel)%len(seccompOpcodes)]
		}
		prog = append(prog, unix.SockFilter{Code: code, Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:])})
	}
	return prog
}

// encodeProgram is the inverse of decodeProgram for programs that use only
// seccompOpcodes, for seeding the corpus.
func encodeProgram(prog []unix.SockFilter) []byte {
	b := make([]byte, 0, 8*len(prog))
	for _, ins := range prog {
		sel := uint16(0x8000) | ins.Code
		for i, code := range seccompOpcodes {
			if code == ins.Code {
				sel = uint16(i)
				break
			}
		}
		b = binary.LittleEndian.AppendUint16(b, sel)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.LittleEndian.AppendUint32(b, ins.K)
	}
	return b
}

// FuzzValidateProgram checks ValidateProgram and Evaluate on arbitrary
// programs: neither panics, Evaluate fails exactly when ValidateProgram does,
// and the running kernel accepts exactly the programs ValidateProgram
// accepts.
//
// The kernel gets the program behind an extra first instruction that returns
// ALLOW, so the filter it installs on a discarded thread never acts on
// anything else. The kernel checks every instruction whether or not it can be
// reached, and the extra return writes no scratch memory, so the verdict is
// the one for the program itself.
func FuzzValidateProgram(f *testing.F) {
	ret := unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)}
	seeds := [][]unix.SockFilter{
		{ret},
		notifyFilter(unix.SYS_GETPPID),
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 60}, ret},
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 62}, ret},
		{{Code: unix.BPF_ST, K: 3}, {Code: unix.BPF_LD | unix.BPF_MEM, K: 3}, ret},
		{{Code: unix.BPF_LD | unix.BPF_MEM, K: 3}, ret},
		{{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1}, {Code: unix.BPF_ST, K: 2}, {Code: unix.BPF_LDX | unix.BPF_MEM, K: 2}, ret},
		{{Code: unix.BPF_ALU | unix.BPF_DIV | unix.BPF_X}, {Code: unix.BPF_RET | unix.BPF_A}},
		{{Code: unix.BPF_ALU | unix.BPF_LSH | unix.BPF_K, K: 31}, {Code: unix.BPF_MISC | unix.BPF_TAX}, {Code: unix.BPF_ALU | unix.BPF_RSH | unix.BPF_X}, {Code: unix.BPF_RET | unix.BPF_A}},
		{{Code: unix.BPF_JMP | unix.BPF_JA, K: 1}, ret, ret},
		{{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS}, ret},
	}
	for _, prog := range seeds {
		f.Add(encodeProgram(prog), int32(unix.SYS_GETPPID), uint32(seccomp.AuditArchNative), uint64(0))
	}
	f.Add([]byte{}, int32(0), uint32(0), uint64(0))

	f.Fuzz(func(t *testing.T, raw []byte, nr int32, arch uint32, arg0 uint64) {
		prog := decodeProgram(raw)
		data := seccomp.Data{Nr: nr, Arch: arch, Args: [6]uint64{arg0, ^arg0, 0, 1, arg0 >> 32, arg0 << 32}}

		verdict := seccomp.ValidateProgram(prog)
		_, err := seccomp.Evaluate(prog, &data)
		if (err == nil) != (verdict == nil) {
			t.Fatalf("Evaluate error %v, ValidateProgram %v", err, verdict)
		}
		if err != nil {
			var progErr *seccomp.ProgramError
			if !errors.As(err, &progErr) {
				t.Fatalf("Evaluate error %T is not a *ProgramError", err)
			}
			if progErr.Index >= len(prog) || progErr.Index < -1 {
				t.Fatalf("ProgramError.Index %d outside a program of %d instructions", progErr.Index, len(prog))
			}
		}

		if len(prog) == 0 || len(prog) >= seccomp.MaxInstructions {
			return
		}
		guarded := append([]unix.SockFilter{ret}, prog...)
		want := seccomp.ValidateProgram(guarded)
		got := installRaw(guarded)
		if (got == nil) != (want == nil) {
			t.Fatalf("kernel returned %v, ValidateProgram returned %v, for %v", got, want, guarded)
		}
	})
}

// installRaw installs prog on a discarded thread with seccomp(2) directly,
// bypassing SetModeFilter's own validation, and returns the kernel's errno.
func installRaw(prog []unix.SockFilter) error {
	var err error
	onDiscardedThread(func() {
		if err = seccomp.SetNoNewPrivs(); err != nil {
			return
		}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		_, _, errno := unix.Syscall(unix.SYS_SECCOMP, uintptr(seccomp.OpSetModeFilter), 0, uintptr(unsafe.Pointer(&fprog)))
		if errno != 0 {
			err = errno
		}
	})
	return err
}

// FuzzFilterFlagsRoundTrip checks that every flag set survives String and
// ParseFilterFlags, and that any string ParseFilterFlags accepts prints as a
// string that parses to the same flags.
func FuzzFilterFlagsRoundTrip(f *testing.F) {
	f.Add(uint32(0), "0")
	f.Add(uint32(seccomp.FilterFlagTSync|seccomp.FilterFlagNewListener), "TSYNC|NEW_LISTENER")
	f.Add(uint32(0x80000041), "SECCOMP_FILTER_FLAG_LOG | 0x100")
	f.Add(uint32(0xffffffff), "ALLOW_NESTED_LISTENERS|0x8|")
	f.Add(uint32(1), " 0b1 | 0o7 |WAIT_KILLABLE_RECV")

	f.Fuzz(func(t *testing.T, bits uint32, s string) {
		flags := seccomp.FilterFlag(bits)
		text := flags.String()
		back, err := seccomp.ParseFilterFlags(text)
		if err != nil || back != flags {
			t.Fatalf("ParseFilterFlags(%q) = %#x, %v; want %#x", text, uint32(back), err, bits)
		}

		parsed, err := seccomp.ParseFilterFlags(s)
		if err != nil {
			return
		}
		again, err := seccomp.ParseFilterFlags(parsed.String())
		if err != nil || again != parsed {
			t.Fatalf("ParseFilterFlags(%q) = %#x, printed %q, parsed again %#x, %v", s, uint32(parsed), parsed.String(), uint32(again), err)
		}
	})
}

// FuzzActionRoundTrip checks that every action survives String and
// ParseAction, and that any string ParseAction accepts prints as a string
// that parses to the same action.
func FuzzActionRoundTrip(f *testing.F) {
	f.Add(uint32(seccomp.ActionAllow), "ALLOW")
	f.Add(uint32(seccomp.ErrnoAction(unix.EPERM)), "ERRNO(EPERM)")
	f.Add(uint32(seccomp.ActionErrno|0xffff), "SECCOMP_RET_ERRNO(0xffff)")
	f.Add(uint32(seccomp.ActionKillProcess|7), " KILL ")
	f.Add(uint32(0x12340005), "TRACE(0o17)")
	f.Add(uint32(seccomp.ActionUserNotif), "0x7fc00000")

	f.Fuzz(func(t *testing.T, bits uint32, s string) {
		action := seccomp.Action(bits)
		text := action.String()
		back, err := seccomp.ParseAction(text)
		if err != nil || back != action {
			t.Fatalf("ParseAction(%q) = %#x, %v; want %#x", text, uint32(back), err, bits)
		}

		parsed, err := seccomp.ParseAction(s)
		if err != nil {
			return
		}
		again, err := seccomp.ParseAction(parsed.String())
		if err != nil || again != parsed {
			t.Fatalf("ParseAction(%q) = %#x, printed %q, parsed again %#x, %v", s, uint32(parsed), parsed.String(), uint32(again), err)
		}
	})
}

// FuzzSysnumRoundTrip checks sysnum.Name and sysnum.Number on arbitrary
// input: a name that Number finds maps to a number whose Name maps back to
// the same number, and a number that Name finds maps back through Number.
func FuzzSysnumRoundTrip(f *testing.F) {
	f.Add("getppid", uint32(unix.SYS_GETPPID))
	f.Add("openat", uint32(0))
	f.Add("", uint32(0xffffffff))
	f.Add("_llseek", uint32(0x40000000))

	f.Fuzz(func(t *testing.T, name string, nr uint32) {
		if got, ok := sysnum.Number(name); ok {
			primary, ok := sysnum.Name(got)
			if !ok {
				t.Fatalf("Number(%q) = %d, but Name(%d) finds nothing", name, got, got)
			}
			if back, _ := sysnum.Number(primary); back != got {
				t.Fatalf("Number(%q) = %d, Name(%d) = %q, Number(%q) = %d", name, got, got, primary, primary, back)
			}
		}

		if got, ok := sysnum.Name(nr); ok {
			if back, ok := sysnum.Number(got); !ok || back != nr {
				t.Fatalf("Name(%d) = %q, Number(%q) = %d, %t", nr, got, got, back, ok)
			}
		}
	})
}
