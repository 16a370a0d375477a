package main

// Unit tests of the generator's own steps. They need no C compiler.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestEvalCExpr(t *testing.T) {
	tests := []struct {
		expr string
		want uint32
	}{
		{"4000", 4000},
		{"(4000 + 3)", 4003},
		{"(0+ 341)", 341},
		{"((0+0x0f0000)+1)", 0xf0001},
		{"(1UL << 6)", 64},
		{"0x10ull + 2u", 18},
		{"0x900000 | 5", 0x900005},
		{"0755", 0o755},
		{"-(-7)", 7},
		{"0xffffffff", 0xffffffff},
	}
	for _, tt := range tests {
		got, err := evalCExpr(tt.expr)
		if err != nil {
			t.Errorf("evalCExpr(%q): %v", tt.expr, err)
			continue
		}
		if got != tt.want {
			t.Errorf("evalCExpr(%q) = %d, want %d", tt.expr, got, tt.want)
		}
	}
}

func TestEvalCExprRejects(t *testing.T) {
	for _, expr := range []string{
		"",
		"__NR_Linux + 1", // an identifier the preprocessor did not expand
		"~1",
		"4 / 2",
		"-1",
		"0x100000000",
		"1.5",
		"'a'",
		"1 << 64",
	} {
		if v, err := evalCExpr(expr); err == nil {
			t.Errorf("evalCExpr(%q) = %d, want an error", expr, v)
		}
	}
}

func TestParseDefines(t *testing.T) {
	out := "#define __NR_read 63\n" +
		"#define __NR_fcntl __NR3264_fcntl\n" +
		"#define _IOC(dir,type,nr,size) (((dir) << 30))\n" +
		"#define __ORDER_BIG_ENDIAN__ 4321\n" +
		"#define EMPTY\n" +
		"\n"
	macros, err := parseDefines([]byte(out))
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]string{
		"__NR_read":            "63",
		"__NR_fcntl":           "__NR3264_fcntl",
		"__ORDER_BIG_ENDIAN__": "4321",
		"EMPTY":                "",
	}
	if len(macros) != len(want) {
		t.Errorf("parseDefines returned %d macros %v, want %d", len(macros), macros, len(want))
	}
	for name, body := range want {
		if got, ok := macros[name]; !ok || got != body {
			t.Errorf("macro %s = %q (found %v), want %q", name, got, ok, body)
		}
	}

	if _, err := parseDefines([]byte("int x;\n")); err == nil {
		t.Error("parseDefines accepted a line that is not a #define")
	}
}

func TestSyscallNamesSkipsPseudoEntries(t *testing.T) {
	macros := map[string]string{
		"__NR_read":                  "63",
		"__NR_syscalls":              "451",
		"__NR_arch_specific_syscall": "244",
		"__NR_Linux":                 "4000",
		"__NR_SYSCALL_BASE":          "0",
		"__NR3264_fcntl":             "25",
		"__NR_fcntl":                 "__NR3264_fcntl",
		"__ARM_NR_breakpoint":        "(__ARM_NR_BASE+1)",
	}
	names, err := syscallNames(macros)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fcntl", "read"}; !slices.Equal(names, want) {
		t.Errorf("syscallNames = %v, want %v", names, want)
	}
}

func TestSyscallNamesRejectsUnknownUppercase(t *testing.T) {
	_, err := syscallNames(map[string]string{"__NR_read": "0", "__NR_NEW_BASE": "0x1000"})
	if err == nil || !strings.Contains(err.Error(), "__NR_NEW_BASE") {
		t.Errorf("syscallNames error = %v, want one naming __NR_NEW_BASE", err)
	}
}

