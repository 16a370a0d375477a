package seccomp_test

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

func TestConstantsMatchXSys(t *testing.T) {
	tests := []struct {
		name string
		ours uint64
		xsys uint64
	}{
		{"SECCOMP_SET_MODE_STRICT", uint64(seccomp.OpSetModeStrict), unix.SECCOMP_SET_MODE_STRICT},
		{"SECCOMP_SET_MODE_FILTER", uint64(seccomp.OpSetModeFilter), unix.SECCOMP_SET_MODE_FILTER},
		{"SECCOMP_GET_ACTION_AVAIL", uint64(seccomp.OpGetActionAvail), unix.SECCOMP_GET_ACTION_AVAIL},
		{"SECCOMP_GET_NOTIF_SIZES", uint64(seccomp.OpGetNotifSizes), unix.SECCOMP_GET_NOTIF_SIZES},
		{"SECCOMP_MODE_DISABLED", uint64(seccomp.ModeDisabled), unix.SECCOMP_MODE_DISABLED},
		{"SECCOMP_MODE_STRICT", uint64(seccomp.ModeStrict), unix.SECCOMP_MODE_STRICT},
		{"SECCOMP_MODE_FILTER", uint64(seccomp.ModeFilter), unix.SECCOMP_MODE_FILTER},
		{"SECCOMP_FILTER_FLAG_TSYNC", uint64(seccomp.FilterFlagTSync), unix.SECCOMP_FILTER_FLAG_TSYNC},
		{"SECCOMP_FILTER_FLAG_LOG", uint64(seccomp.FilterFlagLog), unix.SECCOMP_FILTER_FLAG_LOG},
		{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", uint64(seccomp.FilterFlagSpecAllow), unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
		{"SECCOMP_FILTER_FLAG_NEW_LISTENER", uint64(seccomp.FilterFlagNewListener), unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
		{"SECCOMP_FILTER_FLAG_TSYNC_ESRCH", uint64(seccomp.FilterFlagTSyncESRCH), unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
		{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", uint64(seccomp.FilterFlagWaitKillableRecv), unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
		{"SECCOMP_RET_KILL_PROCESS", uint64(seccomp.ActionKillProcess), unix.SECCOMP_RET_KILL_PROCESS},
		{"SECCOMP_RET_KILL_THREAD", uint64(seccomp.ActionKillThread), unix.SECCOMP_RET_KILL_THREAD},
		{"SECCOMP_RET_KILL", uint64(seccomp.ActionKillThread), unix.SECCOMP_RET_KILL},
		{"SECCOMP_RET_TRAP", uint64(seccomp.ActionTrap), unix.SECCOMP_RET_TRAP},
		{"SECCOMP_RET_ERRNO", uint64(seccomp.ActionErrno), unix.SECCOMP_RET_ERRNO},
		{"SECCOMP_RET_USER_NOTIF", uint64(seccomp.ActionUserNotif), unix.SECCOMP_RET_USER_NOTIF},
		{"SECCOMP_RET_TRACE", uint64(seccomp.ActionTrace), unix.SECCOMP_RET_TRACE},
		{"SECCOMP_RET_LOG", uint64(seccomp.ActionLog), unix.SECCOMP_RET_LOG},
		{"SECCOMP_RET_ALLOW", uint64(seccomp.ActionAllow), unix.SECCOMP_RET_ALLOW},
		{"SECCOMP_RET_ACTION_FULL", uint64(seccomp.ActionMaskFull), unix.SECCOMP_RET_ACTION_FULL},
		{"SECCOMP_RET_ACTION", uint64(seccomp.ActionMask), unix.SECCOMP_RET_ACTION},
		{"SECCOMP_RET_DATA", uint64(seccomp.ActionDataMask), unix.SECCOMP_RET_DATA},
		{"SECCOMP_USER_NOTIF_FLAG_CONTINUE", uint64(seccomp.NotifRespFlagContinue), unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE},
		{"SECCOMP_ADDFD_FLAG_SETFD", uint64(seccomp.AddFDFlagSetFD), unix.SECCOMP_ADDFD_FLAG_SETFD},
		{"SECCOMP_ADDFD_FLAG_SEND", uint64(seccomp.AddFDFlagSend), unix.SECCOMP_ADDFD_FLAG_SEND},
		{"SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP", uint64(seccomp.NotifFDFlagSyncWakeUp), unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP},
		{"BPF_MAXINSNS", seccomp.MaxInstructions, unix.BPF_MAXINSNS},
		{"SizeofSockFprog is what SockFprog occupies", uint64(unsafe.Sizeof(unix.SockFprog{})), unix.SizeofSockFprog},
	}
	for _, tt := range tests {
		if tt.ours != tt.xsys {
			t.Errorf("%s = %#x, x/sys has %#x", tt.name, tt.ours, tt.xsys)
		}
	}
}

func TestNestedFlagValue(t *testing.T) {
	// The proposed series defines SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS
	// as 1UL << 6 in every version posted (v1 to v3).
	if seccomp.FilterFlagAllowNestedListeners != 1<<6 {
		t.Errorf("FilterFlagAllowNestedListeners = %#x, want 1<<6", uint32(seccomp.FilterFlagAllowNestedListeners))
	}
}

func TestAuditArchMatchesXSys(t *testing.T) {
	want := map[string]uint64{
		"386": unix.AUDIT_ARCH_I386, "amd64": unix.AUDIT_ARCH_X86_64,
		"arm": unix.AUDIT_ARCH_ARM, "arm64": unix.AUDIT_ARCH_AARCH64,
		"loong64": unix.AUDIT_ARCH_LOONGARCH64, "mips": unix.AUDIT_ARCH_MIPS,
		"mipsle": unix.AUDIT_ARCH_MIPSEL, "mips64": unix.AUDIT_ARCH_MIPS64,
		"mips64le": unix.AUDIT_ARCH_MIPSEL64, "ppc64": unix.AUDIT_ARCH_PPC64,
		"ppc64le": unix.AUDIT_ARCH_PPC64LE, "riscv64": unix.AUDIT_ARCH_RISCV64,
		"s390x": unix.AUDIT_ARCH_S390X,
	}[runtime.GOARCH]
	if seccomp.AuditArchNative != want {
		t.Errorf("AuditArchNative = %#x on %s, x/sys has %#x", seccomp.AuditArchNative, runtime.GOARCH, want)
	}
}

func TestStructSizesMatchKernel(t *testing.T) {
	requireFeature(t, "GET_NOTIF_SIZES", "5.0", featureFromErr(seccomp.GetNotifSizes()))
	sizes, err := seccomp.GetNotifSizes()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name           string
		kernel, goSize int
		sizeConst      int
	}{
		{"seccomp_notif", int(sizes.Notif), int(unsafe.Sizeof(seccomp.Notif{})), seccomp.SizeofNotif},
		{"seccomp_notif_resp", int(sizes.NotifResp), int(unsafe.Sizeof(seccomp.NotifResp{})), seccomp.SizeofNotifResp},
		{"seccomp_data", int(sizes.Data), int(unsafe.Sizeof(seccomp.Data{})), seccomp.SizeofData},
	}
	for _, tt := range tests {
		if tt.goSize != tt.sizeConst {
			t.Errorf("%s: Go struct is %d bytes, size constant says %d", tt.name, tt.goSize, tt.sizeConst)
		}
		// A newer kernel may have grown the struct; it must never be smaller.
		if tt.kernel < tt.goSize {
			t.Errorf("%s: kernel reports %d bytes, smaller than the Go struct's %d", tt.name, tt.kernel, tt.goSize)
		}
		if tt.kernel != tt.goSize {
			t.Logf("%s: kernel reports %d bytes, Go struct has %d", tt.name, tt.kernel, tt.goSize)
		}
	}
	// The kernel accepts ADDFD structs of at least 24 bytes
	// (SECCOMP_NOTIFY_ADDFD_SIZE_VER0).
	if got := unsafe.Sizeof(seccomp.NotifAddFD{}); got != seccomp.SizeofNotifAddFD || seccomp.SizeofNotifAddFD != 24 {
		t.Errorf("NotifAddFD is %d bytes and SizeofNotifAddFD %d, want 24", got, seccomp.SizeofNotifAddFD)
	}
	if got := unsafe.Sizeof(seccomp.NotifSizes{}); got != seccomp.SizeofNotifSizes {
		t.Errorf("NotifSizes is %d bytes, SizeofNotifSizes %d", got, seccomp.SizeofNotifSizes)
	}
}

// featureFromErr turns the result of a call that needs a kernel feature into
// a probe result for requireFeature: EINVAL from an unknown operation means
// the feature is missing.
func featureFromErr[T any](_ T, err error) error {
	if err != nil && errors.Is(err, unix.EINVAL) {
		return errors.Join(seccomp.ErrNotSupported, err)
	}
	return err
}

func TestFilterFlagString(t *testing.T) {
	tests := []struct {
		flags seccomp.FilterFlag
		want  string
	}{
		{0, "0"},
		{seccomp.FilterFlagTSync, "TSYNC"},
		{seccomp.FilterFlagTSync | seccomp.FilterFlagNewListener, "TSYNC|NEW_LISTENER"},
		{seccomp.FilterFlagNewListener | seccomp.FilterFlagAllowNestedListeners, "NEW_LISTENER|ALLOW_NESTED_LISTENERS"},
		{seccomp.FilterFlagLog | 0x100, "LOG|0x100"},
		{0x80000000, "0x80000000"},
	}
	for _, tt := range tests {
		if got := tt.flags.String(); got != tt.want {
			t.Errorf("FilterFlag(%#x).String() = %q, want %q", uint32(tt.flags), got, tt.want)
		}
		parsed, err := seccomp.ParseFilterFlags(tt.want)
		if err != nil || parsed != tt.flags {
			t.Errorf("ParseFilterFlags(%q) = %#x, %v; want %#x", tt.want, uint32(parsed), err, uint32(tt.flags))
		}
	}
}

func TestParseFilterFlags(t *testing.T) {
	tests := []struct {
		in      string
		want    seccomp.FilterFlag
		wantErr string
	}{
		{in: "SECCOMP_FILTER_FLAG_TSYNC | SPEC_ALLOW", want: seccomp.FilterFlagTSync | seccomp.FilterFlagSpecAllow},
		{in: "0x8", want: seccomp.FilterFlagNewListener},
		{in: "", wantErr: "empty flag name"},
		{in: "TSYNC|", wantErr: "empty flag name"},
		{in: "NESTED", wantErr: `unknown flag "NESTED"`},
	}
	for _, tt := range tests {
		got, err := seccomp.ParseFilterFlags(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFilterFlags(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFilterFlags(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestActionString(t *testing.T) {
	tests := []struct {
		action seccomp.Action
		want   string
	}{
		{seccomp.ActionAllow, "ALLOW"},
		{seccomp.ActionKillProcess, "KILL_PROCESS"},
		{seccomp.ActionKillThread, "KILL_THREAD"},
		{seccomp.ActionUserNotif, "USER_NOTIF"},
		{seccomp.ActionLog, "LOG"},
		{seccomp.ErrnoAction(unix.EPERM), "ERRNO(1)"},
		{seccomp.ActionErrno, "ERRNO(0)"},
		{seccomp.TrapAction(7), "TRAP(7)"},
		{seccomp.TraceAction(65535), "TRACE(65535)"},
		{seccomp.ActionAllow | 3, "ALLOW(3)"},
		{0x12340005, "0x12340005"},
	}
	for _, tt := range tests {
		if got := tt.action.String(); got != tt.want {
			t.Errorf("Action(%#x).String() = %q, want %q", uint32(tt.action), got, tt.want)
		}
		parsed, err := seccomp.ParseAction(tt.want)
		if err != nil || parsed != tt.action {
			t.Errorf("ParseAction(%q) = %#x, %v; want %#x", tt.want, uint32(parsed), err, uint32(tt.action))
		}
	}
}

func TestParseAction(t *testing.T) {
	tests := []struct {
		in      string
		want    seccomp.Action
		wantErr string
	}{
		{in: "ERRNO(EACCES)", want: seccomp.ErrnoAction(unix.EACCES)},
		{in: "SECCOMP_RET_KILL", want: seccomp.ActionKillThread},
		{in: " TRACE(0x10) ", want: seccomp.TraceAction(16)},
		{in: "ERRNO(1", wantErr: "missing closing parenthesis"},
		{in: "ERRNO(65536)", wantErr: "invalid action data"},
		{in: "ERRNO(ENOTANERRNO)", wantErr: "invalid action data"},
		{in: "DENY", wantErr: `unknown action "DENY"`},
	}
	for _, tt := range tests {
		got, err := seccomp.ParseAction(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAction(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAction(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestActionHelpers(t *testing.T) {
	a := seccomp.ErrnoAction(unix.EACCES)
	if a.Base() != seccomp.ActionErrno || a.Data() != uint16(unix.EACCES) {
		t.Errorf("ErrnoAction(EACCES) = base %v data %d", a.Base(), a.Data())
	}
	if errno, ok := a.Errno(); !ok || errno != unix.EACCES {
		t.Errorf("Errno() = %v, %t; want EACCES, true", errno, ok)
	}
	if _, ok := seccomp.ActionAllow.Errno(); ok {
		t.Error("ActionAllow.Errno() reports an errno")
	}
	// The kernel caps ERRNO data at MAX_ERRNO (4095).
	if got := seccomp.ErrnoAction(5000).Data(); got != 4095 {
		t.Errorf("ErrnoAction(5000).Data() = %d, want 4095", got)
	}
	if errno, _ := (seccomp.ActionErrno | 0xffff).Errno(); errno != 4095 {
		t.Errorf("Errno() of data 0xffff = %d, want 4095", errno)
	}
	if got := seccomp.ActionTrace.WithData(9); got != seccomp.TraceAction(9) {
		t.Errorf("WithData(9) = %v", got)
	}
}

func TestOtherTypesString(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{seccomp.OpGetNotifSizes.String(), "GET_NOTIF_SIZES"},
		{seccomp.Operation(9).String(), "0x9"},
		{seccomp.ModeFilter.String(), "FILTER"},
		{seccomp.NotifRespFlagContinue.String(), "CONTINUE"},
		{(seccomp.AddFDFlagSetFD | seccomp.AddFDFlagSend).String(), "SETFD|SEND"},
		{seccomp.NotifFDFlagSyncWakeUp.String(), "SYNC_WAKE_UP"},
		{seccomp.NotifFDFlag(2).String(), "0x2"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestSetModeFilterRejectsBadInput(t *testing.T) {
	long := make([]unix.SockFilter, seccomp.MaxInstructions+1)
	for i := range long {
		long[i] = unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)}
	}
	tests := []struct {
		name    string
		prog    []unix.SockFilter
		flags   seccomp.FilterFlag
		wantErr string
	}{
		{"nil program", nil, 0, "invalid filter program: program is empty"},
		{"oversized program", long, 0, "program has 4097 instructions, more than the maximum of 4096"},
		{"unknown flag bit", allowFilter(), 0x100, "unknown filter flag bits 0x100"},
		{"nested without listener", allowFilter(), seccomp.FilterFlagAllowNestedListeners, "flag ALLOW_NESTED_LISTENERS requires NEW_LISTENER"},
		{"killable without listener", allowFilter(), seccomp.FilterFlagWaitKillableRecv, "flag WAIT_KILLABLE_RECV requires NEW_LISTENER"},
		{"tsync with listener", allowFilter(), seccomp.FilterFlagTSync | seccomp.FilterFlagNewListener, "flags TSYNC and NEW_LISTENER together require TSYNC_ESRCH"},
		{"bad load", []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 2}, {Code: unix.BPF_RET | unix.BPF_K}}, 0, "instruction 0: load offset 2 is not a 4-byte aligned offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case fails before the system call, so nothing is installed
			// on the test's thread.
			fd, err := seccomp.SetModeFilter(tt.prog, tt.flags)
			if err == nil {
				t.Fatalf("SetModeFilter succeeded with fd %d", fd)
			}
			if fd != -1 {
				t.Errorf("fd = %d, want -1", fd)
			}
			if !strings.HasPrefix(err.Error(), "seccomp: install filter: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateProgram(t *testing.T) {
	ret := unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)}
	tests := []struct {
		name    string
		prog    []unix.SockFilter
		wantErr string // "" for a valid program
	}{
		{"single return", []unix.SockFilter{ret}, ""},
		{"notify filter", notifyFilter(unix.SYS_GETPPID), ""},
		{"load last arg high half", []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 60}, ret}, ""},
		{"load past data", []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 64}, ret}, "instruction 0: load offset 64"},
		{"byte load", []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS}, ret}, "instruction 0: opcode 0x0030 is not allowed"},
		{"modulo", []unix.SockFilter{{Code: unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K, K: 3}, ret}, "opcode 0x0094 is not allowed"},
		{"divide by zero", []unix.SockFilter{{Code: unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K}, ret}, "division by the constant 0"},
		{"shift too far", []unix.SockFilter{{Code: unix.BPF_ALU | unix.BPF_LSH | unix.BPF_K, K: 32}, ret}, "shift by 32"},
		{"no return at end", []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_IMM}}, "instruction 0: the last instruction must be a return"},
		{"jump past end", []unix.SockFilter{{Code: unix.BPF_JMP | unix.BPF_JA, K: 1}, ret}, "jump offset 1 goes past the end"},
		{"conditional jump past end", []unix.SockFilter{{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1}, ret}, "conditional jump offsets 0 and 1"},
		{"memory index", []unix.SockFilter{{Code: unix.BPF_ST, K: 16}, ret}, "scratch memory index 16"},
		{"store then load", []unix.SockFilter{{Code: unix.BPF_ST, K: 3}, {Code: unix.BPF_LD | unix.BPF_MEM, K: 3}, ret}, ""},
		{"load before store", []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_MEM, K: 3}, ret}, "instruction 0: loads scratch memory cell 3 before any store"},
		{"store on one path only", []unix.SockFilter{
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1},
			{Code: unix.BPF_ST, K: 2},
			{Code: unix.BPF_LDX | unix.BPF_MEM, K: 2},
			ret,
		}, "instruction 2: loads scratch memory cell 2"},
		{"store on both paths", []unix.SockFilter{
			{Code: unix.BPF_ST, K: 2},
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1},
			{Code: unix.BPF_ST, K: 5},
			{Code: unix.BPF_LDX | unix.BPF_MEM, K: 2},
			ret,
		}, ""},
	}
	for _, tt := range tests {
		err := seccomp.ValidateProgram(tt.prog)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: ValidateProgram = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: ValidateProgram = %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
		var progErr *seccomp.ProgramError
		if err != nil && !errors.As(err, &progErr) {
			t.Errorf("%s: error %T is not a *ProgramError", tt.name, err)
		}
	}
}

