package main

// These tests check the committed generated files without running any
// compiler: against the ioctl encoding formulas, against golang.org/x/sys,
// which generates the same facts from newer headers, and against the uapi
// struct layouts.

import (
	"bytes"
	"go/ast"
	"go/printer"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// allGOARCHes are the Linux GOARCHes that the module supports.
var allGOARCHes = []string{
	"386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle",
	"mips64", "mips64le", "ppc64", "ppc64le", "riscv64", "s390x",
}

// threeBitDirection lists the GOARCHes whose <asm/ioctl.h> uses a 3-bit
// direction field at bit 29 (none = 1, read = 2, write = 4). The others use
// the asm-generic 2-bit field at bit 30 (none = 0, write = 1, read = 2).
var threeBitDirection = map[string]bool{
	"mips": true, "mipsle": true, "mips64": true, "mips64le": true,
	"ppc64": true, "ppc64le": true,
}

// wantAuditArch is the AUDIT_ARCH_ constant of the ABI Go uses per GOARCH.
var wantAuditArch = map[string]string{
	"386":      "AUDIT_ARCH_I386",
	"amd64":    "AUDIT_ARCH_X86_64",
	"arm":      "AUDIT_ARCH_ARM",
	"arm64":    "AUDIT_ARCH_AARCH64",
	"loong64":  "AUDIT_ARCH_LOONGARCH64",
	"mips":     "AUDIT_ARCH_MIPS",
	"mipsle":   "AUDIT_ARCH_MIPSEL",
	"mips64":   "AUDIT_ARCH_MIPS64",
	"mips64le": "AUDIT_ARCH_MIPSEL64",
	"ppc64":    "AUDIT_ARCH_PPC64",
	"ppc64le":  "AUDIT_ARCH_PPC64LE",
	"riscv64":  "AUDIT_ARCH_RISCV64",
	"s390x":    "AUDIT_ARCH_S390X",
}

type direction int

const (
	dirNone direction = iota
	dirRead
	dirWrite
	dirReadWrite
)

// ioctlNumber encodes an ioctl request number for arch.
func ioctlNumber(arch string, dir direction, typ, nr, size uint64) uint64 {
	if threeBitDirection[arch] {
		bits := map[direction]uint64{dirNone: 1, dirRead: 2, dirWrite: 4, dirReadWrite: 6}[dir]
		return bits<<29 | size<<16 | typ<<8 | nr
	}
	bits := map[direction]uint64{dirNone: 0, dirWrite: 1, dirRead: 2, dirReadWrite: 3}[dir]
	return bits<<30 | size<<16 | typ<<8 | nr
}

// seccompIoctls describes each generated ioctl constant as the uapi header
// defines it: magic '!', a number, a direction and the argument size.
var seccompIoctls = []struct {
	goName string
	xsys   string // name in golang.org/x/sys/unix, or "" if it has none
	dir    direction
	nr     uint64
	size   uint64
}{
	{"ioctlNotifRecv", "SECCOMP_IOCTL_NOTIF_RECV", dirReadWrite, 0, 80},
	{"ioctlNotifSend", "SECCOMP_IOCTL_NOTIF_SEND", dirReadWrite, 1, 24},
	{"ioctlNotifIDValid", "SECCOMP_IOCTL_NOTIF_ID_VALID", dirWrite, 2, 8},
	{"ioctlNotifIDValidLegacy", "", dirRead, 2, 8}, // x/sys has only the Linux 5.9 number
	{"ioctlNotifAddFD", "SECCOMP_IOCTL_NOTIF_ADDFD", dirWrite, 3, 24},
	{"ioctlNotifSetFlags", "SECCOMP_IOCTL_NOTIF_SET_FLAGS", dirWrite, 4, 8},
}

func archFile(arch string) string {
	return filepath.Join(moduleRoot, "ztypes_linux_"+arch+".go")
}

func TestIoctlNumbersMatchFormula(t *testing.T) {
	for _, arch := range allGOARCHes {
		consts := intConsts(t, archFile(arch))
		for _, io := range seccompIoctls {
			got, ok := consts[io.goName]
			if !ok {
				t.Errorf("%s: %s is missing", arch, io.goName)
				continue
			}
			want := ioctlNumber(arch, io.dir, '!', io.nr, io.size)
			if got != want {
				t.Errorf("%s: %s = %#x, the encoding formula gives %#x", arch, io.goName, got, want)
			}
		}
	}
}

func TestIoctlNumbersMatchXSys(t *testing.T) {
	for _, arch := range allGOARCHes {
		ours := intConsts(t, archFile(arch))
		theirs := xsysConsts(t, arch)
		for _, io := range seccompIoctls {
			if io.xsys == "" {
				continue
			}
			want, ok := theirs[io.xsys]
			if !ok {
				t.Errorf("%s: golang.org/x/sys/unix has no %s", arch, io.xsys)
				continue
			}
			if got := ours[io.goName]; got != want {
				t.Errorf("%s: %s = %#x, x/sys %s = %#x", arch, io.goName, got, io.xsys, want)
			}
		}
	}
}

func TestAuditArchNative(t *testing.T) {
	for _, arch := range allGOARCHes {
		name := stringConst(t, archFile(arch), "auditArchNativeName")
		if name != wantAuditArch[arch] {
			t.Errorf("%s: auditArchNativeName = %q, want %q", arch, name, wantAuditArch[arch])
		}

		got := intConsts(t, archFile(arch))["AuditArchNative"]
		want, ok := xsysConsts(t, arch)[name]
		if !ok {
			t.Errorf("%s: golang.org/x/sys/unix has no %s", arch, name)
			continue
		}
		if got != want {
			t.Errorf("%s: AuditArchNative = %#x, x/sys %s = %#x", arch, got, name, want)
		}
	}
}

// commonConsts are the C names of the unexported constants in
// ztypes_linux.go.
var commonConsts = []string{
	"SECCOMP_SET_MODE_STRICT", "SECCOMP_SET_MODE_FILTER",
	"SECCOMP_GET_ACTION_AVAIL", "SECCOMP_GET_NOTIF_SIZES",
	"SECCOMP_MODE_DISABLED", "SECCOMP_MODE_STRICT", "SECCOMP_MODE_FILTER",
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_NEW_LISTENER",
	"SECCOMP_FILTER_FLAG_TSYNC_ESRCH", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
	"SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS",
	"SECCOMP_RET_KILL_PROCESS", "SECCOMP_RET_KILL_THREAD", "SECCOMP_RET_KILL",
	"SECCOMP_RET_TRAP", "SECCOMP_RET_ERRNO", "SECCOMP_RET_USER_NOTIF",
	"SECCOMP_RET_TRACE", "SECCOMP_RET_LOG", "SECCOMP_RET_ALLOW",
	"SECCOMP_RET_ACTION_FULL", "SECCOMP_RET_ACTION", "SECCOMP_RET_DATA",
	"SECCOMP_USER_NOTIF_FLAG_CONTINUE", "SECCOMP_ADDFD_FLAG_SETFD",
	"SECCOMP_ADDFD_FLAG_SEND", "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP",
	"BPF_MAXINSNS", "PR_SET_SECCOMP", "PR_GET_SECCOMP",
	"PR_SET_NO_NEW_PRIVS", "PR_GET_NO_NEW_PRIVS",
}

// notInXSys are constants that golang.org/x/sys/unix lacks, with the value
// the proposed patch series gives them.
var notInXSys = map[string]uint64{
	// "seccomp: support nested listeners" (v3, December 2025) is in no
	// released kernel.
	"SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS": 1 << 6,
}

func TestCommonConstantsMatchXSys(t *testing.T) {
	ours := intConsts(t, filepath.Join(moduleRoot, "ztypes_linux.go"))
	for _, arch := range allGOARCHes {
		theirs := xsysConsts(t, arch)
		for _, name := range commonConsts {
			got, ok := ours["_"+name]
			if !ok {
				t.Errorf("ztypes_linux.go lacks _%s", name)
				continue
			}

			want, ok := theirs[name]
			if !ok {
				want, ok = notInXSys[name]
			}
			if !ok {
				t.Errorf("%s: golang.org/x/sys/unix has no %s", arch, name)
				continue
			}
			if got != want {
				t.Errorf("%s: _%s = %#x, want %#x", arch, name, got, want)
			}
		}
	}
}

func TestCommonConstantsComplete(t *testing.T) {
	ours := intConsts(t, filepath.Join(moduleRoot, "ztypes_linux.go"))
	want := map[string]bool{}
	for _, name := range commonConsts {
		want["_"+name] = true
	}
	for name := range ours {
		if strings.HasPrefix(name, "_") && !want[name] {
			t.Errorf("ztypes_linux.go has unexpected constant %s", name)
		}
	}
}

// field is one field of a generated struct, with its size and alignment.
type field struct {
	name, typ string
	size      uint64
}

func TestStructLayout(t *testing.T) {
	data := []field{{"Nr", "int32", 4}, {"Arch", "uint32", 4}, {"InstructionPointer", "uint64", 8}, {"Args", "[6]uint64", 48}}
	tests := []struct {
		name   string
		sizeof string
		size   uint64
		fields []field
	}{
		{"Data", "SizeofData", 64, data},
		{"Notif", "SizeofNotif", 80, []field{{"ID", "uint64", 8}, {"Pid", "uint32", 4}, {"Flags", "uint32", 4}, {"Data", "Data", 64}}},
		{"NotifResp", "SizeofNotifResp", 24, []field{{"ID", "uint64", 8}, {"Val", "int64", 8}, {"Error", "int32", 4}, {"Flags", "NotifRespFlag", 4}}},
		{"NotifSizes", "SizeofNotifSizes", 6, []field{{"Notif", "uint16", 2}, {"NotifResp", "uint16", 2}, {"Data", "uint16", 2}}},
		{"NotifAddFD", "SizeofNotifAddFD", 24, []field{{"ID", "uint64", 8}, {"Flags", "AddFDFlag", 4}, {"SrcFD", "uint32", 4}, {"NewFD", "uint32", 4}, {"NewFDFlags", "uint32", 4}}},
	}

	path := filepath.Join(moduleRoot, "ztypes_linux.go")
	got := declaredStructs(t, path)
	consts := intConsts(t, path)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, ok := got[tt.name]
			if !ok {
				t.Fatalf("ztypes_linux.go has no type %s", tt.name)
			}
			if len(fields) != len(tt.fields) {
				t.Fatalf("%s has %d fields %v, want %d", tt.name, len(fields), fields, len(tt.fields))
			}

			var sum uint64
			for i, f := range fields {
				if f != tt.fields[i].name+" "+tt.fields[i].typ {
					t.Errorf("field %d is %q, want %q", i, f, tt.fields[i].name+" "+tt.fields[i].typ)
				}
				sum += tt.fields[i].size
			}

			// Every field is naturally aligned at its offset, so the
			// struct has no padding and its size is the sum of the fields.
			if sum != tt.size {
				t.Errorf("fields add up to %d bytes, want %d", sum, tt.size)
			}
			if consts[tt.sizeof] != tt.size {
				t.Errorf("%s = %d, want %d", tt.sizeof, consts[tt.sizeof], tt.size)
			}
		})
	}
	if len(got) != len(tests) {
		t.Errorf("ztypes_linux.go declares %d struct types, want %d", len(got), len(tests))
	}
}