func TestCheckSyscalls(t *testing.T) {
	tests := []struct {
		name    string
		calls   []syscall
		wantErr string
	}{
		{
			name: "alias shares a number",
			calls: []syscall{
				{Name: "arm_sync_file_range", Nr: 341},
				{Name: "sync_file_range2", Nr: 341, AliasOf: "arm_sync_file_range"},
			},
		},
		{
			name:    "two primary names share a number",
			calls:   []syscall{{Name: "a", Nr: 1}, {Name: "b", Nr: 1}},
			wantErr: "both 1",
		},
		{
			name:    "alias of a missing name",
			calls:   []syscall{{Name: "b", Nr: 1, AliasOf: "a"}},
			wantErr: "__NR_b is defined as __NR_a",
		},
		{
			name:    "alias with another number",
			calls:   []syscall{{Name: "a", Nr: 1}, {Name: "b", Nr: 2, AliasOf: "a"}},
			wantErr: "__NR_b is defined as __NR_a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSyscalls(tt.calls)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("checkSyscalls: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("checkSyscalls error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckTarget(t *testing.T) {
	mips := target{GOARCH: "mips", CC: []string{"cc"}, BigEndian: true, PointerBits: 32}
	good := map[string]string{"__BYTE_ORDER__": "__ORDER_BIG_ENDIAN__", "__SIZEOF_POINTER__": "4"}
	if err := checkTarget(mips, good); err != nil {
		t.Errorf("checkTarget: %v", err)
	}

	little := map[string]string{"__BYTE_ORDER__": "__ORDER_LITTLE_ENDIAN__", "__SIZEOF_POINTER__": "4"}
	if err := checkTarget(mips, little); err == nil {
		t.Error("checkTarget accepted a little-endian compiler for a big-endian target")
	}

	wide := map[string]string{"__BYTE_ORDER__": "__ORDER_BIG_ENDIAN__", "__SIZEOF_POINTER__": "8"}
	if err := checkTarget(mips, wide); err == nil {
		t.Error("checkTarget accepted 8-byte pointers for a 32-bit target")
	}
}

func TestLinuxVersion(t *testing.T) {
	// Debian 12 caps the sublevel at 255: 6.1.192 is 6<<16 | 1<<8 | 255.
	got, err := linuxVersion(map[string]string{"LINUX_VERSION_CODE": "393727"})
	if err != nil {
		t.Fatal(err)
	}
	if got != "6.1" {
		t.Errorf("linuxVersion = %q, want 6.1", got)
	}
	if _, err := linuxVersion(map[string]string{}); err == nil {
		t.Error("linuxVersion accepted headers without LINUX_VERSION_CODE")
	}
}

// godefsSample returns output in the form cmd/cgo -godefs writes it, with
// structs as the struct declarations and every expected constant.
func godefsSample(structs string) []byte {
	var b strings.Builder
	b.WriteString("// Code generated by cmd/cgo -godefs; DO NOT EDIT.\n// cgo -godefs -- types.go\n\npackage seccomp\n\n")
	b.WriteString(structs)
	b.WriteString("\nconst (\n")
	for i, name := range expectedConsts() {
		fmt.Fprintf(&b, "\t%s\t= %#x\n", name, i)
	}
	b.WriteString(")\n")
	return []byte(b.String())
}

// godefsStructs is what cgo -godefs prints for the five structs. It strips
// the prefix that only one field has, so instruction_pointer is Pointer and
// notif_resp is Resp.
const godefsStructs = `type Data struct {
	Nr	int32
	Arch	uint32
	Pointer	uint64
	Args	[6]uint64
}
type Notif struct {
	Id	uint64
	Pid	uint32
	Flags	uint32
	Data	Data
}
type NotifResp struct {
	Id	uint64
	Val	int64
	Error	int32
	Flags	uint32
}
type NotifSizes struct {
	Notif	uint16
	Resp	uint16
	Data	uint16
}
type NotifAddFD struct {
	Id		uint64
	Flags		uint32
	Srcfd		uint32
	Newfd		uint32
	Newfd_flags	uint32
}
`

func TestParseGodefs(t *testing.T) {
	got, err := parseGodefs(godefsSample(godefsStructs))
	if err != nil {
		t.Fatal(err)
	}

	want := []string{
		"type Data struct {\n\tNr int32\n\tArch uint32\n\tInstructionPointer uint64\n\tArgs [6]uint64\n}",
		"type Notif struct {\n\tID uint64\n\tPid uint32\n\tFlags uint32\n\tData Data\n}",
		"type NotifResp struct {\n\tID uint64\n\tVal int64\n\tError int32\n\tFlags NotifRespFlag\n}",
		"type NotifSizes struct {\n\tNotif uint16\n\tNotifResp uint16\n\tData uint16\n}",
		"type NotifAddFD struct {\n\tID uint64\n\tFlags AddFDFlag\n\tSrcFD uint32\n\tNewFD uint32\n\tNewFDFlags uint32\n}",
	}
	if len(got.Structs) != len(want) {
		t.Fatalf("parseGodefs returned %d structs, want %d", len(got.Structs), len(want))
	}
	for i, s := range got.Structs {
		if src := structSource(s); src != want[i] {
			t.Errorf("struct %d:\n%s\nwant:\n%s", i, src, want[i])
		}
	}

	// godefsSample numbers the constants in expectedConsts order: five
	// Sizeof constants, then ioctlNotifRecv and ioctlNotifSend.
	if v := got.Consts["ioctlNotifSend"]; v != "0x6" {
		t.Errorf("ioctlNotifSend = %q, want 0x6", v)
	}
}

func TestParseGodefsRejects(t *testing.T) {
	tests := []struct {
		name    string
		structs string
		wantErr string
	}{
		{
			name:    "new member",
			structs: strings.Replace(godefsStructs, "\tNewfd_flags\tuint32\n", "\tNewfd_flags\tuint32\n\tMode\tuint32\n", 1),
			wantErr: "seccomp_notif_addfd has 6 fields, want 5",
		},
		{
			name:    "padding",
			structs: strings.Replace(godefsStructs, "\tArch\tuint32\n", "\tPad_cgo_0\t[4]byte\n", 1),
			wantErr: "padding field Pad_cgo_0",
		},
		{
			name:    "reordered members",
			structs: strings.Replace(godefsStructs, "\tVal\tint64\n\tError\tint32\n", "\tError\tint32\n\tVal\tint64\n", 1),
			wantErr: "field 1 is Error, want C member val",
		},
		{
			name:    "flag member not uint32",
			structs: strings.Replace(godefsStructs, "\tError\tint32\n\tFlags\tuint32\n", "\tError\tint32\n\tFlags\tuint64\n", 1),
			wantErr: "want uint32 to replace with NotifRespFlag",
		},
		{
			name:    "missing type",
			structs: godefsStructs[:strings.Index(godefsStructs, "type NotifAddFD")],
			wantErr: "lacks type NotifAddFD",
		},
		{
			name:    "unknown type",
			structs: godefsStructs + "type Extra struct {\n\tX\tint32\n}\n",
			wantErr: "unexpected type Extra",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseGodefs(godefsSample(tt.structs))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseGodefs error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseGodefsRejectsMissingConstant(t *testing.T) {
	src := strings.Replace(string(godefsSample(godefsStructs)), "\t_PR_GET_NO_NEW_PRIVS\t=", "\t_PR_GET_NO_NEW_PRIVS_X\t=", 1)
	_, err := parseGodefs([]byte(src))
	if err == nil || !strings.Contains(err.Error(), "lacks constant _PR_GET_NO_NEW_PRIVS") {
		t.Fatalf("parseGodefs error = %v, want a missing-constant error", err)
	}
}

func TestGodefsInput(t *testing.T) {
	src, err := godefsInput(targets[0])
	if err != nil {
		t.Fatal(err)
	}

	for _, s := range structs {
		if !strings.Contains(src, "type "+s.Go+" C.struct_"+s.C+"\n") {
			t.Errorf("godefs input lacks type %s", s.Go)
		}
	}
	for _, name := range []string{"SECCOMP_IOCTL_NOTIF_RECV", "SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR", "PR_GET_NO_NEW_PRIVS", targets[0].AuditArch} {
		if !strings.Contains(src, "= C."+name+"\n") {
			t.Errorf("godefs input lacks C.%s", name)
		}
	}
	if !strings.Contains(src, "#include <linux/ioctl.h>\n") {
		t.Error("godefs input does not include <linux/ioctl.h>, which <linux/seccomp.h> needs for _IOW")
	}
}

// TestShimGuardsEveryDefine checks that the shim never overrides a header:
// every #define sits right after an #ifndef of the same name.
func TestShimGuardsEveryDefine(t *testing.T) {
	lines := strings.Split(shim, "\n")
	defines := 0
	for i, line := range lines {
		name, ok := strings.CutPrefix(line, "#define ")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		defines++
		if i == 0 || lines[i-1] != "#ifndef "+name {
			t.Errorf("shim.h defines %s without #ifndef %s on the line before", name, name)
		}
	}
	if defines != 4 {
		t.Errorf("shim.h has %d #defines, want 4", defines)
	}
	if strings.Contains(shim, "/*") {
		t.Error("shim.h has a C block comment, which breaks the cgo preamble")
	}
}

func TestRenderCommonRejectsDifferences(t *testing.T) {
	base, err := parseGodefs(godefsSample(godefsStructs))
	if err != nil {
		t.Fatal(err)
	}
	other, err := parseGodefs(godefsSample(godefsStructs))
	if err != nil {
		t.Fatal(err)
	}
	other.Consts["_SECCOMP_RET_TRAP"] = "0x99"

	results := []archResult{
		{Target: target{GOARCH: "amd64"}, Linux: "6.1", Types: base},
		{Target: target{GOARCH: "mips"}, Linux: "6.1", Types: other},
	}
	_, err = renderCommon(results)
	if err == nil || !strings.Contains(err.Error(), "_SECCOMP_RET_TRAP is 0x99 on mips") {
		t.Fatalf("renderCommon error = %v, want one naming _SECCOMP_RET_TRAP on mips", err)
	}

	other.Consts["_SECCOMP_RET_TRAP"] = base.Consts["_SECCOMP_RET_TRAP"]
	other.Structs[0].Fields[1].Type = "int32"
	_, err = renderCommon(results)
	if err == nil || !strings.Contains(err.Error(), "type Data on mips") {
		t.Fatalf("renderCommon error = %v, want one naming type Data on mips", err)
	}
}

func TestComment(t *testing.T) {
	text := strings.Repeat("word ", 40)
	out := comment("\t", text)
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(line, "\t// ") {
			t.Errorf("line %q does not start with the indent and //", line)
		}
		if len(line) > 80 {
			t.Errorf("line %q is %d bytes long", line, len(line))
		}
	}
	if got := strings.Join(strings.Fields(strings.ReplaceAll(out, "//", "")), " "); got != strings.TrimSpace(text) {
		t.Errorf("comment lost or changed words: %q", got)
	}
}

func TestTargetsCoverEveryGOARCH(t *testing.T) {
	var got []string
	for _, tgt := range targets {
		got = append(got, tgt.GOARCH)
		if wantAuditArch[tgt.GOARCH] != tgt.AuditArch {
			t.Errorf("%s: AuditArch = %s, want %s", tgt.GOARCH, tgt.AuditArch, wantAuditArch[tgt.GOARCH])
		}
		if tgt.BigEndian != (tgt.GOARCH == "mips" || tgt.GOARCH == "mips64" || tgt.GOARCH == "ppc64" || tgt.GOARCH == "s390x") {
			t.Errorf("%s: BigEndian = %v", tgt.GOARCH, tgt.BigEndian)
		}
		if want := 64; strings.Contains("386 arm mips mipsle", tgt.GOARCH) {
			if tgt.PointerBits != 32 {
				t.Errorf("%s: PointerBits = %d, want 32", tgt.GOARCH, tgt.PointerBits)
			}
		} else if tgt.PointerBits != want {
			t.Errorf("%s: PointerBits = %d, want %d", tgt.GOARCH, tgt.PointerBits, want)
		}
	}
	if !slices.Equal(got, allGOARCHes) {
		t.Errorf("targets = %v, want %v", got, allGOARCHes)
	}
}

var generatedLine = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// TestGeneratedFileHeaders checks that every generated file starts with
// the command, the standard generated-code line and its build constraint,
// and that no generated file of a removed GOARCH is left.
func TestGeneratedFileHeaders(t *testing.T) {
	want := map[string]string{"ztypes_linux.go": "linux"}
	for _, arch := range allGOARCHes {
		want["ztypes_linux_"+arch+".go"] = arch + " && linux"
		want[filepath.Join("sysnum", "zsysnum_linux_"+arch+".go")] = arch + " && linux"
	}

	for name, constraint := range want {
		data, err := os.ReadFile(filepath.Join(moduleRoot, name))
		if err != nil {
			t.Error(err)
			continue
		}
		lines := strings.SplitN(string(data), "\n", 5)
		if len(lines) < 5 {
			t.Errorf("%s is too short", name)
			continue
		}
		if lines[0] != "// "+command {
			t.Errorf("%s: first line %q, want %q", name, lines[0], "// "+command)
		}
		if !generatedLine.MatchString(lines[1]) {
			t.Errorf("%s: second line %q is not a generated-code line", name, lines[1])
		}
		if lines[2] != "" || lines[3] != "//go:build "+constraint {
			t.Errorf("%s: lines 3 and 4 are %q, %q, want an empty line and //go:build %s", name, lines[2], lines[3], constraint)
		}
		if strings.Contains(string(data), "/tmp/") || strings.Contains(string(data), "/root/") {
			t.Errorf("%s contains a host path", name)
		}
	}

	for _, pattern := range []string{"ztypes_linux*.go", filepath.Join("sysnum", "zsysnum_linux_*.go")} {
		matches, err := filepath.Glob(filepath.Join(moduleRoot, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range matches {
			rel, _ := filepath.Rel(moduleRoot, path)
			if _, ok := want[rel]; !ok {
				t.Errorf("%s is not a file that gen writes", rel)
			}
		}
	}
}

// TestGenCheckInstallsPackages checks that .ci/gen-check installs every
// Debian package that the target table needs.
func TestGenCheckInstallsPackages(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot, ".ci", "gen-check"))
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	for _, w := range strings.Fields(string(data)) {
		words[strings.Trim(w, `"'()`)] = true
	}

	for _, tgt := range targets {
		for _, p := range tgt.Packages {
			if !words[p] {
				t.Errorf(".ci/gen-check does not install %s, which %s needs", p, tgt.GOARCH)
			}
		}
	}
}

func TestStructDocsNameCStruct(t *testing.T) {
	for _, s := range structs {
		if strings.Contains(s.Doc, "\n") {
			t.Errorf("doc of %s spans several lines", s.Go)
		}
		if !strings.HasPrefix(s.Doc, s.Go+" is struct "+s.C+",") {
			t.Errorf("doc of %s does not start with %q: %q", s.Go, s.Go+" is struct "+s.C+",", s.Doc)
		}
	}
}
