package seccomp_test

// Tables of bad input for the exported functions, each with the error text a
// caller gets. They add to TestSetModeFilterRejectsBadInput,
// TestIoctlsOnNonListener, TestNewListenerBadFD and the parse tests.

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

func TestSetModeFilterMoreBadInput(t *testing.T) {
	checkNoLeaks(t)
	ret := unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: uint32(seccomp.ActionAllow)}
	tests := []struct {
		name    string
		prog    []unix.SockFilter
		flags   seccomp.FilterFlag
		wantErr string
	}{
		{"empty program", []unix.SockFilter{}, 0, "seccomp: install filter: invalid filter program: program is empty"},
		{"empty program with listener", []unix.SockFilter{}, seccomp.FilterFlagNewListener, "invalid filter program: program is empty"},
		{"top flag bit", []unix.SockFilter{ret}, 0x80000000, "seccomp: install filter: unknown filter flag bits 0x80000000"},
		{"unknown bit with known ones", []unix.SockFilter{ret}, seccomp.FilterFlagNewListener | 0x200, "unknown filter flag bits 0x200"},
		{"killable and nested without listener", []unix.SockFilter{ret}, seccomp.FilterFlagWaitKillableRecv | seccomp.FilterFlagAllowNestedListeners,
			"flag WAIT_KILLABLE_RECV requires NEW_LISTENER"},
		{"tsync, esrch and listener with a bad program", nil, seccomp.FilterFlagTSync | seccomp.FilterFlagTSyncESRCH | seccomp.FilterFlagNewListener,
			"invalid filter program: program is empty"},
		{"no return", []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS}}, 0,
			"invalid filter program: instruction 0: the last instruction must be a return"},
		{"max instructions plus one with listener", make([]unix.SockFilter, seccomp.MaxInstructions+1), seccomp.FilterFlagNewListener,
			"program has 4097 instructions, more than the maximum of 4096"},
	}
	for _, tt := range tests {
		// Each case fails before the system call, so nothing is installed on
		// the test's thread.
		fd, err := seccomp.SetModeFilter(tt.prog, tt.flags)
		if err == nil {
			t.Fatalf("%s: SetModeFilter succeeded with fd %d", tt.name, fd)
		}
		if fd != -1 || !strings.HasPrefix(err.Error(), "seccomp: install filter: ") || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: fd %d, error %q; want -1 and an error containing %q", tt.name, fd, err, tt.wantErr)
		}
		var e *seccomp.Error
		if !errors.As(err, &e) || e.Errno != 0 {
			t.Errorf("%s: error %#v, want a *seccomp.Error without an errno", tt.name, err)
		}
	}
}

