package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/launch"
	"github.com/seccompgo/seccomp/sysnum"
)

func FuzzCommandLine(f *testing.F) {
	f.Add("connect=EACCES", "openat,execve")
	f.Add("openat=13", "openat")
	f.Add("connect=eacces", " openat , connect ")
	f.Add("=", ",")
	f.Add("x=y=z", "openat,,")
	f.Add("connect=4096", "nosuchcall")
	f.Add("connect=0x1", "getppid")
	f.Add(" connect = EWOULDBLOCK ", "open")
	f.Add("connect=-1", "-")
	f.Add("451=EPERM", "0,1073741824")

	f.Fuzz(func(t *testing.T, deny, trace string) {
		rule, err := parseDeny(deny)
		if err == nil {
			name, _, _ := strings.Cut(deny, "=")
			if rule.name != strings.TrimSpace(name) {
				t.Errorf("parseDeny(%q): name %q, want %q", deny, rule.name, strings.TrimSpace(name))
			}
			if nr, ok := fuzzSyscallNumber(rule.name); !ok || nr != rule.nr {
				t.Errorf("parseDeny(%q): number %d for %q, which is %d, %t", deny, rule.nr, rule.name, nr, ok)
			}
			if rule.errno < 1 || rule.errno > maxErrno {
				t.Errorf("parseDeny(%q): errno %d out of range", deny, rule.errno)
			}
		}

		names, err := parseSyscallList(trace)
		if err == nil {
			if len(names) != strings.Count(trace, ",")+1 {
				t.Errorf("parseSyscallList(%q) = %q: want one name per item", trace, names)
			}
			for _, name := range names {
				if _, ok := fuzzSyscallNumber(name); !ok {
					t.Errorf("parseSyscallList(%q) accepted unknown name %q", trace, name)
				}
			}
		}

		cfg, err := parseArgs([]string{"-deny", deny, "-trace", trace, "--", "cmd"})
		if err != nil {
			var usage *usageError
			if !errors.As(err, &usage) {
				t.Errorf("parseArgs: %v is not a usage error", err)
			}
			return
		}
		got := cfg.intercepted()
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("intercepted %q: want sorted names without duplicates", got)
		}
		if !slices.Contains(got, rule.name) {
			t.Errorf("intercepted %q lacks the denied %q", got, rule.name)
		}
		var nrs []uint32
		for _, name := range got {
			nr, _ := fuzzSyscallNumber(name)
			nrs = append(nrs, nr)
		}
		if _, err := launch.NotifyFilter(nrs); err != nil {
			t.Errorf("intercepted %q: %v", got, err)
		}
	})
}

// fuzzSyscallNumber is the rule syscallNumber must follow, written out: a
// sysnum name, or a decimal number that the notify filter can notify.
func fuzzSyscallNumber(name string) (uint32, bool) {
	if nr, ok := sysnum.Number(name); ok {
		return nr, true
	}
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	nr, err := strconv.ParseUint(name, 10, 32)
	if err != nil || (runtime.GOARCH == "amd64" && nr >= 0x40000000) {
		return 0, false
	}
	return uint32(nr), true
}

// fuzzCalls are the calls FuzzDecodeMemory decodes: one for each kind that
// reads memory.
var fuzzCalls = []string{"openat", "connect", "execve", "openat2", "renameat2", "unlinkat"}

// fuzzBase is where the fuzzed memory starts. It is low, so that pointers
// in the fuzzed data often point into it.
const fuzzBase = 1

