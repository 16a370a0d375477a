package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/sysnum"
)

// fakeMemory is a target address space with one mapped range, starting at
// base. It records the order of calls in log, when log is not nil.
type fakeMemory struct {
	base uint64
	data []byte
	log  *[]string
}

func (m *fakeMemory) readAt(p []byte, addr uint64) (int, error) {
	if m.log != nil {
		*m.log = append(*m.log, "read")
	}
	if addr < m.base || addr-m.base >= uint64(len(m.data)) {
		return 0, unix.EIO
	}
	n := copy(p, m.data[addr-m.base:])
	if n < len(p) {
		return n, unix.EIO
	}
	return n, nil
}

func (m *fakeMemory) close() error {
	if m.log != nil {
		*m.log = append(*m.log, "close")
	}
	return nil
}

// errGone is the error Listener.IDValid and the responses return once a
// notification is gone.
var errGone = &seccomp.Error{Op: "check id", Errno: unix.ENOENT, Err: seccomp.ErrNotifGone}

// fakeListener returns the given errors and records the responses.
type fakeListener struct {
	notifs     []seccomp.Notif // returned by Receive, then ErrNoTargets
	validErr   error
	respondErr error
	// respondErrs, when not empty, holds the result of each response in
	// turn, in place of respondErr.
	respondErrs []error
	responses   []string
	log         *[]string
}

func (l *fakeListener) respond(response string) error {
	l.responses = append(l.responses, response)
	if len(l.respondErrs) > 0 {
		err := l.respondErrs[0]
		l.respondErrs = l.respondErrs[1:]
		return err
	}
	return l.respondErr
}

func (l *fakeListener) Receive(n *seccomp.Notif) error {
	if len(l.notifs) == 0 {
		return &seccomp.Error{Op: "receive", Err: seccomp.ErrNoTargets}
	}
	*n, l.notifs = l.notifs[0], l.notifs[1:]
	return nil
}

func (l *fakeListener) IDValid(id uint64) error {
	if l.log != nil {
		*l.log = append(*l.log, "id_valid")
	}
	return l.validErr
}

func (l *fakeListener) Continue(id uint64) error {
	return l.respond("continue")
}

func (l *fakeListener) RespondErrno(id uint64, errno unix.Errno) error {
	return l.respond("errno " + unix.ErrnoName(errno))
}

func (l *fakeListener) Close() error { return nil }

func mustNumber(t testing.TB, name string) uint32 {
	t.Helper()
	nr, ok := sysnum.Number(name)
	if !ok {
		t.Fatalf("no system call %s on this architecture", name)
	}
	return nr
}

const fakeBase = 0x10000

// fakeDecoder returns a decoder that reads mem and checks ids with l.
func fakeDecoder(l *fakeListener, mem *fakeMemory) *decoder {
	d := newDecoder(l.IDValid)
	d.openMemory = func(tid uint32) (targetMemory, error) {
		if mem.log != nil {
			*mem.log = append(*mem.log, "open")
		}
		return mem, nil
	}
	return d
}

// atFDCWD is AT_FDCWD as a 32-bit register value.
var atFDCWD = func() uint64 {
	fd := int32(unix.AT_FDCWD)
	return uint64(uint32(fd))
}()

// openatNotif returns a notification of openat(AT_FDCWD, fakeBase, O_RDONLY).
func openatNotif(t testing.TB) *seccomp.Notif {
	return &seccomp.Notif{
		ID:  0x42,
		Pid: 1234,
		Data: seccomp.Data{
			Nr:   int32(mustNumber(t, "openat")),
			Arch: seccomp.AuditArchNative,
			Args: [6]uint64{atFDCWD, fakeBase, unix.O_RDONLY, 0},
		},
	}
}

// decodeAndRespond runs one notification through the decoder and the
// server's response, as the serve loop does, and returns both report lines.
func decodeAndRespond(t *testing.T, l *fakeListener, mem *fakeMemory, n *seccomp.Notif) (ev *event, text string, js jsonEvent) {
	t.Helper()
	s := newServer(l, &config{}, nil, &bytes.Buffer{})
	s.dec = fakeDecoder(l, mem)
	ev = new(event)
	s.dec.decode(n, ev)
	s.respond(ev)

	text = string(appendText(nil, ev))
	line := appendJSON(nil, ev)
	if err := json.Unmarshal(line, &js); err != nil {
		t.Fatalf("JSON line %s: %v", line, err)
	}
	return ev, text, js
}

