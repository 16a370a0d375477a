// Package thread runs code on an OS thread that ends when the code returns.
package thread

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Disposable runs f in a new goroutine locked to an OS thread that is never
// unlocked, so the runtime ends the thread when f returns, and with it any
// per-thread state f set, such as seccomp filters and no_new_privs. It does
// not wait for f.
//
// The runtime cannot end the process's main thread: a goroutine that exits
// while locked to it leaves the thread parked for the life of the process,
// and a filter on it would keep its listener from ever hanging up. So if the
// new goroutine lands on the main thread, it holds that thread while f runs
// on another one, and then releases it untouched.
func Disposable(f func()) {
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			f()
			return // still locked: the thread ends here
		}

		done := make(chan struct{})
		go func() {
			// The main thread is locked to the goroutine above, so this one
			// runs elsewhere.
			runtime.LockOSThread()
			defer close(done)
			f()
		}()
		<-done
		runtime.UnlockOSThread()
	}()
}