func TestNewListenerMoreBadFDs(t *testing.T) {
	checkNoLeaks(t)
	file, err := os.CreateTemp(t.TempDir(), "not-a-listener")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	memfd := memfdWith(t, "x")
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	dir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()

	tests := []struct {
		name    string
		fd      int
		errno   unix.Errno
		wantErr string
	}{
		{"negative", -7, unix.EBADF, "seccomp: new listener: invalid file descriptor -7"},
		{"far above any open fd", 1 << 30, unix.EBADF, "file descriptor 1073741824 is not open"},
		{"regular file", int(file.Fd()), unix.ENOTTY, `is "` + file.Name() + `", not a seccomp listener`},
		{"memfd", memfd, unix.ENOTTY, `is "/memfd:seccomp-test (deleted)", not a seccomp listener`},
		{"epoll", epfd, unix.ENOTTY, `is "anon_inode:[eventpoll]", not a seccomp listener`},
		{"directory", int(dir.Fd()), unix.ENOTTY, "not a seccomp listener"},
	}
	for _, tt := range tests {
		l, err := seccomp.NewListener(tt.fd)
		if err == nil {
			l.Close()
			t.Fatalf("%s: NewListener succeeded", tt.name)
		}
		if !errors.Is(err, tt.errno) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %v and a message containing %q", tt.name, err, tt.errno, tt.wantErr)
		}
	}

	// A rejected fd stays open and unchanged: no O_NONBLOCK, same offset.
	if _, err := file.WriteString("still open"); err != nil {
		t.Errorf("regular file after NewListener: %v", err)
	}
	if fl, _ := unix.FcntlInt(uintptr(memfd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK != 0 {
		t.Error("NewListener set O_NONBLOCK on the memfd it rejected")
	}
}

func TestIoctlsOnBadFDs(t *testing.T) {
	checkNoLeaks(t)
	file, err := os.CreateTemp(t.TempDir(), "not-a-listener")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	closedFD := lowestFreeFD() + 64 // never opened by this test

	for _, tt := range []struct {
		name    string
		fd      int
		errno   unix.Errno
		message string
	}{
		{"fd -1", -1, unix.EBADF, "bad file descriptor (EBADF)"},
		{"closed fd", closedFD, unix.EBADF, "bad file descriptor (EBADF)"},
		{"regular file", int(file.Fd()), unix.ENOTTY, "file descriptor is not a seccomp listener (ENOTTY)"},
	} {
		var n seccomp.Notif
		_, addErr := seccomp.IoctlNotifAddFD(tt.fd, &seccomp.NotifAddFD{ID: 1})
		calls := []struct {
			op  string
			err error
		}{
			{"receive", seccomp.IoctlNotifRecv(tt.fd, &n)},
			{"send", seccomp.IoctlNotifSend(tt.fd, &seccomp.NotifResp{ID: 1})},
			{"check id", seccomp.IoctlNotifIDValid(tt.fd, 1)},
			{"set flags", seccomp.IoctlNotifSetFlags(tt.fd, seccomp.NotifFDFlagSyncWakeUp)},
			{"add fd", addErr},
		}
		for _, c := range calls {
			want := "seccomp: " + c.op + ": " + tt.message
			if !errors.Is(c.err, tt.errno) || c.err.Error() != want {
				t.Errorf("%s on %s: %v, want %q", c.op, tt.name, c.err, want)
			}
		}
	}
	if off, _ := file.Seek(0, 1); off != 0 {
		t.Errorf("the regular file's offset moved to %d", off)
	}
}

func TestRespondRejectsBadResponses(t *testing.T) {
	checkNoLeaks(t)
	c := startChild(t, "getppid", childOptions{})
	n := receive(t, c.l)

	tests := []struct {
		name    string
		resp    seccomp.NotifResp
		errno   unix.Errno // 0 when the library rejects it before the ioctl
		wantErr string
	}{
		{"unknown flag", seccomp.NotifResp{ID: n.ID, Flags: 2}, unix.EINVAL,
			"seccomp: send: invalid response (EINVAL): unknown flag bits, or CONTINUE with a non-zero error or value"},
		{"CONTINUE with an error", seccomp.NotifResp{ID: n.ID, Error: -int32(unix.EPERM), Flags: seccomp.NotifRespFlagContinue}, unix.EINVAL,
			"CONTINUE with a non-zero error or value"},
		// The kernel returns a non-zero Error as the call's result, so a
		// positive one would read as success and one below -4095 as a
		// negative return value, not as an errno.
		{"positive error", seccomp.NotifResp{ID: n.ID, Error: int32(unix.EPERM)}, 0,
			"seccomp: send: error 1 out of range: want 0 or a negated errno from -4095 to -1"},
		{"error below -4095", seccomp.NotifResp{ID: n.ID, Error: -4096}, 0,
			"seccomp: send: error -4096 out of range: want 0 or a negated errno from -4095 to -1"},
		{"unknown id", seccomp.NotifResp{ID: n.ID ^ 1<<40}, unix.ENOENT,
			"seccomp: send: notification no longer exists (the target died or its system call was interrupted)"},
	}
	for _, tt := range tests {
		err := c.l.Respond(&tt.resp)
		if err == nil || err.Error() != tt.wantErr && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.wantErr)
			continue
		}
		if tt.errno != 0 && !errors.Is(err, tt.errno) {
			t.Errorf("%s: %v does not match %v", tt.name, err, tt.errno)
		}
		var e *seccomp.Error
		if tt.errno == 0 && (!errors.As(err, &e) || e.Errno != 0) {
			t.Errorf("%s: %#v, want a *seccomp.Error without an errno", tt.name, err)
		}
	}
	for _, errno := range []unix.Errno{0, 4096, 1 << 20} {
		err := c.l.RespondErrno(n.ID, errno)
		want := "seccomp: send: errno " + strconv.Itoa(int(errno)) + " out of range: want 1 to 4095 (use RespondValue to return a value)"
		if err == nil || err.Error() != want {
			t.Errorf("RespondErrno(%d) = %v, want %q", errno, err, want)
		}
	}

	// None of them answered the notification.
	if err := c.l.RespondErrno(n.ID, unix.EACCES); err != nil {
		t.Fatal(err)
	}
	if out := c.wait(t); out != "ret=-1 errno=13" {
		t.Errorf("child output %q, want EACCES", out)
	}
}