func TestStaleReadIsNotReported(t *testing.T) {
	var log []string
	mem := &fakeMemory{base: fakeBase, data: []byte("/secret/path\x00"), log: &log}
	l := &fakeListener{validErr: errGone, log: &log}

	ev, text, js := decodeAndRespond(t, l, mem, openatNotif(t))

	// The id must be checked after the read, not before.
	if got, want := strings.Join(log, " "), "open read close id_valid"; got != want {
		t.Errorf("calls %q, want %q", got, want)
	}
	if ev.args[1].state != memGone {
		t.Errorf("pathname state %d, want memGone", ev.args[1].state)
	}
	if len(l.responses) != 0 {
		t.Errorf("sent %q to a notification that is gone", l.responses)
	}

	if strings.Contains(text, "secret") {
		t.Errorf("text line %q shows bytes read after the notification was gone", text)
	}
	if want := "1234 openat(AT_FDCWD, <gone 0x10000>, O_RDONLY, 0) -> gone\n"; text != want {
		t.Errorf("text line %q, want %q", text, want)
	}

	if js.Action != "gone" {
		t.Errorf("JSON action %q, want gone", js.Action)
	}
	if a := js.Args[1]; a.Value != nil || a.Error != "gone" {
		t.Errorf("JSON pathname %+v, want error gone and no value", a)
	}
}

func TestConfirmedReadIsReported(t *testing.T) {
	mem := &fakeMemory{base: fakeBase, data: []byte("/etc/hostname\x00")}
	l := &fakeListener{}

	_, text, js := decodeAndRespond(t, l, mem, openatNotif(t))
	if want := `1234 openat(AT_FDCWD, "/etc/hostname", O_RDONLY, 0) -> continue` + "\n"; text != want {
		t.Errorf("text line %q, want %q", text, want)
	}
	if a := js.Args[1]; a.Value == nil || *a.Value != "/etc/hostname" || js.Action != "continue" || js.ID != "0x42" {
		t.Errorf("JSON %+v, want pathname /etc/hostname, action continue, id 0x42", js)
	}
	if got := strings.Join(l.responses, " "); got != "continue" {
		t.Errorf("responses %q, want continue", got)
	}
}

func TestGoneAtResponseKeepsConfirmedRead(t *testing.T) {
	// ID_VALID succeeded after the read, so the path was the call's. The
	// target died or was interrupted only before the response.
	mem := &fakeMemory{base: fakeBase, data: []byte("/tmp/x\x00")}
	l := &fakeListener{respondErr: errGone}

	_, text, _ := decodeAndRespond(t, l, mem, openatNotif(t))
	if want := `1234 openat(AT_FDCWD, "/tmp/x", O_RDONLY, 0) -> gone` + "\n"; text != want {
		t.Errorf("text line %q, want %q", text, want)
	}
}

func TestDeniedCallGetsErrno(t *testing.T) {
	mem := &fakeMemory{base: fakeBase, data: []byte("/tmp/x\x00")}
	l := &fakeListener{}
	s := newServer(l, &config{deny: []denyRule{{name: "openat", nr: mustNumber(t, "openat"), errno: unix.EACCES}}}, nil, &bytes.Buffer{})
	s.dec = fakeDecoder(l, mem)

	var ev event
	s.dec.decode(openatNotif(t), &ev)
	s.respond(&ev)
	if got := strings.Join(l.responses, " "); got != "errno EACCES" {
		t.Errorf("responses %q, want errno EACCES", got)
	}
	if text := string(appendText(nil, &ev)); !strings.HasSuffix(text, " -> errno EACCES\n") {
		t.Errorf("text line %q, want the response errno EACCES", text)
	}
}

