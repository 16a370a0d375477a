package seccomp

import (
	"fmt"
	"math/bits"
	"sync"

	"golang.org/x/sys/unix"
)

// Feature probes ask the running kernel once and cache the answer for the
// life of the process. They install nothing and need no privileges.

// flagProbes caches one probe result per filter flag bit.
var flagProbes [32]struct {
	once sync.Once
	err  error
}

// HaveFilterFlag reports whether the running kernel accepts every flag in
// flags. It returns nil if it does, a [*FeatureError] matching
// [ErrNotSupported] naming the first missing flag and its minimum kernel
// version if not, and another error if the kernel could not be asked (for
// example because seccomp(2) itself is blocked).
//
// Each flag is probed by calling seccomp(SECCOMP_SET_MODE_FILTER) with that
// flag and a NULL program: the kernel checks the flags before it copies the
// program, so EFAULT means the flag is known and EINVAL that it is not. Flags
// that require NEW_LISTENER are probed together with it.
func HaveFilterFlag(flags FilterFlag) error {
	if unknown := flags &^ filterFlagsKnown; unknown != 0 {
		return &Error{Op: "probe filter flags", Err: fmt.Errorf("unknown filter flag bits %#x", uint32(unknown))}
	}

	for rest := uint32(flags); rest != 0; rest &= rest - 1 {
		bit := bits.TrailingZeros32(rest)
		probe := &flagProbes[bit]
		probe.once.Do(func() { probe.err = probeFilterFlag(FilterFlag(1) << bit) })
		if probe.err != nil {
			return probe.err
		}
	}
	return nil
}

func probeFilterFlag(flag FilterFlag) error {
	flags := flag
	if flag&(FilterFlagWaitKillableRecv|FilterFlagAllowNestedListeners) != 0 {
		flags |= FilterFlagNewListener
	}

	_, errno := seccomp(OpSetModeFilter, uintptr(flags), nil)
	switch errno {
	case unix.EFAULT:
		return nil
	case unix.EINVAL:
		info := findInfo(filterFlagInfo, uint32(flag))
		return &FeatureError{Feature: "flag " + info.name, MinVersion: info.since}
	default:
		return &Error{Op: "probe filter flag " + flag.String(), Errno: errno}
	}
}

// HaveNestedListeners reports whether the running kernel supports nested
// listeners, that is [FilterFlagAllowNestedListeners]. No released kernel
// does: the flag comes from a proposed patch series.
func HaveNestedListeners() error {
	return HaveFilterFlag(FilterFlagAllowNestedListeners)
}

// actionProbes caches HaveAction for each entry of actionInfo.
var actionProbes [8]struct {
	once sync.Once
	err  error
}

// HaveAction reports whether the running kernel supports the action,
// ignoring its data. It returns nil if it does and an error matching
// [ErrNotSupported] if not, a [*FeatureError] for the actions this package
// defines. It asks SECCOMP_GET_ACTION_AVAIL (Linux 4.14); on an older kernel,
// the actions of Linux 3.5 are taken as supported and the others are not.
// Answers for the defined actions are cached.
func HaveAction(action Action) error {
	base := action.Base()
	for i, info := range actionInfo {
		if Action(info.value) == base {
			probe := &actionProbes[i]
			probe.once.Do(func() { probe.err = probeAction(base, info) })
			return probe.err
		}
	}

	err := GetActionAvail(base)
	if errnoIs(err, unix.EOPNOTSUPP) {
		return &Error{Op: "probe action", Errno: unix.EOPNOTSUPP, Err: fmt.Errorf("action %v is unknown to the running kernel: %w", base, ErrNotSupported)}
	}
	return err
}

func probeAction(base Action, info featureInfo) error {
	err := GetActionAvail(base)
	switch {
	case err == nil:
		return nil
	case errnoIs(err, unix.EOPNOTSUPP):
		return &FeatureError{Feature: "action " + info.name, MinVersion: info.since}
	case errnoIs(err, unix.EINVAL):
		// SECCOMP_GET_ACTION_AVAIL itself is missing before Linux 4.14.
		if info.since == "3.5" {
			return nil
		}
		return &FeatureError{Feature: "action " + info.name, MinVersion: info.since}
	default:
		return err
	}
}

func errnoIs(err error, errno unix.Errno) bool {
	e, ok := err.(*Error)
	return ok && e.Errno == errno
}

func findInfo(infos []featureInfo, v uint32) featureInfo {
	for _, info := range infos {
		if info.value == v {
			return info
		}
	}
	return featureInfo{name: fmt.Sprintf("%#x", v)}
}
