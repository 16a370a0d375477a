package harness

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// ListenerImpl serves each listener with a [seccomp.Listener]: Receive
// waits on Go's runtime poller and RespondValue responds.
var ListenerImpl = Impl{
	Name: "listener",
	Open: func(fd int) (Server, error) {
		l, err := seccomp.NewListener(fd)
		if err != nil {
			return nil, err
		}
		return &listenerServer{l: l}, nil
	},
}

type listenerServer struct {
	l *seccomp.Listener
}

func (s *listenerServer) Serve(n int) error {
	var notif seccomp.Notif
	for served := 0; served < n; {
		if err := s.l.Receive(&notif); err != nil {
			return err
		}
		if err := s.l.RespondValue(notif.ID, ResponseValue); err != nil {
			if errors.Is(err, seccomp.ErrNotifGone) {
				continue // the call restarts with a new id
			}
			return err
		}
		served++
	}
	return nil
}

func (s *listenerServer) Close() error { return s.l.Close() }

// BlockingImpl serves each listener from a goroutine locked to its OS
// thread, which blocks in [seccomp.IoctlNotifRecv] and responds with
// [seccomp.IoctlNotifSend]: one thread per listener, as in C.
var BlockingImpl = Impl{
	Name: "blocking",
	Open: func(fd int) (Server, error) { return &blockingServer{fd: fd}, nil },
}

type blockingServer struct {
	fd int
}

func (s *blockingServer) Serve(n int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var (
		notif seccomp.Notif
		resp  seccomp.NotifResp
	)
	for served := 0; served < n; {
		if err := seccomp.IoctlNotifRecv(s.fd, &notif); err != nil {
			if errors.Is(err, seccomp.ErrNotifGone) && !hungUp(s.fd) {
				continue // the target was interrupted before the receive
			}
			return err
		}
		resp = seccomp.NotifResp{ID: notif.ID, Val: ResponseValue}
		if err := seccomp.IoctlNotifSend(s.fd, &resp); err != nil {
			if errors.Is(err, seccomp.ErrNotifGone) {
				continue
			}
			return err
		}
		served++
	}
	return nil
}

func (s *blockingServer) Close() error { return unix.Close(s.fd) }

// hungUp reports whether listener fd polls as hung up: no task uses its
// filter any more, which RECV reports as ENOENT since Linux 6.11.
func hungUp(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n == 1 && fds[0].Revents&unix.POLLHUP != 0
}

// Lookup returns the implementation named name from impls.
func Lookup(impls []Impl, name string) (Impl, error) {
	for _, impl := range impls {
		if impl.Name == name {
			return impl, nil
		}
	}
	names := make([]string, len(impls))
	for i, impl := range impls {
		names[i] = impl.Name
	}
	return Impl{}, fmt.Errorf("unknown implementation %q: want one of %v", name, names)
}