func TestUnreadableMemory(t *testing.T) {
	tests := []struct {
		name string
		pid  uint32
		mem  *fakeMemory
		want string
	}{
		{"unmapped", 1234, &fakeMemory{base: 0x20000, data: []byte("x\x00")}, "<unreadable 0x10000: EIO>"},
		{"no NUL before the end of the mapping", 1234, &fakeMemory{base: fakeBase, data: []byte("/no/nul")}, "<unreadable 0x10000: EIO>"},
		{"pid not visible", 0, &fakeMemory{base: fakeBase, data: []byte("/x\x00")}, "<unreadable 0x10000: target not visible in this pid namespace>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := openatNotif(t)
			n.Pid = tt.pid
			_, text, js := decodeAndRespond(t, &fakeListener{}, tt.mem, n)
			if !strings.Contains(text, ", "+tt.want+", ") {
				t.Errorf("text line %q, want the pathname as %s", text, tt.want)
			}
			if js.Args[1].Error == "" || js.Args[1].Value != nil {
				t.Errorf("JSON pathname %+v, want an error and no value", js.Args[1])
			}
		})
	}
}

func TestNoMemoryReadWithoutPointers(t *testing.T) {
	var log []string
	mem := &fakeMemory{base: fakeBase, data: []byte("x\x00"), log: &log}
	l := &fakeListener{log: &log}

	// A NULL path and a call without pointer arguments read nothing and
	// need no ID_VALID.
	null := openatNotif(t)
	null.Data.Args[1] = 0
	getppid := &seccomp.Notif{ID: 7, Pid: 99, Data: seccomp.Data{Nr: int32(mustNumber(t, "getppid"))}}

	_, text, _ := decodeAndRespond(t, l, mem, null)
	if want := "1234 openat(AT_FDCWD, NULL, O_RDONLY, 0) -> continue\n"; text != want {
		t.Errorf("text line %q, want %q", text, want)
	}
	_, text, _ = decodeAndRespond(t, l, mem, getppid)
	if want := "99 getppid() -> continue\n"; text != want {
		t.Errorf("text line %q, want %q", text, want)
	}
	if len(log) != 0 {
		t.Errorf("calls %q, want none", log)
	}
}

func TestServeLoop(t *testing.T) {
	// The second notification is gone at the response, and the loop goes
	// on to the third. A failed response is reported on the diagnostics.
	n := openatNotif(t)
	l := &fakeListener{
		notifs:      []seccomp.Notif{*n, *n, *n, *n},
		respondErrs: []error{nil, errGone, nil, &seccomp.Error{Op: "send", Errno: unix.EINVAL}},
	}
	var report, diag bytes.Buffer
	s := newServer(l, &config{}, &report, &diag)
	s.dec = fakeDecoder(l, &fakeMemory{base: fakeBase, data: []byte("/a\x00")})

	s.serve() // returns at ErrNoTargets
	line := `1234 openat(AT_FDCWD, "/a", O_RDONLY, 0) -> `
	want := line + "continue\n" + line + "gone\n" + line + "continue\n" + line + "failed\n"
	if report.String() != want {
		t.Errorf("report %q, want %q", report.String(), want)
	}
	if s.handled != 4 {
		t.Errorf("handled %d notifications, want 4", s.handled)
	}
	if !strings.Contains(diag.String(), "responding to openat of thread 1234 failed") || strings.Count(diag.String(), "\n") != 1 {
		t.Errorf("diagnostics %q, want one line about the failed response", diag.String())
	}
}

// failingWriter fails every write.
type failingWriter struct{ writes int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	return 0, unix.ENOSPC
}

func TestServeGoesOnAfterReportError(t *testing.T) {
	n := openatNotif(t)
	l := &fakeListener{notifs: []seccomp.Notif{*n, *n, *n}}
	var diag bytes.Buffer
	report := &failingWriter{}
	s := newServer(l, &config{}, report, &diag)
	s.dec = fakeDecoder(l, &fakeMemory{base: fakeBase, data: []byte("/a\x00")})

	s.serve()
	if len(l.responses) != 3 {
		t.Errorf("sent %d responses, want 3", len(l.responses))
	}
	if report.writes != 1 || strings.Count(diag.String(), "\n") != 1 {
		t.Errorf("%d writes and diagnostics %q, want one of each", report.writes, diag.String())
	}
}

