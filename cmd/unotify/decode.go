package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// Limits on what is read from the target's memory for one notification.
const (
	maxPathLen     = 4096 // bytes of a path, PATH_MAX
	maxArgvEntries = 32   // argv entries shown
	maxArgvLen     = 1024 // bytes shown of one argv entry
	maxSockaddrLen = 128  // bytes of a socket address, sizeof(struct sockaddr_storage)
	sizeofOpenHow  = 24   // bytes of struct open_how in Linux 5.6
)

// ptrSize is the size of a pointer in the target. The filter kills any
// system call made through another ABI, so the target's pointers are as
// wide as ours.
const ptrSize = strconv.IntSize / 8

// errNotVisible is the reason no memory can be read when the notification's
// pid is 0: the target is in a pid namespace that unotify cannot see into.
var errNotVisible = errors.New("target not visible in this pid namespace")

// targetMemory reads the address space of a target.
type targetMemory interface {
	// readAt reads len(p) bytes at address addr. When it returns fewer,
	// err is the reason the byte after the last one read could not be read.
	readAt(p []byte, addr uint64) (n int, err error)
	close() error
}

// procMemory is an open /proc/TID/mem file.
type procMemory int

// openProcMemory opens /proc/TID/mem for reading. A notification's pid is
// the id of the thread that made the call, and /proc/TID also exists for
// threads that are not the leader of their process.
func openProcMemory(tid uint32) (targetMemory, error) {
	var buf [32]byte
	path := append(buf[:0], "/proc/"...)
	path = strconv.AppendUint(path, uint64(tid), 10)
	path = append(path, "/mem"...)

	fd, err := unix.Open(string(path), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return procMemory(fd), nil
}

func (m procMemory) readAt(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		off := addr + uint64(n)
		if off > math.MaxInt64 || off < addr {
			// pread cannot express the offset, and no user address is there.
			return n, unix.EFAULT
		}
		k, err := unix.Pread(int(m), p[n:], int64(off))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return n, err // EIO for an unmapped address
		case k == 0:
			// The address space is gone: the target exited or called execve.
			return n, unix.ESRCH
		}
		n += k
	}
	return n, nil
}

func (m procMemory) close() error { return unix.Close(int(m)) }

// memState records whether an argument was read from the target's memory
// and whether what was read can be shown.
type memState uint8

const (
	memNone   memState = iota // not read: not a pointer to data, or NULL
	memRead                   // read, and the notification was still pending afterwards
	memFailed                 // the read failed, and the notification was still pending afterwards
	memGone                   // read, but the notification was gone afterwards, so the result was dropped
)

// span is a range of event.scratch.
type span struct{ start, end int }

// argValue is one decoded argument.
type argValue struct {
	spec  *argSpec
	raw   uint64   // the register value from the notification
	state memState // for the kinds that read memory
	err   error    // why the read failed, for memFailed
	data  span     // the bytes read: a string, a socket address
	// truncated is set when a string was longer than its limit or argv had
	// more entries than are shown.
	truncated bool
	how       unix.OpenHow // for kindOpenHow
}

// argvEntry is one string of an argv argument.
type argvEntry struct {
	data      span
	truncated bool
}

// action is unotify's response to a notification.
type action uint8

const (
	actionContinue action = iota // the call ran (CONTINUE)
	actionErrno                  // the call failed with errno, as -deny requested
	actionGone                   // the notification ended before the response
	actionFailed                 // sending the response failed for another reason
)

// event is one notification with its decoded arguments and the response. The
// serve loop reuses one event, so decoding allocates little.
type event struct {
	id    uint64
	pid   uint32 // thread id of the caller
	nr    uint32
	spec  *syscallSpec
	nargs int
	args  [6]argValue

	argv    [maxArgvEntries]argvEntry
	argvLen int

	// scratch holds the bytes read from the target's memory.
	scratch []byte

	// validErr is the error from ID_VALID after the memory was read, nil
	// when the notification was still pending or nothing was read.
	validErr error

	action action
	errno  unix.Errno // for actionErrno
}

// decoder decodes notifications.
type decoder struct {
	// openMemory opens the memory of thread tid.
	openMemory func(tid uint32) (targetMemory, error)
	// idValid returns nil while notification id is pending; in unotify it
	// is Listener.IDValid.
	idValid  func(id uint64) error
	specs    specCache
	pageSize uint64
}

func newDecoder(idValid func(uint64) error) *decoder {
	return &decoder{
		openMemory: openProcMemory,
		idValid:    idValid,
		specs:      make(specCache),
		pageSize:   uint64(unix.Getpagesize()),
	}
}

// decode fills ev from n, reading the arguments that point to memory.
//
// Whatever is read from the target's memory is kept only if the
// notification is still pending after the read (ID_VALID). Otherwise the
// thread may have died, its id may belong to another thread by now, or the
// call may have been abandoned. The bytes read then need not be the call's
// arguments, so they are dropped and the arguments are marked memGone.
func (d *decoder) decode(n *seccomp.Notif, ev *event) {
	spec := d.specs.lookup(uint32(n.Data.Nr))
	*ev = event{
		id:      n.ID,
		pid:     n.Pid,
		nr:      uint32(n.Data.Nr),
		spec:    spec,
		nargs:   len(spec.args),
		scratch: ev.scratch[:0],
	}
	for i := range spec.args {
		ev.args[i] = argValue{spec: &spec.args[i], raw: n.Data.Args[i]}
	}
	if !spec.readsMemory {
		return
	}

	var mem targetMemory
	var openErr error
	opened := false
	for i := range ev.nargs {
		a := &ev.args[i]
		if !a.spec.kind.readsMemory() || a.raw == 0 {
			continue
		}
		if !opened {
			opened = true
			if n.Pid == 0 {
				openErr = errNotVisible
			} else {
				mem, openErr = d.openMemory(n.Pid)
			}
		}
		if openErr != nil {
			a.state, a.err = memFailed, openErr
			continue
		}
		d.readArg(mem, ev, i)
	}
	if !opened {
		return
	}
	if mem != nil {
		mem.close()
	}

	if err := d.idValid(n.ID); err != nil {
		ev.validErr = err
		dropMemory(ev)
	}
}

