package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxInstructions is BPF_MAXINSNS, the most instructions one filter program
// may have. The kernel also limits the filters of one thread to 32768
// instructions in total, counting 4 more for each filter.
const MaxInstructions = _BPF_MAXINSNS

// memWords is BPF_MEMWORDS, the number of scratch memory cells.
const memWords = 16

// ProgramError reports why a filter program would be rejected by the kernel.
type ProgramError struct {
	// Index is the offending instruction, or -1 when the program as a whole
	// is wrong (empty or too long).
	Index int
	// Reason describes the problem.
	Reason string
}

func (e *ProgramError) Error() string {
	if e.Index < 0 {
		return "invalid filter program: " + e.Reason
	}
	return fmt.Sprintf("invalid filter program: instruction %d: %s", e.Index, e.Reason)
}

// ValidateProgram checks a classic BPF program against the rules the kernel
// applies to seccomp filters (bpf_check_classic and seccomp_check_filter), so
// that a mistake is reported with the instruction and the reason instead of a
// bare EINVAL: the length, the opcodes seccomp allows, absolute loads that are
// 4-byte aligned and inside [Data], jump targets, division by a zero constant,
// shifts of 32 or more, scratch memory indexes and reads of scratch memory
// that no path has written, and a final return instruction. It returns a
// *[ProgramError], or nil.
func ValidateProgram(prog []unix.SockFilter) error {
	switch {
	case len(prog) == 0:
		return &ProgramError{Index: -1, Reason: "program is empty"}
	case len(prog) > MaxInstructions:
		return &ProgramError{Index: -1, Reason: fmt.Sprintf("program has %d instructions, more than the maximum of %d", len(prog), MaxInstructions)}
	}

	for pc, ins := range prog {
		if reason := checkInstruction(prog, pc, ins); reason != "" {
			return &ProgramError{Index: pc, Reason: reason}
		}
	}

	last := len(prog) - 1
	if code := prog[last].Code; code != unix.BPF_RET|unix.BPF_K && code != unix.BPF_RET|unix.BPF_A {
		return &ProgramError{Index: last, Reason: "the last instruction must be a return"}
	}
	return checkScratchMemory(prog)
}

// checkInstruction returns why one instruction is invalid, or "".
func checkInstruction(prog []unix.SockFilter, pc int, ins unix.SockFilter) string {
	remaining := len(prog) - pc - 1 // instructions after this one

	switch ins.Code {
	case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
		if ins.K >= SizeofData || ins.K%4 != 0 {
			return fmt.Sprintf("load offset %d is not a 4-byte aligned offset inside seccomp_data (%d bytes)", ins.K, SizeofData)
		}

	case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN, unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN,
		unix.BPF_RET | unix.BPF_K, unix.BPF_RET | unix.BPF_A,
		unix.BPF_ALU | unix.BPF_ADD | unix.BPF_K, unix.BPF_ALU | unix.BPF_ADD | unix.BPF_X,
		unix.BPF_ALU | unix.BPF_SUB | unix.BPF_K, unix.BPF_ALU | unix.BPF_SUB | unix.BPF_X,
		unix.BPF_ALU | unix.BPF_MUL | unix.BPF_K, unix.BPF_ALU | unix.BPF_MUL | unix.BPF_X,
		unix.BPF_ALU | unix.BPF_DIV | unix.BPF_X,
		unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, unix.BPF_ALU | unix.BPF_AND | unix.BPF_X,
		unix.BPF_ALU | unix.BPF_OR | unix.BPF_K, unix.BPF_ALU | unix.BPF_OR | unix.BPF_X,
		unix.BPF_ALU | unix.BPF_XOR | unix.BPF_K, unix.BPF_ALU | unix.BPF_XOR | unix.BPF_X,
		unix.BPF_ALU | unix.BPF_LSH | unix.BPF_X, unix.BPF_ALU | unix.BPF_RSH | unix.BPF_X,
		unix.BPF_ALU | unix.BPF_NEG,
		unix.BPF_LD | unix.BPF_IMM, unix.BPF_LDX | unix.BPF_IMM,
		unix.BPF_MISC | unix.BPF_TAX, unix.BPF_MISC | unix.BPF_TXA:
		// Allowed with any operand.

	case unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K:
		if ins.K == 0 {
			return "division by the constant 0"
		}

	case unix.BPF_ALU | unix.BPF_LSH | unix.BPF_K, unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K:
		if ins.K >= 32 {
			return fmt.Sprintf("shift by %d, must be less than 32", ins.K)
		}

	case unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM, unix.BPF_ST, unix.BPF_STX:
		if ins.K >= memWords {
			return fmt.Sprintf("scratch memory index %d, must be less than %d", ins.K, memWords)
		}

	case unix.BPF_JMP | unix.BPF_JA:
		if uint64(ins.K) >= uint64(remaining) {
			return fmt.Sprintf("jump offset %d goes past the end of the program", ins.K)
		}

	case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_X,
		unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_X,
		unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_X,
		unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_X:
		if int(ins.Jt) >= remaining || int(ins.Jf) >= remaining {
			return fmt.Sprintf("conditional jump offsets %d and %d go past the end of the program", ins.Jt, ins.Jf)
		}

	default:
		return fmt.Sprintf("opcode %#04x is not allowed in a seccomp filter", ins.Code)
	}
	return ""
}