// decodeWith decodes a notification of the named call with args, reading
// mem, and returns the text line without the pid and the response.
func decodeWith(t *testing.T, name string, args [6]uint64, mem *fakeMemory) string {
	t.Helper()
	n := &seccomp.Notif{ID: 1, Pid: 5, Data: seccomp.Data{Nr: int32(mustNumber(t, name)), Args: args}}
	_, text, _ := decodeAndRespond(t, &fakeListener{}, mem, n)
	return strings.TrimSuffix(strings.TrimPrefix(text, "5 "), " -> continue\n")
}

func TestDecodeStrings(t *testing.T) {
	pageSize := uint64(unix.Getpagesize())

	// A short string at the end of the mapping, where reading a whole
	// PATH_MAX would fail: it is read a page at a time.
	tail := &fakeMemory{base: fakeBase, data: append(make([]byte, pageSize-3), "/x\x00"...)}
	if got, want := decodeWith(t, "chdir", [6]uint64{fakeBase + pageSize - 3}, tail), `chdir("/x")`; got != want {
		t.Errorf("string at the end of a mapping: %s, want %s", got, want)
	}

	// A string without a NUL in its first maxPathLen bytes is truncated.
	long := &fakeMemory{base: fakeBase, data: bytes.Repeat([]byte("a"), 3*maxPathLen)}
	want := `chdir("` + strings.Repeat("a", maxPathLen) + `"...)`
	if got := decodeWith(t, "chdir", [6]uint64{fakeBase + 1}, long); got != want {
		t.Errorf("long string: %.60s..., want %.60s...", got, want)
	}

	// Bytes that are not UTF-8 are escaped.
	odd := &fakeMemory{base: fakeBase, data: []byte("a\xff\n\"\x00")}
	if got, want := decodeWith(t, "chdir", [6]uint64{fakeBase}, odd), `chdir("a\xff\n\"")`; got != want {
		t.Errorf("odd bytes: %s, want %s", got, want)
	}

	// Two paths in one call.
	two := &fakeMemory{base: fakeBase, data: []byte("/old\x00/new\x00")}
	args := [6]uint64{atFDCWD, fakeBase, 3, fakeBase + 5, unix.RENAME_NOREPLACE}
	if got, want := decodeWith(t, "renameat2", args, two), `renameat2(AT_FDCWD, "/old", 3, "/new", RENAME_NOREPLACE)`; got != want {
		t.Errorf("renameat2: %s, want %s", got, want)
	}
}

// memoryImage builds a fake address space from pieces placed at offsets.
type memoryImage struct{ data []byte }

func (m *memoryImage) put(offset int, b []byte) uint64 {
	if need := offset + len(b); need > len(m.data) {
		m.data = append(m.data, make([]byte, need-len(m.data))...)
	}
	copy(m.data[offset:], b)
	return fakeBase + uint64(offset)
}

func (m *memoryImage) putPointers(offset int, ptrs ...uint64) uint64 {
	b := make([]byte, 0, len(ptrs)*ptrSize)
	for _, p := range ptrs {
		if ptrSize == 4 {
			b = binary.NativeEndian.AppendUint32(b, uint32(p))
		} else {
			b = binary.NativeEndian.AppendUint64(b, p)
		}
	}
	return m.put(offset, b)
}

