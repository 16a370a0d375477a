package seccomp

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The values on the right-hand side of every constant below come from the
// generated ztypes_linux.go, which takes them from the kernel's uapi headers.

// Operation is the first argument of seccomp(2).
type Operation uint32

const (
	// OpSetModeStrict is SECCOMP_SET_MODE_STRICT (Linux 3.17).
	OpSetModeStrict Operation = _SECCOMP_SET_MODE_STRICT
	// OpSetModeFilter is SECCOMP_SET_MODE_FILTER (Linux 3.17).
	OpSetModeFilter Operation = _SECCOMP_SET_MODE_FILTER
	// OpGetActionAvail is SECCOMP_GET_ACTION_AVAIL (Linux 4.14).
	OpGetActionAvail Operation = _SECCOMP_GET_ACTION_AVAIL
	// OpGetNotifSizes is SECCOMP_GET_NOTIF_SIZES (Linux 5.0).
	OpGetNotifSizes Operation = _SECCOMP_GET_NOTIF_SIZES
)

var operationNames = []name{
	{uint32(OpSetModeStrict), "SET_MODE_STRICT"},
	{uint32(OpSetModeFilter), "SET_MODE_FILTER"},
	{uint32(OpGetActionAvail), "GET_ACTION_AVAIL"},
	{uint32(OpGetNotifSizes), "GET_NOTIF_SIZES"},
}

// String returns the operation's name without the SECCOMP_ prefix, or its
// number in hex when it is unknown.
func (op Operation) String() string { return formatEnum(uint32(op), operationNames) }

// Mode is a thread's seccomp mode, as reported by prctl(PR_GET_SECCOMP).
type Mode uint32

const (
	// ModeDisabled is SECCOMP_MODE_DISABLED: no seccomp filtering.
	ModeDisabled Mode = _SECCOMP_MODE_DISABLED
	// ModeStrict is SECCOMP_MODE_STRICT (Linux 2.6.12): only read, write,
	// _exit and sigreturn are allowed.
	ModeStrict Mode = _SECCOMP_MODE_STRICT
	// ModeFilter is SECCOMP_MODE_FILTER (Linux 3.5): BPF filters decide.
	ModeFilter Mode = _SECCOMP_MODE_FILTER
)

var modeNames = []name{
	{uint32(ModeDisabled), "DISABLED"},
	{uint32(ModeStrict), "STRICT"},
	{uint32(ModeFilter), "FILTER"},
}

// String returns the mode's name without the SECCOMP_MODE_ prefix.
func (m Mode) String() string { return formatEnum(uint32(m), modeNames) }

// FilterFlag is a set of SECCOMP_FILTER_FLAG_* bits passed to
// seccomp(SECCOMP_SET_MODE_FILTER).
type FilterFlag uint32

const (
	// FilterFlagTSync is SECCOMP_FILTER_FLAG_TSYNC (Linux 3.17): install the
	// filter on every thread of the process, or fail naming a thread that
	// cannot be synchronised.
	FilterFlagTSync FilterFlag = _SECCOMP_FILTER_FLAG_TSYNC
	// FilterFlagLog is SECCOMP_FILTER_FLAG_LOG (Linux 4.14): log every action
	// except ALLOW.
	FilterFlagLog FilterFlag = _SECCOMP_FILTER_FLAG_LOG
	// FilterFlagSpecAllow is SECCOMP_FILTER_FLAG_SPEC_ALLOW (Linux 4.17): do
	// not enable the speculative store bypass mitigation.
	FilterFlagSpecAllow FilterFlag = _SECCOMP_FILTER_FLAG_SPEC_ALLOW
	// FilterFlagNewListener is SECCOMP_FILTER_FLAG_NEW_LISTENER (Linux 5.0):
	// return a listener fd that receives the filter's USER_NOTIF
	// notifications.
	FilterFlagNewListener FilterFlag = _SECCOMP_FILTER_FLAG_NEW_LISTENER
	// FilterFlagTSyncESRCH is SECCOMP_FILTER_FLAG_TSYNC_ESRCH (Linux 5.7):
	// report a TSYNC failure as ESRCH instead of a thread id, which lets TSYNC
	// be combined with NEW_LISTENER.
	FilterFlagTSyncESRCH FilterFlag = _SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	// FilterFlagWaitKillableRecv is SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	// (Linux 5.19): once the listener has received a notification, the target
	// waits for the response ignoring non-fatal signals, so a Go target's
	// preemption signals do not restart the system call. Requires
	// NEW_LISTENER.
	FilterFlagWaitKillableRecv FilterFlag = _SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	// FilterFlagAllowNestedListeners is
	// SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS: filters installed later
	// below this one may have listeners of their own. Requires NEW_LISTENER.
	//
	// It is proposed, not in a released kernel: it comes from the patch series
	// "seccomp: support nested listeners" (v3, December 2025), which no
	// released kernel contains up to Linux 7.2. Its name, value and semantics
	// may change before it is merged. Probe with [HaveNestedListeners].
	FilterFlagAllowNestedListeners FilterFlag = _SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS
)