// checkScratchMemory rejects a load from a scratch memory cell that some path
// reaches without storing to it first, as the kernel's
// check_load_and_stores does, with the same conservative rule: the state after
// a return still flows into the next instruction. Classic BPF only jumps
// forward, so one pass in program order meets every jump into an instruction
// before the instruction itself.
func checkScratchMemory(prog []unix.SockFilter) error {
	// valid[pc] is the set of cells written on every path seen so far into pc.
	valid := make([]uint16, len(prog))
	for i := range valid {
		valid[i] = 0xffff
	}

	var written uint16 // cells written on the path falling through to pc
	for pc, ins := range prog {
		written &= valid[pc]

		switch ins.Code {
		case unix.BPF_ST, unix.BPF_STX:
			written |= 1 << ins.K
		case unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM:
			if written&(1<<ins.K) == 0 {
				return &ProgramError{Index: pc, Reason: fmt.Sprintf("loads scratch memory cell %d before any store to it", ins.K)}
			}
		case unix.BPF_JMP | unix.BPF_JA:
			valid[pc+1+int(ins.K)] &= written
			written = 0xffff // nothing falls through an unconditional jump
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_X,
			unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_X,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_X,
			unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_X:
			valid[pc+1+int(ins.Jt)] &= written
			valid[pc+1+int(ins.Jf)] &= written
			written = 0xffff
		}
	}
	return nil
}

// Evaluate runs prog on data as the kernel would and returns the action it
// returns, without installing anything. It validates prog first with
// [ValidateProgram], and returns an error for a nil data. Use it to test a
// filter, or to check what a filter does with a system call before
// installing it.
func Evaluate(prog []unix.SockFilter, data *Data) (Action, error) {
	if data == nil {
		return 0, errors.New("seccomp: evaluate: nil Data")
	}
	if err := ValidateProgram(prog); err != nil {
		return 0, err
	}

	// Loads read seccomp_data in native byte order, as the kernel does.
	raw := (*[SizeofData]byte)(unsafe.Pointer(data))
	var a, x uint32
	var mem [memWords]uint32

	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a = binary.NativeEndian.Uint32(raw[ins.K:])
		case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN:
			a = SizeofData
		case unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN:
			x = SizeofData
		case unix.BPF_LD | unix.BPF_IMM:
			a = ins.K
		case unix.BPF_LDX | unix.BPF_IMM:
			x = ins.K
		case unix.BPF_LD | unix.BPF_MEM:
			a = mem[ins.K]
		case unix.BPF_LDX | unix.BPF_MEM:
			x = mem[ins.K]
		case unix.BPF_ST:
			mem[ins.K] = a
		case unix.BPF_STX:
			mem[ins.K] = x
		case unix.BPF_MISC | unix.BPF_TAX:
			x = a
		case unix.BPF_MISC | unix.BPF_TXA:
			a = x
		case unix.BPF_RET | unix.BPF_K:
			return Action(ins.K), nil
		case unix.BPF_RET | unix.BPF_A:
			return Action(a), nil
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(ins.K)
		default:
			switch ins.Code & 0x07 { // BPF_CLASS
			case unix.BPF_ALU:
				var ok bool
				if a, ok = alu(ins, a, x); !ok {
					// Division by a zero X ends the program with 0, which
					// is KILL_THREAD.
					return ActionKillThread, nil
				}
			case unix.BPF_JMP:
				if jumpTaken(ins, a, x) {
					pc += int(ins.Jt)
				} else {
					pc += int(ins.Jf)
				}
			}
		}
	}
	// ValidateProgram guarantees a final return, so this is unreachable.
	return ActionKillThread, nil
}

func alu(ins unix.SockFilter, a, x uint32) (uint32, bool) {
	operand := ins.K
	if ins.Code&unix.BPF_X != 0 {
		operand = x
	}
	switch ins.Code & 0xf0 { // BPF_OP
	case unix.BPF_ADD:
		return a + operand, true
	case unix.BPF_SUB:
		return a - operand, true
	case unix.BPF_MUL:
		return a * operand, true
	case unix.BPF_DIV:
		if operand == 0 {
			return 0, false
		}
		return a / operand, true
	case unix.BPF_AND:
		return a & operand, true
	case unix.BPF_OR:
		return a | operand, true
	case unix.BPF_XOR:
		return a ^ operand, true
	case unix.BPF_LSH:
		return a << (operand & 31), true
	case unix.BPF_RSH:
		return a >> (operand & 31), true
	case unix.BPF_NEG:
		return -a, true
	}
	return a, true
}

func jumpTaken(ins unix.SockFilter, a, x uint32) bool {
	operand := ins.K
	if ins.Code&unix.BPF_X != 0 {
		operand = x
	}
	switch ins.Code & 0xf0 {
	case unix.BPF_JEQ:
		return a == operand
	case unix.BPF_JGT:
		return a > operand
	case unix.BPF_JGE:
		return a >= operand
	default: // BPF_JSET
		return a&operand != 0
	}
}