// TestValidateProgramAgreesWithKernel installs every program of a table on
// discarded threads and checks that the kernel accepts exactly the programs
// ValidateProgram accepts.
func TestValidateProgramAgreesWithKernel(t *testing.T) {
	ret := unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)}
	progs := [][]unix.SockFilter{
		{ret},
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 62}, ret},
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 60}, ret},
		{{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS}, ret},
		{{Code: unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K, K: 2}, ret},
		{{Code: unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K}, ret},
		{{Code: unix.BPF_LD | unix.BPF_MEM, K: 1}, ret},
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_LEN}, ret},
		{{Code: unix.BPF_LD | unix.BPF_IMM}},
		{{Code: unix.BPF_JMP | unix.BPF_JA, K: 0}, ret},
		{{Code: unix.BPF_JMP | unix.BPF_JA, K: 1}, ret},
		// Every accepted program must return ALLOW: any other action would
		// stop the thread that installed it.
		{{Code: unix.BPF_LD | unix.BPF_IMM, K: uint32(seccomp.ActionAllow)}, {Code: unix.BPF_RET | unix.BPF_A}},
		{{Code: unix.BPF_ST, K: 15}, {Code: unix.BPF_LDX | unix.BPF_MEM, K: 15}, ret},
	}
	for i, prog := range progs {
		want := seccomp.ValidateProgram(prog)
		var got error
		onDiscardedThread(func() {
			if got = seccomp.SetNoNewPrivs(); got != nil {
				return
			}
			// Call the kernel directly: SetModeFilter would validate first.
			fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
			if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, uintptr(seccomp.OpSetModeFilter), 0, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
				got = errno
			}
		})
		if (got == nil) != (want == nil) {
			t.Errorf("program %d: kernel says %v, ValidateProgram says %v", i, got, want)
		}
	}
}