func TestDecodeArgv(t *testing.T) {
	var img memoryImage
	path := img.put(0, []byte("/bin/echo\x00"))
	hello := img.put(16, []byte("hello\x00"))
	argv := img.putPointers(64, path, hello, 0)
	mem := &fakeMemory{base: fakeBase, data: img.data}

	got := decodeWith(t, "execve", [6]uint64{path, argv, 0}, mem)
	if want := `execve("/bin/echo", ["/bin/echo", "hello"], NULL)`; got != want {
		t.Errorf("execve: %s, want %s", got, want)
	}

	// More entries than are shown.
	ptrs := make([]uint64, maxArgvEntries+5)
	for i := range ptrs {
		ptrs[i] = hello
	}
	many := img.putPointers(256, append(ptrs, 0)...)
	mem = &fakeMemory{base: fakeBase, data: img.data}
	got = decodeWith(t, "execve", [6]uint64{path, many, 0}, mem)
	want := `execve("/bin/echo", [` + strings.Repeat(`"hello", `, maxArgvEntries) + `...], NULL)`
	if got != want {
		t.Errorf("long argv: %s, want %s", got, want)
	}

	// An array that runs into unmapped memory before its NULL.
	unterminated := img.putPointers(len(img.data), hello)
	mem = &fakeMemory{base: fakeBase, data: img.data}
	got = decodeWith(t, "execve", [6]uint64{path, unterminated, 0}, mem)
	if want := `execve("/bin/echo", <unreadable 0x` + hexString(unterminated) + `: EIO>, NULL)`; got != want {
		t.Errorf("unterminated argv: %s, want %s", got, want)
	}
}

func addressOf(b []byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

func hexString(v uint64) string {
	return strings.TrimPrefix(string(appendHex(nil, v)), "0x")
}

// sockaddrBytes builds a socket address: the family in native byte order,
// then body.
func sockaddrBytes(family uint16, body ...byte) []byte {
	return append(binary.NativeEndian.AppendUint16(nil, family), body...)
}

func TestDecodeSockaddr(t *testing.T) {
	inet6 := sockaddrBytes(unix.AF_INET6, 0x1f, 0x90, 0, 0, 0, 0)
	inet6 = append(inet6, make([]byte, 15)...)
	inet6 = append(inet6, 1)                                                          // ::1
	inet6Scoped := binary.NativeEndian.AppendUint32(append([]byte(nil), inet6...), 2) // scope id 2

	tests := []struct {
		name string
		addr []byte
		want string
	}{
		{"unix path", append(sockaddrBytes(unix.AF_UNIX), "/run/x.sock\x00\x00\x00"...), `{AF_UNIX, "/run/x.sock"}`},
		{"unix abstract", append(sockaddrBytes(unix.AF_UNIX), "\x00name\x00x"...), `{AF_UNIX, @"name\x00x"}`},
		{"unix unnamed", sockaddrBytes(unix.AF_UNIX), `{AF_UNIX, ""}`},
		{"inet", sockaddrBytes(unix.AF_INET, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0), "{AF_INET, 127.0.0.1:8080}"},
		{"inet short", sockaddrBytes(unix.AF_INET, 0x1f, 0x90, 127), "{AF_INET, len=5}"},
		{"inet6 without scope", inet6, "{AF_INET6, [::1]:8080}"},
		{"inet6 with scope", inet6Scoped, "{AF_INET6, [::1%2]:8080}"},
		{"other family", sockaddrBytes(unix.AF_NETLINK, 0, 0, 1, 2), "{AF_NETLINK, len=6}"},
		{"unknown family", sockaddrBytes(999, 1), "{family=999, len=3}"},
		{"too short for a family", []byte{1}, "{len=1}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := &fakeMemory{base: fakeBase, data: tt.addr}
			got := decodeWith(t, "connect", [6]uint64{3, fakeBase, uint64(len(tt.addr))}, mem)
			if want := "connect(3, " + tt.want + ", " + strconv.Itoa(len(tt.addr)) + ")"; got != want {
				t.Errorf("%s, want %s", got, want)
			}
		})
	}
}