// filterFlagInfo lists every known filter flag with the first kernel release
// that accepts it; an empty version marks a flag in no released kernel.
var filterFlagInfo = []featureInfo{
	{uint32(FilterFlagTSync), "TSYNC", "3.17"},
	{uint32(FilterFlagLog), "LOG", "4.14"},
	{uint32(FilterFlagSpecAllow), "SPEC_ALLOW", "4.17"},
	{uint32(FilterFlagNewListener), "NEW_LISTENER", "5.0"},
	{uint32(FilterFlagTSyncESRCH), "TSYNC_ESRCH", "5.7"},
	{uint32(FilterFlagWaitKillableRecv), "WAIT_KILLABLE_RECV", "5.19"},
	{uint32(FilterFlagAllowNestedListeners), "ALLOW_NESTED_LISTENERS", ""},
}

var filterFlagNames = infoNames(filterFlagInfo)

// filterFlagsKnown is the union of every flag this package defines.
const filterFlagsKnown = FilterFlagTSync | FilterFlagLog | FilterFlagSpecAllow |
	FilterFlagNewListener | FilterFlagTSyncESRCH | FilterFlagWaitKillableRecv |
	FilterFlagAllowNestedListeners

// String returns the flags as the kernel spells them, without the
// SECCOMP_FILTER_FLAG_ prefix and joined by "|", for example
// "TSYNC|NEW_LISTENER". Unknown bits are printed in hex and an empty set as "0".
func (f FilterFlag) String() string { return formatBits(uint32(f), filterFlagNames) }

// ParseFilterFlags parses the format of [FilterFlag.String]. Each name may
// carry the SECCOMP_FILTER_FLAG_ prefix, and numbers are accepted in any base
// that [strconv.ParseUint] accepts with base 0.
func ParseFilterFlags(s string) (FilterFlag, error) {
	v, err := parseBits(s, "SECCOMP_FILTER_FLAG_", filterFlagNames)
	if err != nil {
		return 0, fmt.Errorf("seccomp: parse filter flags %q: %w", s, err)
	}
	return FilterFlag(v), nil
}

// Action is a filter's return value: one of the SECCOMP_RET_* actions in the
// upper 16 bits and action data in the lower 16. When several filters apply,
// the kernel acts on the one with the highest precedence, in the order the
// constants are listed below.
type Action uint32

const (
	// ActionKillProcess is SECCOMP_RET_KILL_PROCESS (Linux 4.14): kill the
	// whole process.
	ActionKillProcess Action = _SECCOMP_RET_KILL_PROCESS
	// ActionKillThread is SECCOMP_RET_KILL_THREAD (Linux 3.5, named
	// SECCOMP_RET_KILL before 4.14): kill the calling thread.
	ActionKillThread Action = _SECCOMP_RET_KILL_THREAD
	// ActionTrap is SECCOMP_RET_TRAP (Linux 3.5): send SIGSYS, with the action
	// data in si_errno.
	ActionTrap Action = _SECCOMP_RET_TRAP
	// ActionErrno is SECCOMP_RET_ERRNO (Linux 3.5): fail the system call with
	// the errno in the action data, capped at 4095. See [ErrnoAction].
	ActionErrno Action = _SECCOMP_RET_ERRNO
	// ActionUserNotif is SECCOMP_RET_USER_NOTIF (Linux 5.0): ask the filter's
	// listener. Without a listener the system call fails with ENOSYS.
	ActionUserNotif Action = _SECCOMP_RET_USER_NOTIF
	// ActionTrace is SECCOMP_RET_TRACE (Linux 3.5): notify a ptrace tracer,
	// which can read the action data. Without a tracer the call fails with ENOSYS.
	ActionTrace Action = _SECCOMP_RET_TRACE
	// ActionLog is SECCOMP_RET_LOG (Linux 4.14): allow the system call and log
	// it.
	ActionLog Action = _SECCOMP_RET_LOG
	// ActionAllow is SECCOMP_RET_ALLOW (Linux 3.5): allow the system call.
	ActionAllow Action = _SECCOMP_RET_ALLOW
)

const (
	// ActionMaskFull is SECCOMP_RET_ACTION_FULL (Linux 4.14): the bits of a
	// return value that select the action.
	ActionMaskFull Action = _SECCOMP_RET_ACTION_FULL
	// ActionMask is SECCOMP_RET_ACTION (Linux 3.5): the action bits without
	// the sign bit that KILL_PROCESS uses.
	ActionMask Action = _SECCOMP_RET_ACTION
	// ActionDataMask is SECCOMP_RET_DATA (Linux 3.5): the bits of a return
	// value that carry the action data.
	ActionDataMask Action = _SECCOMP_RET_DATA
)

