package thread

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestDisposableAvoidsMainThread(t *testing.T) {
	// Many runs make it likely that some goroutine starts on the main thread.
	for range 200 {
		tids := make(chan int)
		Disposable(func() { tids <- unix.Gettid() })
		if tid := <-tids; tid == unix.Getpid() {
			t.Fatalf("f ran on the main thread %d", tid)
		}
	}
}