func TestEvaluateBadInput(t *testing.T) {
	checkNoLeaks(t)
	load := []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS}, {Code: unix.BPF_RET | unix.BPF_A}}
	data := seccomp.Data{Nr: 1}
	tests := []struct {
		name    string
		prog    []unix.SockFilter
		data    *seccomp.Data
		wantErr string
	}{
		{"nil program", nil, &data, "invalid filter program: program is empty"},
		{"oversized program", make([]unix.SockFilter, seccomp.MaxInstructions+1), &data, "more than the maximum of 4096"},
		{"invalid instruction", []unix.SockFilter{{Code: 0xffff}, {Code: unix.BPF_RET | unix.BPF_K}}, &data, "instruction 0: opcode 0xffff is not allowed"},
		{"nil data", load, nil, "seccomp: evaluate: nil Data"},
	}
	for _, tt := range tests {
		action, err := seccomp.Evaluate(tt.prog, tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Evaluate = %v, %v; want an error containing %q", tt.name, action, err, tt.wantErr)
		}
	}
}

func TestParseMoreBadInput(t *testing.T) {
	checkNoLeaks(t)
	actions := []struct{ in, wantErr string }{
		{"", `seccomp: parse action "": unknown action ""`},
		{"(", `seccomp: parse action "(": missing closing parenthesis`},
		{"ERRNO()", `invalid action data "": want a number from 0 to 65535`},
		{"ALLOW(1)(2)", `invalid action data "1)(2"`},
		{"ERRNO(-1)", `invalid action data "-1"`},
		{"ERRNO(eperm)", `invalid action data "eperm"`},
		{"0x100000000", `unknown action "0x100000000"`},
		{"allow", `unknown action "allow"`},
		{"KILL_PROCESS(65536)", `invalid action data "65536"`},
	}
	for _, tt := range actions {
		if a, err := seccomp.ParseAction(tt.in); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseAction(%q) = %v, %v; want an error containing %q", tt.in, a, err, tt.wantErr)
		}
	}

	flags := []struct{ in, wantErr string }{
		{"|", `seccomp: parse filter flags "|": empty flag name`},
		{" ", "empty flag name"},
		{"0x100000000", `unknown flag "0x100000000"`},
		{"-1", `unknown flag "-1"`},
		{"tsync", `unknown flag "tsync"`},
		{"TSYNC||LOG", "empty flag name"},
	}
	for _, tt := range flags {
		if f, err := seccomp.ParseFilterFlags(tt.in); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseFilterFlags(%q) = %v, %v; want an error containing %q", tt.in, f, err, tt.wantErr)
		}
	}
}

func TestFeatureProbesBadInput(t *testing.T) {
	checkNoLeaks(t)
	if err := seccomp.HaveFilterFlag(seccomp.FilterFlagNewListener | 0x80); err == nil ||
		err.Error() != "seccomp: probe filter flags: unknown filter flag bits 0x80" {
		t.Errorf("HaveFilterFlag(NEW_LISTENER|0x80) = %v", err)
	}
	err := seccomp.GetActionAvail(0x7ffe0000)
	if !errors.Is(err, unix.EOPNOTSUPP) || !strings.HasPrefix(err.Error(), "seccomp: get action availability: ") {
		t.Errorf("GetActionAvail(unknown) = %v, want EOPNOTSUPP", err)
	}
	if err := seccomp.HaveAction(0x7ffe0001); !errors.Is(err, seccomp.ErrNotSupported) || !strings.Contains(err.Error(), "action 0x7ffe0000 is unknown to the running kernel") {
		t.Errorf("HaveAction(unknown) = %v, want ErrNotSupported naming the action", err)
	}
}