func TestHaveFilterFlag(t *testing.T) {
	tests := []struct {
		flag    seccomp.FilterFlag
		feature string
		since   string
	}{
		{seccomp.FilterFlagTSync, "flag TSYNC", "3.17"},
		{seccomp.FilterFlagLog, "flag LOG", "4.14"},
		{seccomp.FilterFlagSpecAllow, "flag SPEC_ALLOW", "4.17"},
		{seccomp.FilterFlagNewListener, "flag NEW_LISTENER", "5.0"},
		{seccomp.FilterFlagTSyncESRCH, "flag TSYNC_ESRCH", "5.7"},
		{seccomp.FilterFlagWaitKillableRecv, "flag WAIT_KILLABLE_RECV", "5.19"},
		{seccomp.FilterFlagAllowNestedListeners, "flag ALLOW_NESTED_LISTENERS", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.flag.String(), func(t *testing.T) {
			err := seccomp.HaveFilterFlag(tt.flag)
			if err != nil {
				var fe *seccomp.FeatureError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a *FeatureError", err)
				}
				if fe.Feature != tt.feature {
					t.Errorf("Feature = %q, want %q", fe.Feature, tt.feature)
				}
				if want := strings.TrimSuffix(tt.since, "none"); fe.MinVersion != want {
					t.Errorf("MinVersion = %q, want %q", fe.MinVersion, want)
				}
			}
			// A second call must give the cached answer.
			if again := seccomp.HaveFilterFlag(tt.flag); (again == nil) != (err == nil) {
				t.Errorf("second probe = %v, first = %v", again, err)
			}
			requireFeature(t, tt.feature, tt.since, err)
		})
	}

	if err := seccomp.HaveFilterFlag(0x1000); err == nil || !strings.Contains(err.Error(), "unknown filter flag bits 0x1000") {
		t.Errorf("HaveFilterFlag(0x1000) = %v, want an unknown-bits error", err)
	}
}

