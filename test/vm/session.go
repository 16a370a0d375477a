package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/seccompgo/seccomp/test/vm/internal/protocol"
)

// session is what one boot printed on the console, parsed: the init's status lines, each
// test binary's -test.v output and the feature claims.
type session struct {
	ready   bool
	release string
	goarch  string
	cpus    int

	binaries []*binaryRun
	current  *binaryRun // the binary between its start and exit lines

	done         bool
	doneBinaries int

	claims []featureClaim

	// errors are the init's error lines and malformed status or feature lines.
	errors   []string
	warnings []string
}

// binaryRun is one test binary's run in the guest.
type binaryRun struct {
	name    string
	log     *testLog
	exited  bool   // the init printed its exit line
	status  int    // exit status, or -1
	detail  string // the signal that ended it, or why it could not run
	elapsed time.Duration
}

// failed reports whether the binary did not exit with status 0.
func (b *binaryRun) failed() bool {
	return !b.exited || b.status != 0
}

// Line parses one console line, without its line ending, and returns the init's event if
// the line is a status line.
func (s *session) Line(line string) string {
	event, fields, ok, err := protocol.ParseLine(line)
	if err != nil {
		s.errors = append(s.errors, err.Error())
		return ""
	}
	if ok {
		s.status(event, fields)
		return event
	}

	claim, ok, err := parseFeatureLine(line)
	if err != nil {
		s.errors = append(s.errors, err.Error())
	}
	if ok && err == nil {
		s.claims = append(s.claims, claim)
	}

	if s.current != nil {
		s.current.log.Line(line)
	}
	return ""
}

func (s *session) status(event string, fields map[string]string) {
	switch event {
	case protocol.EventReady:
		s.ready = true
		s.release = fields["release"]
		s.goarch = fields["goarch"]
		s.cpus, _ = strconv.Atoi(fields["cpus"])

	case protocol.EventStart:
		s.current = &binaryRun{name: fields["binary"], log: newTestLog(), status: -1}
		s.binaries = append(s.binaries, s.current)

	case protocol.EventExit:
		b := s.current
		if b == nil || b.name != fields["binary"] {
			s.errors = append(s.errors, fmt.Sprintf("the init reported the exit of %s, which had not started", fields["binary"]))
			return
		}
		b.exited = true
		b.status, _ = strconv.Atoi(fields["status"])
		b.detail = fields["signal"] + fields["msg"]
		b.elapsed, _ = time.ParseDuration(fields["elapsed"])
		s.current = nil

	case protocol.EventDone:
		s.done = true
		s.doneBinaries, _ = strconv.Atoi(fields["binaries"])

	case protocol.EventWarning:
		s.warnings = append(s.warnings, fields["msg"])

	case protocol.EventError:
		s.errors = append(s.errors, "init: "+fields["msg"])

	default:
		s.errors = append(s.errors, fmt.Sprintf("the init printed an unknown event %q", event))
	}
}