func FuzzDecodeMemory(f *testing.F) {
	f.Add([]byte("/etc/hostname\x00"), uint16(0), uint8(0), uint64(0))
	f.Add(append(sockaddrBytes(unix.AF_UNIX), "/run/s\x00"...), uint16(0), uint8(1), uint64(9))
	f.Add(sockaddrBytes(unix.AF_INET, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0), uint16(0), uint8(1), uint64(16))
	f.Add(append(sockaddrBytes(unix.AF_INET6, 0, 80), make([]byte, 24)...), uint16(0), uint8(1), uint64(28))
	f.Add(append(sockaddrBytes(unix.AF_UNIX), "\x00abstract"...), uint16(0), uint8(1), uint64(11))
	f.Add(fuzzArgv(), uint16(0), uint8(2), uint64(0))
	f.Add(bytes.Repeat([]byte{0xff}, 64), uint16(3), uint8(3), uint64(24))
	f.Add([]byte("a\x00b\x00"), uint16(0), uint8(4), uint64(2))
	f.Add([]byte("\xe2\x28\xa1\x00"), uint16(0), uint8(5), uint64(0x200))

	f.Fuzz(func(t *testing.T, data []byte, offset uint16, which uint8, extra uint64) {
		name := fuzzCalls[int(which)%len(fuzzCalls)]
		nr, ok := sysnum.Number(name)
		if !ok {
			t.Skipf("no %s on this architecture", name)
		}

		// Every pointer argument points at offset, every other argument,
		// lengths included, is extra.
		addr := fuzzBase + uint64(offset)
		var args [6]uint64
		for i, a := range specByNumber[nr].args {
			args[i] = extra
			if a.kind.readsMemory() {
				args[i] = addr
			}
		}
		n := seccomp.Notif{ID: 1, Pid: 2, Data: seccomp.Data{Nr: int32(nr), Arch: seccomp.AuditArchNative, Args: args}}

		d := newDecoder(func(uint64) error { return nil })
		mem := &fakeMemory{base: fuzzBase, data: data}
		d.openMemory = func(uint32) (targetMemory, error) { return mem, nil }
		var ev event
		d.decode(&n, &ev)
		checkDecoded(t, &ev)

		text := appendText(nil, &ev)
		if !utf8.Valid(text) || bytes.IndexByte(text, '\n') != len(text)-1 {
			t.Errorf("text line %q: want valid UTF-8 and one newline at the end", text)
		}
		if !reportLine.Match(text[:len(text)-1]) {
			t.Errorf("text line %q does not match the report's form", text)
		}

		line := appendJSON(nil, &ev)
		var js jsonEvent
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&js); err != nil {
			t.Fatalf("JSON line %s: %v", line, err)
		}
		checkJSONMatches(t, &ev, &js)

		// The pieces on their own, on the raw data.
		if s := appendSockaddrText(nil, data); !utf8.Valid(s) {
			t.Errorf("socket address %q: text %q is not UTF-8", data, s)
		}
		var decoded string
		if err := json.Unmarshal(appendJSONString(nil, data), &decoded); err != nil {
			t.Errorf("JSON string of %q: %v", data, err)
		}
		want, _ := json.Marshal(string(data))
		var wantDecoded string
		json.Unmarshal(want, &wantDecoded)
		if decoded != wantDecoded {
			t.Errorf("JSON string of %q decodes to %q, encoding/json's to %q", data, decoded, wantDecoded)
		}
	})
}

// checkDecoded checks the limits that decoding promises.
func checkDecoded(t *testing.T, ev *event) {
	t.Helper()
	for i := range ev.nargs {
		a := &ev.args[i]
		if a.state != memRead {
			if a.data != (span{}) {
				t.Errorf("argument %s: state %d with data %v", a.spec.name, a.state, a.data)
			}
			continue
		}
		data := ev.bytes(a.data)
		switch a.spec.kind {
		case kindPath:
			if len(data) > maxPathLen || bytes.IndexByte(data, 0) >= 0 {
				t.Errorf("path of %d bytes with NUL at %d", len(data), bytes.IndexByte(data, 0))
			}
		case kindSockaddr:
			if len(data) > maxSockaddrLen {
				t.Errorf("socket address of %d bytes", len(data))
			}
		case kindArgv:
			for _, entry := range ev.argv[:ev.argvLen] {
				if s := ev.bytes(entry.data); len(s) > maxArgvLen || bytes.IndexByte(s, 0) >= 0 {
					t.Errorf("argv entry of %d bytes with NUL at %d", len(s), bytes.IndexByte(s, 0))
				}
			}
		}
	}
}

// checkJSONMatches checks that the JSON line carries what was decoded.
func checkJSONMatches(t *testing.T, ev *event, js *jsonEvent) {
	t.Helper()
	if js.Syscall != ev.spec.name || len(js.Args) != ev.nargs {
		t.Fatalf("JSON %+v: want %s with %d arguments", js, ev.spec.name, ev.nargs)
	}
	for i := range ev.nargs {
		a, ja := &ev.args[i], &js.Args[i]
		if ja.Name != a.spec.name || ja.Raw != string(appendHex(nil, a.raw)) {
			t.Errorf("argument %d: JSON name %q raw %q, want %q %#x", i, ja.Name, ja.Raw, a.spec.name, a.raw)
		}
		if a.state == memFailed && ja.Error == "" {
			t.Errorf("argument %s: read failed but JSON has no error", a.spec.name)
		}
		if a.state != memRead || a.spec.kind != kindPath {
			continue
		}
		data := ev.bytes(a.data)
		if ja.Value == nil {
			t.Errorf("path %q: no JSON value", data)
			continue
		}
		if utf8.Valid(data) && *ja.Value != string(data) {
			t.Errorf("path %q: JSON value %q", data, *ja.Value)
		}
		if !utf8.Valid(data) && ja.Hex == "" {
			t.Errorf("path %q is not UTF-8, but JSON has no hex", data)
		}
	}
}

// fuzzArgv returns memory at fuzzBase that holds an argv array at offset 0
// and its strings after it.
func fuzzArgv() []byte {
	strs := []string{"prog\x00", "-x\x00"}
	table := 3 * ptrSize
	var b []byte
	pos := uint64(fuzzBase + table)
	for _, s := range strs {
		b = appendPointer(b, pos)
		pos += uint64(len(s))
	}
	b = appendPointer(b, 0)
	for _, s := range strs {
		b = append(b, s...)
	}
	return b
}

func appendPointer(b []byte, p uint64) []byte {
	if ptrSize == 4 {
		return binary.NativeEndian.AppendUint32(b, uint32(p))
	}
	return binary.NativeEndian.AppendUint64(b, p)
}