func TestHaveAction(t *testing.T) {
	tests := []struct {
		action seccomp.Action
		since  string
	}{
		{seccomp.ActionKillProcess, "4.14"},
		{seccomp.ActionKillThread, "3.5"},
		{seccomp.ActionTrap, "3.5"},
		{seccomp.ErrnoAction(unix.EPERM), "3.5"},
		{seccomp.ActionUserNotif, "5.0"},
		{seccomp.ActionTrace, "3.5"},
		{seccomp.ActionLog, "4.14"},
		{seccomp.ActionAllow, "3.5"},
	}
	for _, tt := range tests {
		t.Run(tt.action.Base().String(), func(t *testing.T) {
			requireFeature(t, "action "+tt.action.Base().String(), tt.since, seccomp.HaveAction(tt.action))
		})
	}

	err := seccomp.HaveAction(0x7ffe0000)
	if !errors.Is(err, seccomp.ErrNotSupported) {
		t.Errorf("HaveAction(unknown) = %v, want ErrNotSupported", err)
	}
}

func TestNestedFlagUnsupportedError(t *testing.T) {
	if seccomp.HaveNestedListeners() == nil {
		release, _ := kernelRelease()
		t.Skipf("kernel %v supports nested listeners; this test covers kernels without them", release)
	}

	var err error
	onDiscardedThread(func() {
		if err = seccomp.SetNoNewPrivs(); err != nil {
			return
		}
		var fd int
		fd, err = seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPPID), seccomp.FilterFlagNewListener|seccomp.FilterFlagAllowNestedListeners)
		if err == nil {
			unix.Close(fd)
		}
	})

	want := "seccomp: install filter: kernel does not support flag ALLOW_NESTED_LISTENERS (proposed, not in a released kernel)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if !errors.Is(err, seccomp.ErrNotSupported) || !errors.Is(err, unix.EINVAL) {
		t.Errorf("error does not match both ErrNotSupported and EINVAL")
	}
}