// declaredStructs returns each struct type of a file as "Name Type" field
// strings.
func declaredStructs(t *testing.T, path string) map[string][]string {
	t.Helper()
	fset, f := parseFile(t, path)

	structs := map[string][]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE {
			continue
		}
		for _, spec := range gen.Specs {
			ts := spec.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}

			fields := []string{}
			for _, fl := range st.Fields.List {
				var typ bytes.Buffer
				if err := printer.Fprint(&typ, fset, fl.Type); err != nil {
					t.Fatal(err)
				}
				for _, name := range fl.Names {
					fields = append(fields, name.Name+" "+typ.String())
				}
			}
			structs[ts.Name.Name] = fields
		}
	}
	return structs
}

// newerSyscalls are system calls that golang.org/x/sys/unix (generated from
// newer headers) has but the Linux 6.1 headers lack, with the release that
// added them.
var newerSyscalls = map[string]string{
	"riscv_hwprobe":     "6.4",
	"cachestat":         "6.5",
	"fchmodat2":         "6.6",
	"map_shadow_stack":  "6.6",
	"futex_wake":        "6.7",
	"futex_wait":        "6.7",
	"futex_requeue":     "6.7",
	"statmount":         "6.8",
	"listmount":         "6.8",
	"lsm_get_self_attr": "6.8",
	"lsm_set_self_attr": "6.8",
	"lsm_list_modules":  "6.8",
	"mseal":             "6.10",
	"uretprobe":         "6.11",
	"setxattrat":        "6.13",
	"getxattrat":        "6.13",
	"listxattrat":       "6.13",
	"removexattrat":     "6.13",
	"open_tree_attr":    "6.15",
	"file_getattr":      "6.17",
	"file_setattr":      "6.17",
}

