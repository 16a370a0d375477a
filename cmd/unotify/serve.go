package main

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// listener is the part of *seccomp.Listener that the server uses.
type listener interface {
	Receive(n *seccomp.Notif) error
	IDValid(id uint64) error
	Continue(id uint64) error
	RespondErrno(id uint64, errno unix.Errno) error
	Close() error
}

// server responds to the notifications of one listener and writes the
// report.
type server struct {
	l      listener
	dec    *decoder
	deny   map[uint32]unix.Errno // by system call number
	json   bool
	report io.Writer
	diag   io.Writer // diagnostics

	// reportErr is the first error writing the report. Notifications are
	// still handled after it, but no more lines are written.
	reportErr error
	handled   uint64 // notifications received
}

func newServer(l listener, cfg *config, report, diag io.Writer) *server {
	s := &server{
		l:      l,
		dec:    newDecoder(l.IDValid),
		deny:   make(map[uint32]unix.Errno, len(cfg.deny)),
		json:   cfg.json,
		report: report,
		diag:   diag,
	}
	for _, rule := range cfg.deny {
		s.deny[rule.nr] = rule.errno
	}
	return s
}

// serve responds to notifications until no task uses the filter any more or
// the listener is closed. On any other receive error it closes the
// listener, so that the targets' intercepted calls fail with ENOSYS instead
// of waiting for a response that would never come.
func (s *server) serve() {
	var n seccomp.Notif
	var ev event
	var line []byte
	for {
		err := s.l.Receive(&n)
		if errors.Is(err, seccomp.ErrNoTargets) || errors.Is(err, seccomp.ErrClosed) {
			return
		}
		if err != nil {
			fmt.Fprintf(s.diag, "unotify: receiving notifications failed, so no more calls get a response: %v\n", err)
			s.l.Close()
			return
		}
		s.handled++

		s.dec.decode(&n, &ev)
		s.respond(&ev)

		// The target runs again once it has the response, so the line is
		// written after it.
		if s.reportErr != nil {
			continue
		}
		if s.json {
			line = appendJSON(line[:0], &ev)
		} else {
			line = appendText(line[:0], &ev)
		}
		if _, err := s.report.Write(line); err != nil {
			s.reportErr = err
			fmt.Fprintf(s.diag, "unotify: writing the report failed, so no more lines are written: %v\n", err)
		}
	}
}

// respond sends the response to the notification of ev and sets ev.action.
func (s *server) respond(ev *event) {
	if ev.validErr != nil && isGone(ev.validErr) {
		// No response is possible.
		ev.action = actionGone
		return
	}

	var err error
	errno, denied := s.deny[ev.nr]
	if denied {
		ev.action, ev.errno = actionErrno, errno
		err = s.l.RespondErrno(ev.id, errno)
	} else {
		ev.action = actionContinue
		err = s.l.Continue(ev.id)
	}

	switch {
	case err == nil:
	case isGone(err):
		// The target died, or a signal interrupted the call, which then
		// fails or comes back as a new notification.
		ev.action = actionGone
	default:
		ev.action = actionFailed
		fmt.Fprintf(s.diag, "unotify: responding to %s of thread %d failed: %v\n", ev.spec.name, ev.pid, err)
	}
}

// isGone reports whether err means that the notification can no longer get
// a response: the kernel dropped it (ENOENT), or unotify closed the listener
// after the command exited.
func isGone(err error) bool {
	return errors.Is(err, seccomp.ErrNotifGone) || errors.Is(err, seccomp.ErrClosed)
}