func TestSecondListenerWithoutNesting(t *testing.T) {
	checkNoLeaks(t)
	var first, second, afterClose error
	onDiscardedThread(func() {
		if first = seccomp.SetNoNewPrivs(); first != nil {
			return
		}
		fd, err := seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPPID), seccomp.FilterFlagNewListener)
		if first = err; err != nil {
			return
		}
		fd2, err := seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPID), seccomp.FilterFlagNewListener)
		if second = err; err == nil {
			unix.Close(fd2)
		}

		// Once the first listener is closed it no longer counts, so a new
		// listener may be installed below it.
		unix.Close(fd)
		fd3, err := seccomp.SetModeFilter(notifyFilter(unix.SYS_GETPID), seccomp.FilterFlagNewListener)
		if afterClose = err; err == nil {
			unix.Close(fd3)
		}
	})

	if first != nil {
		t.Fatal(first)
	}
	if !errors.Is(second, seccomp.ErrListenerExists) || !errors.Is(second, unix.EBUSY) {
		t.Fatalf("second listener: error = %v, want ErrListenerExists and EBUSY", second)
	}
	if msg := second.Error(); !strings.Contains(msg, "ALLOW_NESTED_LISTENERS") {
		t.Errorf("message %q does not point to ALLOW_NESTED_LISTENERS", msg)
	}
	wantSupport := "this kernel does not support nested listeners"
	if seccomp.HaveNestedListeners() == nil {
		wantSupport = "install the outer listener with FilterFlagAllowNestedListeners"
	}
	if msg := second.Error(); !strings.Contains(msg, wantSupport) {
		t.Errorf("message %q does not say %q", msg, wantSupport)
	}
	if afterClose != nil {
		t.Errorf("listener after closing the first: %v", afterClose)
	}
}