// newerOnArch are system calls that existed in Linux 6.1 but that an
// architecture gained later.
var newerOnArch = map[string]map[string]string{
	// s390 wired up memfd_secret in 2023, after Linux 6.1.
	"s390x": {"memfd_secret": "after 6.1"},
}

// xsysPseudo are SYS_ constants of golang.org/x/sys/unix that are not
// system calls. The generator skips these __NR_ macros on purpose.
var xsysPseudo = map[string]string{
	"arch_specific_syscall": "asm-generic: first number of the per-arch range",
	"syscall_mask":          "arm: mask that removes the OABI base",
}

func TestSyscallTablesMatchXSys(t *testing.T) {
	for _, arch := range allGOARCHes {
		t.Run(arch, func(t *testing.T) {
			path := filepath.Join(moduleRoot, "sysnum", "zsysnum_linux_"+arch+".go")
			ours := map[string]uint64{}
			for _, e := range sysnumTable(t, path, "byName") {
				ours[e.Name] = e.Nr
			}

			theirs := map[string]uint64{}
			for name, nr := range intConsts(t, filepath.Join(xsysUnix(t), "zsysnum_linux_"+arch+".go")) {
				if s, ok := strings.CutPrefix(name, "SYS_"); ok {
					theirs[strings.ToLower(s)] = nr
				}
			}
			if len(theirs) < 200 {
				t.Fatalf("x/sys zsysnum_linux_%s.go has only %d SYS_ constants", arch, len(theirs))
			}

			var onlyXSys, onlyOurs []string
			for name, want := range theirs {
				got, ok := ours[name]
				if !ok {
					if xsysPseudo[name] != "" {
						continue
					}
					onlyXSys = append(onlyXSys, name)
					if newerSyscalls[name] == "" && newerOnArch[arch][name] == "" {
						t.Errorf("x/sys has %s = %d, the table lacks it and no later kernel release explains why", name, want)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %d, x/sys has %d", name, got, want)
				}
			}
			for name := range ours {
				if _, ok := theirs[name]; !ok {
					onlyOurs = append(onlyOurs, name)
				}
			}

			sort.Strings(onlyXSys)
			sort.Strings(onlyOurs)
			if len(onlyXSys) > 0 {
				t.Logf("only in x/sys (added after Linux 6.1): %s", strings.Join(onlyXSys, " "))
			}
			if len(onlyOurs) > 0 {
				t.Logf("only in the table: %s", strings.Join(onlyOurs, " "))
			}
		})
	}
}

// TestSyscallTablesConsistent checks that byNumber is byName without
// aliases, sorted by number, and that byName is sorted by name.
func TestSyscallTablesConsistent(t *testing.T) {
	for _, arch := range allGOARCHes {
		t.Run(arch, func(t *testing.T) {
			path := filepath.Join(moduleRoot, "sysnum", "zsysnum_linux_"+arch+".go")
			byName := sysnumTable(t, path, "byName")
			byNumber := sysnumTable(t, path, "byNumber")

			names := map[string]uint64{}
			for i, e := range byName {
				if i > 0 && byName[i-1].Name >= e.Name {
					t.Errorf("byName: %q follows %q", e.Name, byName[i-1].Name)
				}
				names[e.Name] = e.Nr
			}

			numbers := map[uint64]bool{}
			for i, e := range byNumber {
				if i > 0 && byNumber[i-1].Nr >= e.Nr {
					t.Errorf("byNumber: %d follows %d", e.Nr, byNumber[i-1].Nr)
				}
				if nr, ok := names[e.Name]; !ok || nr != e.Nr {
					t.Errorf("byNumber has {%q, %d}, which byName lacks", e.Name, e.Nr)
				}
				numbers[e.Nr] = true
			}

			// Every alias must share its number with a name in byNumber.
			for name, nr := range names {
				if !numbers[nr] {
					t.Errorf("%s = %d has no entry in byNumber", name, nr)
				}
			}
		})
	}
}