// dropMemory discards everything read from the target's memory.
func dropMemory(ev *event) {
	ev.scratch = ev.scratch[:0]
	ev.argvLen = 0
	for i := range ev.nargs {
		a := &ev.args[i]
		if a.state != memNone {
			*a = argValue{spec: a.spec, raw: a.raw, state: memGone}
		}
	}
}

// readArg reads argument i, a pointer that is not NULL, and sets its state
// to memRead or memFailed.
func (d *decoder) readArg(mem targetMemory, ev *event, i int) {
	a := &ev.args[i]
	var err error
	switch a.spec.kind {
	case kindPath:
		a.data, a.truncated, err = d.readString(mem, ev, a.raw, maxPathLen)
	case kindSockaddr:
		a.data, a.truncated, err = readSockaddr(mem, ev, a.raw, ev.args[i+1].raw)
	case kindArgv:
		a.truncated, err = d.readArgv(mem, ev, a.raw)
	case kindOpenHow:
		a.how, err = readOpenHow(mem, a.raw, ev.args[i+1].raw)
	}
	if err != nil {
		a.state, a.err = memFailed, err
		a.data, a.truncated = span{}, false
		return
	}
	a.state = memRead
}

// readString appends the NUL-terminated string at addr to ev.scratch,
// without its NUL and at most limit bytes. It reads up to the end of a page
// at a time, so a short string next to an unmapped page is still read. It
// reports truncated when no NUL was found within limit bytes, and an error
// when the memory ended before a NUL.
func (d *decoder) readString(mem targetMemory, ev *event, addr uint64, limit int) (s span, truncated bool, err error) {
	start := len(ev.scratch)
	for len(ev.scratch)-start < limit {
		chunk := min(d.pageSize-addr%d.pageSize, uint64(limit-(len(ev.scratch)-start)))
		from := len(ev.scratch)
		ev.scratch = growBy(ev.scratch, int(chunk))
		buf := ev.scratch[from:]

		n, err := mem.readAt(buf, addr)
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			ev.scratch = ev.scratch[:from+i]
			return span{start, len(ev.scratch)}, false, nil
		}
		if err != nil {
			ev.scratch = ev.scratch[:start]
			return span{}, false, err
		}
		addr += uint64(n)
	}
	return span{start, len(ev.scratch)}, true, nil
}

// growBy extends b by n bytes, reallocating if needed.
func growBy(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		b = append(b[:cap(b)], make([]byte, n)...)[:len(b)]
	}
	return b[:len(b)+n]
}

// readSockaddr appends the socket address of length size at addr to
// ev.scratch. The kernel rejects an address longer than maxSockaddrLen, and
// only that much is read.
func readSockaddr(mem targetMemory, ev *event, addr, size uint64) (s span, truncated bool, err error) {
	size = uint64(uint32(size)) // socklen_t
	if size > maxSockaddrLen {
		size, truncated = maxSockaddrLen, true
	}
	start := len(ev.scratch)
	ev.scratch = growBy(ev.scratch, int(size))
	n, err := mem.readAt(ev.scratch[start:], addr)
	if n < int(size) {
		ev.scratch = ev.scratch[:start]
		return span{}, false, err
	}
	return span{start, len(ev.scratch)}, truncated, nil
}

// readOpenHow reads struct open_how of the given size at addr. Fields past
// size are zero, as the kernel takes them; bytes past the fields this
// version defines are not read.
func readOpenHow(mem targetMemory, addr, size uint64) (unix.OpenHow, error) {
	var buf [sizeofOpenHow]byte
	size = min(size, sizeofOpenHow)
	if n, err := mem.readAt(buf[:size], addr); n < int(size) {
		return unix.OpenHow{}, err
	}
	return unix.OpenHow{
		Flags:   binary.NativeEndian.Uint64(buf[0:]),
		Mode:    binary.NativeEndian.Uint64(buf[8:]),
		Resolve: binary.NativeEndian.Uint64(buf[16:]),
	}, nil
}

// readArgv reads the NULL-terminated array of string pointers at addr into
// ev.argv, at most maxArgvEntries of them, and reports truncated when there
// are more.
func (d *decoder) readArgv(mem targetMemory, ev *event, addr uint64) (truncated bool, err error) {
	var buf [(maxArgvEntries + 1) * ptrSize]byte
	n, readErr := mem.readAt(buf[:], addr)

	for i := 0; i+ptrSize <= n; i += ptrSize {
		p := readPointer(buf[i:])
		if p == 0 {
			return false, nil
		}
		if ev.argvLen == maxArgvEntries {
			return true, nil
		}
		s, trunc, err := d.readString(mem, ev, p, maxArgvLen)
		if err != nil {
			ev.argvLen = 0
			return false, err
		}
		ev.argv[ev.argvLen] = argvEntry{data: s, truncated: trunc}
		ev.argvLen++
	}

	// The array ended in unreadable memory before its NULL.
	ev.argvLen = 0
	return false, readErr
}

func readPointer(b []byte) uint64 {
	if ptrSize == 4 {
		return uint64(binary.NativeEndian.Uint32(b))
	}
	return binary.NativeEndian.Uint64(b)
}