func TestNoNewPrivsAndMode(t *testing.T) {
	status, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Skipf("cannot read /proc/thread-self/status: %v", err)
	}
	field := func(name string) int {
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				return n
			}
		}
		t.Fatalf("no %s field in status", name)
		return 0
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	nnp, err := seccomp.NoNewPrivs()
	if err != nil {
		t.Fatal(err)
	}
	if want := field("NoNewPrivs") == 1; nnp != want {
		t.Errorf("NoNewPrivs() = %t, status says %t", nnp, want)
	}
	mode, err := seccomp.GetMode()
	if err != nil {
		t.Fatal(err)
	}
	if want := seccomp.Mode(field("Seccomp")); mode != want {
		t.Errorf("GetMode() = %v, status says %v", mode, want)
	}

	var after seccomp.Mode
	var afterNNP bool
	onDiscardedThread(func() {
		if err = seccomp.SetNoNewPrivs(); err != nil {
			return
		}
		if afterNNP, err = seccomp.NoNewPrivs(); err != nil {
			return
		}
		if _, err = seccomp.SetModeFilter(allowFilter(), 0); err != nil {
			return
		}
		after, err = seccomp.GetMode()
	})
	if err != nil {
		t.Fatal(err)
	}
	if !afterNNP || after != seccomp.ModeFilter {
		t.Errorf("after SetNoNewPrivs and SetModeFilter: no_new_privs %t, mode %v; want true, FILTER", afterNNP, after)
	}
}

