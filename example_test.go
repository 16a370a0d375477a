package seccomp_test

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/launch"
)

// This example traps getppid on a thread of its own and answers it from
// another goroutine through the filter's listener, without a child process.
func Example() {
	prog, err := launch.NotifyFilter([]uint32{unix.SYS_GETPPID})
	if err != nil {
		panic(err)
	}

	launch.OnDisposableThread(func() {
		// no_new_privs and the filter apply to this thread only.
		if err := seccomp.SetNoNewPrivs(); err != nil {
			panic(err)
		}
		fd, err := seccomp.SetModeFilter(prog, seccomp.FilterFlagNewListener)
		if err != nil {
			panic(err)
		}
		l, err := seccomp.NewListener(fd)
		if err != nil {
			panic(err)
		}
		defer l.Close()

		// Serve from another goroutine: this thread stops at getppid until
		// the listener answers.
		go func() {
			var n seccomp.Notif
			for {
				if err := l.Receive(&n); err != nil {
					return // ErrClosed once the deferred Close runs
				}
				if err := l.RespondValue(n.ID, 42); err != nil && !errors.Is(err, seccomp.ErrNotifGone) {
					panic(err)
				}
			}
		}()

		ppid, _, _ := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		fmt.Println("getppid returned", ppid)
	})
	// Output: getppid returned 42
}

func ExampleFilterFlag_String() {
	flags := seccomp.FilterFlagTSync | seccomp.FilterFlagTSyncESRCH | seccomp.FilterFlagNewListener
	fmt.Println(flags)
	fmt.Println(seccomp.FilterFlag(0x100))
	// Output:
	// TSYNC|NEW_LISTENER|TSYNC_ESRCH
	// 0x100
}

func ExampleErrnoAction() {
	a := seccomp.ErrnoAction(unix.EPERM)
	errno, _ := a.Errno()
	fmt.Println(a, a.Base(), errno == unix.EPERM)
	// Output: ERRNO(1) ERRNO(0) true
}

func ExampleParseAction() {
	a, err := seccomp.ParseAction("ERRNO(EACCES)")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v %#x\n", a, uint32(a))
	// Output: ERRNO(13) 0x5000d
}

func ExampleEvaluate() {
	prog, _ := launch.NotifyFilter([]uint32{unix.SYS_OPENAT})
	for _, nr := range []int32{unix.SYS_OPENAT, unix.SYS_READ} {
		action, _ := seccomp.Evaluate(prog, &seccomp.Data{Nr: nr, Arch: seccomp.AuditArchNative})
		fmt.Println(action)
	}
	// Output:
	// USER_NOTIF
	// ALLOW
}

func ExampleHaveFilterFlag() {
	if err := seccomp.HaveNestedListeners(); errors.Is(err, seccomp.ErrNotSupported) {
		fmt.Println("no nested listeners:", err)
	}
}
