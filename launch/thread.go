package launch

import "github.com/seccompgo/seccomp/internal/thread"

// OnDisposableThread runs f on an OS thread that ends when f returns, and
// waits for it. Whatever f sets on its thread, such as no_new_privs or a
// seccomp filter, never reaches another goroutine: the goroutine running f
// stays locked to its thread, which is never the process's main thread
// (the runtime cannot end that one, so a filter there would stay for the
// life of the process).
//
// Use it to install a filter on one thread only, for example to start a
// child from that thread, as [Start] does.
func OnDisposableThread(f func()) {
	done := make(chan struct{})
	thread.Disposable(func() {
		defer close(done)
		f()
	})
	<-done
}