func init() {
	// strict: enter strict mode on a locked thread, report through a pipe
	// with write(2), one of the four calls strict mode allows, and park the
	// thread in read(2), another one, while the main goroutine exits the
	// process.
	childModes["strict"] = func() int {
		r, w, err := os.Pipe()
		if err != nil {
			return 1
		}
		var park [2]int
		if err := unix.Pipe2(park[:], unix.O_CLOEXEC); err != nil {
			return 1
		}
		go func() {
			runtime.LockOSThread()
			// Everything that may make a system call (w.Fd switches the
			// pipe to blocking mode, allocation may map memory) happens
			// before strict mode.
			fd := w.Fd()
			msg := []byte("strict mode entered")
			var b [1]byte
			if err := seccomp.SetModeStrict(); err != nil {
				w.WriteString("error: " + err.Error())
				return
			}
			unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)))
			// unix.Syscall, not RawSyscall: the runtime takes this thread's
			// P away while read blocks, so with GOMAXPROCS=1 the main
			// goroutine still runs.
			unix.Syscall(unix.SYS_READ, uintptr(park[0]), uintptr(unsafe.Pointer(&b[0])), 1)
		}()
		buf := make([]byte, 128)
		n, _ := r.Read(buf)
		os.Stdout.Write(buf[:n])
		return 0
	}
}

// NOTE: this test timed out once in about ten full runs on the 6.1 arm64 VM
// (TCG, one vCPU), and never in isolation; the cause is not known yet.
func TestSetModeStrict(t *testing.T) {
	cmd := childCommand("strict")
	// A hung child gets SIGQUIT first, so that the Go runtime writes its
	// goroutines' stacks to the test's standard error, and SIGKILL 5s later.
	quit := time.AfterFunc(30*time.Second, func() { cmd.Process.Signal(unix.SIGQUIT) })
	defer quit.Stop()
	kill := time.AfterFunc(35*time.Second, func() { cmd.Process.Kill() })
	defer kill.Stop()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v (output %q)", err, out)
	}
	if string(out) != "strict mode entered" {
		t.Errorf("child output %q, want %q", out, "strict mode entered")
	}
}