func TestJSONSockaddrAndBytes(t *testing.T) {
	tests := []struct {
		name string
		call string
		mem  []byte
		want jsonArg
	}{
		{"unix path", "connect", append(sockaddrBytes(unix.AF_UNIX), "/run/s\x00"...),
			jsonArg{Family: "AF_UNIX", Value: ptr("/run/s")}},
		{"unix abstract", "connect", append(sockaddrBytes(unix.AF_UNIX), "\x00name"...),
			jsonArg{Family: "AF_UNIX", Abstract: true, Value: ptr("name")}},
		{"unix path not UTF-8", "connect", append(sockaddrBytes(unix.AF_UNIX), "/\xff\x00"...),
			jsonArg{Family: "AF_UNIX", Value: ptr("/\ufffd"), Hex: "2fff"}},
		{"inet", "connect", sockaddrBytes(unix.AF_INET, 0, 80, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0),
			jsonArg{Family: "AF_INET", Value: ptr("10.0.0.1:80")}},
		{"netlink", "connect", sockaddrBytes(unix.AF_NETLINK, 0, 0),
			jsonArg{Family: "AF_NETLINK", Hex: hex.EncodeToString(sockaddrBytes(unix.AF_NETLINK, 0, 0))}},
		{"path not UTF-8", "unlinkat", []byte("a\xffb\x00"),
			jsonArg{Value: ptr("a\ufffdb"), Hex: "61ff62"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := [6]uint64{3, fakeBase, uint64(len(tt.mem))}
			if tt.call == "unlinkat" {
				args = [6]uint64{atFDCWD, fakeBase, 0}
			}
			n := &seccomp.Notif{ID: 1, Pid: 5, Data: seccomp.Data{Nr: int32(mustNumber(t, tt.call)), Args: args}}
			_, _, js := decodeAndRespond(t, &fakeListener{}, &fakeMemory{base: fakeBase, data: tt.mem}, n)

			got := js.Args[1]
			got.Name, got.Raw = "", ""
			if got.Value != nil && tt.want.Value != nil && *got.Value == *tt.want.Value {
				got.Value = tt.want.Value
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("argument %+v (value %s), want %+v (value %s)", got, deref(got.Value), tt.want, deref(tt.want.Value))
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return strconv.Quote(*s)
}

func TestDecodeOpenHow(t *testing.T) {
	how := binary.NativeEndian.AppendUint64(nil, unix.O_RDONLY|unix.O_CLOEXEC)
	how = binary.NativeEndian.AppendUint64(how, 0)
	how = binary.NativeEndian.AppendUint64(how, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
	var img memoryImage
	path := img.put(0, []byte("x\x00"))
	addr := img.put(8, how)
	mem := &fakeMemory{base: fakeBase, data: img.data}

	args := [6]uint64{3, path, addr, 24}
	want := `openat2(3, "x", {flags=O_RDONLY|O_CLOEXEC, mode=0, resolve=RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH}, 24)`
	if got := decodeWith(t, "openat2", args, mem); got != want {
		t.Errorf("%s, want %s", got, want)
	}

	// A size smaller than the struct leaves the other fields zero.
	args[3] = 8
	want = `openat2(3, "x", {flags=O_RDONLY|O_CLOEXEC, mode=0, resolve=0}, 8)`
	if got := decodeWith(t, "openat2", args, mem); got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

func TestFormatValues(t *testing.T) {
	tests := []struct {
		spec argSpec
		raw  uint64
		want string
	}{
		{argSpec{kind: kindOpenFlags}, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"},
		{argSpec{kind: kindOpenFlags}, unix.O_RDWR | unix.O_TMPFILE, "O_RDWR|O_TMPFILE"},
		{argSpec{kind: kindOpenFlags}, unix.O_WRONLY | unix.O_SYNC, "O_WRONLY|O_SYNC"},
		{argSpec{kind: kindOpenFlags}, unix.O_WRONLY | unix.O_DSYNC, "O_WRONLY|O_DSYNC"},
		{argSpec{kind: kindOpenFlags}, 1 << 40, "O_RDONLY|0x10000000000"},
		{argSpec{kind: kindOpenFlags}, unix.O_ACCMODE, "O_ACCMODE"},
		{argSpec{kind: kindMode}, 0, "0"},
		{argSpec{kind: kindMode}, 0o755, "0755"},
		{argSpec{kind: kindMode}, 0o4755, "04755"},
		{argSpec{kind: kindFlags, flags: unlinkFlagNames}, 0, "0"},
		{argSpec{kind: kindFlags, flags: unlinkFlagNames}, unix.AT_REMOVEDIR | 1, "AT_REMOVEDIR|0x1"},
		{argSpec{kind: kindFlags, flags: accessModeNames}, unix.R_OK | unix.X_OK, "R_OK|X_OK"},
		{argSpec{kind: kindFD}, atFDCWD, "AT_FDCWD"},
		{argSpec{kind: kindFD}, 0xffffffff_ffffff9c, "AT_FDCWD"},
		{argSpec{kind: kindFD}, 3, "3"},
		{argSpec{kind: kindFD}, 0xffffffff, "-1"},
		{argSpec{kind: kindInt}, 0xffffffff, "-1"},
		{argSpec{kind: kindPtr}, 0, "NULL"},
		{argSpec{kind: kindPtr}, 0x7ffd1234, "0x7ffd1234"},
		{argSpec{kind: kindHex}, 0, "0x0"},
		{argSpec{kind: kindSignal}, uint64(unix.SIGTERM), "SIGTERM"},
		{argSpec{kind: kindSignal}, 200, "200"},
		{argSpec{kind: kindDomain}, unix.AF_INET6, "AF_INET6"},
		{argSpec{kind: kindSocketType}, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, "SOCK_STREAM|SOCK_CLOEXEC"},
	}
	for _, tt := range tests {
		if got := string(appendValue(nil, &tt.spec, tt.raw)); got != tt.want {
			t.Errorf("kind %d value %#x: %q, want %q", tt.spec.kind, tt.raw, got, tt.want)
		}
	}
}

func TestJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\n\r\t\x00\x1f\x7f", "é✓😀", "\xff\xfe", "a\xe2\x82", "\u2028"} {
		got := appendJSONString(nil, []byte(s))
		var decoded string
		if err := json.Unmarshal(got, &decoded); err != nil {
			t.Errorf("%q gives %s, which is not JSON: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantDecoded string
		json.Unmarshal(want, &wantDecoded)
		if decoded != wantDecoded {
			t.Errorf("%q gives %s, which decodes to %q, want %q as encoding/json has it", s, got, decoded, wantDecoded)
		}
	}
}

func TestSpecTable(t *testing.T) {
	for name, args := range syscallArgs {
		if len(args) > 6 {
			t.Errorf("%s has %d arguments, more than 6", name, len(args))
		}
		for i, a := range args {
			needsNext := a.kind == kindSockaddr || a.kind == kindOpenHow
			if needsNext && i+1 >= len(args) {
				t.Errorf("%s: argument %s needs a length in the next argument", name, a.name)
			}
			if a.kind == kindFlags && len(a.flags) == 0 {
				t.Errorf("%s: argument %s has no flag names", name, a.name)
			}
		}
	}
	for _, name := range availableDefaults() {
		if _, ok := syscallArgs[name]; !ok {
			t.Errorf("default call %s has no argument table", name)
		}
	}

	// A call without a table shows six raw registers under its own name.
	specs := make(specCache)
	nr := mustNumber(t, "getcwd")
	if spec := specs.lookup(nr); spec.name != "getcwd" || len(spec.args) != 6 {
		t.Errorf("getcwd: spec %+v, want the name and six raw arguments", spec)
	}
	if spec := specs.lookup(1 << 20); spec.name != "syscall_1048576" {
		t.Errorf("unknown number: name %q, want syscall_1048576", spec.name)
	}
}

func TestProcMemoryReadsOwnMemory(t *testing.T) {
	mem, err := openProcMemory(uint32(unix.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	defer mem.close()

	want := []byte("unotify reads this\x00")
	d := newDecoder(func(uint64) error { return nil })
	var ev event
	s, truncated, err := d.readString(mem, &ev, addressOf(want), maxPathLen)
	runtime.KeepAlive(want)
	if err != nil || truncated || string(ev.bytes(s)) != "unotify reads this" {
		t.Errorf("read %q truncated=%t err=%v, want %q", ev.bytes(s), truncated, err, want[:len(want)-1])
	}

	// Address 0 is never mapped.
	if n, err := mem.readAt(make([]byte, 8), 0); n != 0 || !errors.Is(err, unix.EIO) {
		t.Errorf("read at 0: %d bytes, %v; want 0 bytes and EIO", n, err)
	}
	// An address that pread cannot express.
	if n, err := mem.readAt(make([]byte, 8), 1<<63); n != 0 || !errors.Is(err, unix.EFAULT) {
		t.Errorf("read at 1<<63: %d bytes, %v; want 0 bytes and EFAULT", n, err)
	}
}