// maxErrno is the largest errno the kernel returns for SECCOMP_RET_ERRNO
// (MAX_ERRNO in include/linux/err.h); larger data is capped to it.
const maxErrno = 4095

// actionInfo lists every known action with the first kernel release that
// accepts it.
var actionInfo = []featureInfo{
	{uint32(ActionKillProcess), "KILL_PROCESS", "4.14"},
	{uint32(ActionKillThread), "KILL_THREAD", "3.5"},
	{uint32(ActionTrap), "TRAP", "3.5"},
	{uint32(ActionErrno), "ERRNO", "3.5"},
	{uint32(ActionUserNotif), "USER_NOTIF", "5.0"},
	{uint32(ActionTrace), "TRACE", "3.5"},
	{uint32(ActionLog), "LOG", "4.14"},
	{uint32(ActionAllow), "ALLOW", "3.5"},
}

var actionNames = infoNames(actionInfo)

// ErrnoAction returns the action that fails a system call with errno. Like
// the kernel, it caps errno at 4095.
func ErrnoAction(errno unix.Errno) Action {
	if errno > maxErrno {
		errno = maxErrno
	}
	return ActionErrno | Action(errno)
}

// TrapAction returns the action that sends SIGSYS with data in si_errno.
func TrapAction(data uint16) Action { return ActionTrap | Action(data) }

// TraceAction returns the action that stops the thread for its ptrace tracer,
// which reads data with PTRACE_GETEVENTMSG.
func TraceAction(data uint16) Action { return ActionTrace | Action(data) }

// Base returns the action without its data.
func (a Action) Base() Action { return a & ActionMaskFull }

// Data returns the action's 16 bits of data.
func (a Action) Data() uint16 { return uint16(a & ActionDataMask) }

// WithData returns the action with its data replaced by data.
func (a Action) WithData(data uint16) Action { return a.Base() | Action(data) }

// Errno returns the errno an ERRNO action makes the system call fail with,
// capped at 4095 as the kernel does, and false for any other action.
func (a Action) Errno() (unix.Errno, bool) {
	if a.Base() != ActionErrno {
		return 0, false
	}
	return unix.Errno(min(a.Data(), maxErrno)), true
}

// String returns the action as the kernel spells it, without the
// SECCOMP_RET_ prefix: "ALLOW", "USER_NOTIF". TRAP, ERRNO and TRACE always
// show their data in decimal, as in "ERRNO(1)"; other actions show it only
// when it is not zero. An unknown action is printed in hex.
func (a Action) String() string {
	base := a.Base()
	name, ok := lookupName(uint32(base), actionNames)
	if !ok {
		return "0x" + strconv.FormatUint(uint64(a), 16)
	}

	switch {
	case base == ActionTrap || base == ActionErrno || base == ActionTrace || a.Data() != 0:
		return name + "(" + strconv.FormatUint(uint64(a.Data()), 10) + ")"
	default:
		return name
	}
}

// ParseAction parses the format of [Action.String]. The name may carry the
// SECCOMP_RET_ prefix, the data may be any number [strconv.ParseUint] accepts
// with base 0, ERRNO also takes an errno name such as "ERRNO(EPERM)", and
// "KILL" is accepted for KILL_THREAD.
func ParseAction(s string) (Action, error) {
	a, err := parseAction(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("seccomp: parse action %q: %w", s, err)
	}
	return a, nil
}

func parseAction(s string) (Action, error) {
	if n, err := strconv.ParseUint(s, 0, 32); err == nil {
		return Action(n), nil
	}

	nameText, dataText, hasData := strings.Cut(s, "(")
	if hasData {
		var ok bool
		dataText, ok = strings.CutSuffix(dataText, ")")
		if !ok {
			return 0, fmt.Errorf("missing closing parenthesis")
		}
	}
	nameText = strings.TrimPrefix(strings.TrimSpace(nameText), "SECCOMP_RET_")
	if nameText == "KILL" {
		nameText = "KILL_THREAD"
	}
	base, ok := lookupValue(nameText, actionNames)
	if !ok {
		return 0, fmt.Errorf("unknown action %q", nameText)
	}
	if !hasData {
		return Action(base), nil
	}

	dataText = strings.TrimSpace(dataText)
	if Action(base) == ActionErrno {
		if errno := errnoByName(dataText); errno != 0 {
			return ErrnoAction(errno), nil
		}
	}
	data, err := strconv.ParseUint(dataText, 0, 16)
	if err != nil {
		return 0, fmt.Errorf("invalid action data %q: want a number from 0 to 65535", dataText)
	}
	return Action(base) | Action(data), nil
}

