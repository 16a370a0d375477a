// Command libseccomp is the benchmark supervisor that serves each listener
// with github.com/seccomp/libseccomp-golang, which calls libseccomp through
// cgo: NotifReceive blocks in SECCOMP_IOCTL_NOTIF_RECV and NotifRespond
// responds, from an ordinary goroutine, as that package's users write it.
//
// It is a module of its own so that github.com/seccompgo/seccomp never
// depends on cgo. bench/cmd/benchmark builds and runs it; see
// bench/README.md.
package main

import (
	"errors"
	"syscall"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp/bench/internal/harness"
)

// impl serves a listener with libseccomp-golang. The listener fd comes
// from the target, like for every other supervisor, because
// libseccomp-golang always loads filters with TSYNC, which would put the
// filter on every thread of this process. libseccomp 2.5 has no call for
// SECCOMP_IOCTL_NOTIF_SET_FLAGS, so the harness sets SYNC_WAKE_UP.
var impl = harness.Impl{
	Name: "libseccomp",
	Open: func(fd int) (harness.Server, error) { return server{fd: libseccomp.ScmpFd(fd)}, nil },
}

type server struct {
	fd libseccomp.ScmpFd
}

func (s server) Serve(n int) error {
	for served := 0; served < n; {
		req, err := libseccomp.NotifReceive(s.fd)
		if err != nil {
			if errors.Is(err, syscall.ENOENT) {
				continue // the target was interrupted before the receive
			}
			return err
		}
		resp := libseccomp.ScmpNotifResp{ID: req.ID, Val: harness.ResponseValue}
		if err := libseccomp.NotifRespond(s.fd, &resp); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				continue
			}
			return err
		}
		served++
	}
	return nil
}

func (s server) Close() error { return unix.Close(int(s.fd)) }

func main() {
	harness.Main(impl)
}