// errnoByName returns the errno called name, such as "EPERM", or 0.
func errnoByName(name string) unix.Errno {
	if !strings.HasPrefix(name, "E") {
		return 0
	}
	for errno := unix.Errno(1); errno <= maxErrno; errno++ {
		if unix.ErrnoName(errno) == name {
			return errno
		}
	}
	return 0
}

// NotifRespFlag is a set of SECCOMP_USER_NOTIF_FLAG_* bits in
// [NotifResp.Flags].
type NotifRespFlag uint32

// NotifRespFlagContinue is SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux 5.5): let
// the system call run as if the filter had allowed it. Error and Val must be
// zero. The target may change its arguments after the supervisor looked at
// them, so never use CONTINUE to enforce a security decision.
const NotifRespFlagContinue NotifRespFlag = _SECCOMP_USER_NOTIF_FLAG_CONTINUE

var notifRespFlagNames = []name{{uint32(NotifRespFlagContinue), "CONTINUE"}}

// String returns the flags without the SECCOMP_USER_NOTIF_FLAG_ prefix,
// joined by "|".
func (f NotifRespFlag) String() string { return formatBits(uint32(f), notifRespFlagNames) }

// AddFDFlag is a set of SECCOMP_ADDFD_FLAG_* bits in [NotifAddFD.Flags].
type AddFDFlag uint32

const (
	// AddFDFlagSetFD is SECCOMP_ADDFD_FLAG_SETFD (Linux 5.9): install the fd
	// at number NewFD in the target, replacing any fd already there.
	AddFDFlagSetFD AddFDFlag = _SECCOMP_ADDFD_FLAG_SETFD
	// AddFDFlagSend is SECCOMP_ADDFD_FLAG_SEND (Linux 5.14): install the fd
	// and respond to the notification in one step, so the target's system call
	// returns the new fd number.
	AddFDFlagSend AddFDFlag = _SECCOMP_ADDFD_FLAG_SEND
)

var addFDFlagNames = []name{
	{uint32(AddFDFlagSetFD), "SETFD"},
	{uint32(AddFDFlagSend), "SEND"},
}

// String returns the flags without the SECCOMP_ADDFD_FLAG_ prefix, joined by
// "|".
func (f AddFDFlag) String() string { return formatBits(uint32(f), addFDFlagNames) }

// NotifFDFlag is a set of SECCOMP_USER_NOTIF_FD_* bits set on a listener with
// [Listener.SetFlags] or [IoctlNotifSetFlags].
type NotifFDFlag uint32

// NotifFDFlagSyncWakeUp is SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6): a
// scheduling hint that the supervisor handles notifications synchronously, so
// the kernel wakes the target and the supervisor on the same CPU.
const NotifFDFlagSyncWakeUp NotifFDFlag = _SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP

var notifFDFlagNames = []name{{uint32(NotifFDFlagSyncWakeUp), "SYNC_WAKE_UP"}}

// String returns the flags without the SECCOMP_USER_NOTIF_FD_ prefix, joined
// by "|".
func (f NotifFDFlag) String() string { return formatBits(uint32(f), notifFDFlagNames) }

// name pairs a constant with its C name without the common prefix.
type name struct {
	value uint32
	name  string
}

// featureInfo is a name with the first kernel release that accepts it.
type featureInfo struct {
	value uint32
	name  string
	since string // "" for a proposed feature in no released kernel
}

func infoNames(info []featureInfo) []name {
	names := make([]name, len(info))
	for i, f := range info {
		names[i] = name{f.value, f.name}
	}
	return names
}

func lookupName(v uint32, names []name) (string, bool) {
	for _, n := range names {
		if n.value == v {
			return n.name, true
		}
	}
	return "", false
}

func lookupValue(s string, names []name) (uint32, bool) {
	for _, n := range names {
		if n.name == s {
			return n.value, true
		}
	}
	return 0, false
}

func formatEnum(v uint32, names []name) string {
	if s, ok := lookupName(v, names); ok {
		return s
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

func formatBits(v uint32, names []name) string {
	if v == 0 {
		return "0"
	}

	var b strings.Builder
	for _, n := range names {
		if v&n.value == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(n.name)
		v &^= n.value
	}

	if v != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(uint64(v), 16))
	}
	return b.String()
}

func parseBits(s, prefix string, names []name) (uint32, error) {
	var v uint32
	for _, field := range strings.Split(s, "|") {
		field = strings.TrimSpace(field)
		if field == "" {
			return 0, fmt.Errorf("empty flag name")
		}
		if n, err := strconv.ParseUint(field, 0, 32); err == nil {
			v |= uint32(n)
			continue
		}
		bit, ok := lookupValue(strings.TrimPrefix(field, prefix), names)
		if !ok {
			return 0, fmt.Errorf("unknown flag %q", field)
		}
		v |= bit
	}
	return v, nil
}
