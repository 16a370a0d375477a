package main

import (
	"encoding/hex"
	"strconv"
	"syscall"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The formatters append to a caller's buffer, so the serve loop reuses one
// buffer for every line.

// appendText appends ev as one line of the text report:
//
//	PID NAME(ARG, ARG, ...) -> RESPONSE
func appendText(b []byte, ev *event) []byte {
	b = strconv.AppendUint(b, uint64(ev.pid), 10)
	b = append(b, ' ')
	b = append(b, ev.spec.name...)
	b = append(b, '(')
	for i := range ev.nargs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendArgText(b, ev, &ev.args[i])
	}
	b = append(b, ") -> "...)

	switch ev.action {
	case actionContinue:
		b = append(b, "continue"...)
	case actionErrno:
		b = append(b, "errno "...)
		b = appendErrno(b, ev.errno)
	case actionGone:
		b = append(b, "gone"...)
	default:
		b = append(b, "failed"...)
	}
	return append(b, '\n')
}

func appendArgText(b []byte, ev *event, a *argValue) []byte {
	switch a.state {
	case memGone:
		b = append(b, "<gone "...)
		b = appendHex(b, a.raw)
		return append(b, '>')
	case memFailed:
		b = append(b, "<unreadable "...)
		b = appendHex(b, a.raw)
		b = append(b, ": "...)
		b = appendError(b, a.err)
		return append(b, '>')
	case memRead:
		return appendMemoryText(b, ev, a)
	}

	if a.spec.kind.readsMemory() {
		return append(b, "NULL"...) // memNone: the pointer is 0
	}
	return appendValue(b, a.spec, a.raw)
}

// appendMemoryText appends an argument read from the target's memory.
func appendMemoryText(b []byte, ev *event, a *argValue) []byte {
	data := ev.bytes(a.data)
	switch a.spec.kind {
	case kindPath:
		b = appendQuoted(b, data)
		if a.truncated {
			b = append(b, "..."...)
		}
	case kindSockaddr:
		b = appendSockaddrText(b, data)
		if a.truncated {
			b = append(b, "..."...)
		}
	case kindArgv:
		b = append(b, '[')
		for i, entry := range ev.argv[:ev.argvLen] {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendQuoted(b, ev.bytes(entry.data))
			if entry.truncated {
				b = append(b, "..."...)
			}
		}
		if a.truncated {
			b = append(b, ", ..."...)
		}
		b = append(b, ']')
	case kindOpenHow:
		b = appendOpenHow(b, &a.how)
	}
	return b
}

func appendOpenHow(b []byte, how *unix.OpenHow) []byte {
	b = append(b, "{flags="...)
	b = appendOpenFlags(b, how.Flags)
	b = append(b, ", mode="...)
	b = appendMode(b, how.Mode)
	b = append(b, ", resolve="...)
	b = appendFlags(b, how.Resolve, resolveFlagNames, false)
	return append(b, '}')
}

// appendValue appends an argument that is not read from memory. The result
// is ASCII letters, digits and the characters _ | - = only, so it needs no escaping
// in JSON.
func appendValue(b []byte, spec *argSpec, raw uint64) []byte {
	switch spec.kind {
	case kindPtr:
		if raw == 0 {
			return append(b, "NULL"...)
		}
		return appendHex(b, raw)
	case kindInt:
		return strconv.AppendInt(b, int64(int32(raw)), 10)
	case kindLong:
		return strconv.AppendInt(b, long(raw), 10)
	case kindFD:
		if int32(raw) == unix.AT_FDCWD {
			return append(b, "AT_FDCWD"...)
		}
		return strconv.AppendInt(b, int64(int32(raw)), 10)
	case kindMode:
		return appendMode(b, raw)
	case kindOpenFlags:
		return appendOpenFlags(b, raw)
	case kindFlags:
		return appendFlags(b, raw, spec.flags, false)
	case kindSignal:
		if name := unix.SignalName(syscall.Signal(int32(raw))); name != "" {
			return append(b, name...)
		}
		return strconv.AppendInt(b, int64(int32(raw)), 10)
	case kindDomain:
		return appendFamily(b, int(int32(raw)))
	case kindSocketType:
		return appendSocketType(b, raw)
	}
	return appendHex(b, raw)
}

// long converts a register to a C long of the target's ABI.
func long(raw uint64) int64 {
	if strconv.IntSize == 32 {
		return int64(int32(raw))
	}
	return int64(raw)
}

func appendHex(b []byte, v uint64) []byte {
	b = append(b, "0x"...)
	return strconv.AppendUint(b, v, 16)
}

// appendMode appends a file mode in octal with a leading 0, as C writes it.
func appendMode(b []byte, v uint64) []byte {
	b = append(b, '0')
	if v == 0 {
		return b
	}
	return strconv.AppendUint(b, v, 8)
}

// appendFlags appends the names of the bits set in v, joined by '|', and
// any bits without a name in hex. It appends "0" when v is 0. With sep, it
// appends a '|' first, after names already written.
func appendFlags(b []byte, v uint64, names []flagName, sep bool) []byte {
	wrote := sep
	for _, f := range names {
		if f.value == 0 || v&f.value != f.value {
			continue
		}
		if wrote {
			b = append(b, '|')
		}
		b = append(b, f.name...)
		wrote = true
		v &^= f.value
	}

	switch {
	case v != 0 && wrote:
		b = append(b, '|')
		b = appendHex(b, v)
	case v != 0:
		b = appendHex(b, v)
	case !wrote:
		b = append(b, '0')
	}
	return b
}

// appendOpenFlags appends open(2) flags: the access mode, then the other
// flags.
func appendOpenFlags(b []byte, v uint64) []byte {
	switch v & unix.O_ACCMODE {
	case unix.O_RDONLY:
		b = append(b, "O_RDONLY"...)
	case unix.O_WRONLY:
		b = append(b, "O_WRONLY"...)
	case unix.O_RDWR:
		b = append(b, "O_RDWR"...)
	default:
		b = append(b, "O_ACCMODE"...)
	}
	v &^= unix.O_ACCMODE
	if v == 0 {
		return b
	}
	return appendFlags(b, v, openFlagNames, true)
}

// sockTypeMask is SOCK_TYPE_MASK: the bits of socket(2)'s type argument
// that select the type; the others are flags.
const sockTypeMask = 0xf

func appendSocketType(b []byte, v uint64) []byte {
	switch v & sockTypeMask {
	case unix.SOCK_STREAM:
		b = append(b, "SOCK_STREAM"...)
	case unix.SOCK_DGRAM:
		b = append(b, "SOCK_DGRAM"...)
	case unix.SOCK_RAW:
		b = append(b, "SOCK_RAW"...)
	case unix.SOCK_RDM:
		b = append(b, "SOCK_RDM"...)
	case unix.SOCK_SEQPACKET:
		b = append(b, "SOCK_SEQPACKET"...)
	case unix.SOCK_PACKET:
		b = append(b, "SOCK_PACKET"...)
	default:
		b = appendHex(b, v&sockTypeMask)
	}
	v &^= sockTypeMask
	if v == 0 {
		return b
	}
	return appendFlags(b, v, socketTypeFlagNames, true)
}

// appendErrno appends the errno's name, such as EACCES, or its number when
// it has none.
func appendErrno(b []byte, errno unix.Errno) []byte {
	if name := unix.ErrnoName(errno); name != "" {
		return append(b, name...)
	}
	return strconv.AppendUint(b, uint64(errno), 10)
}

func appendError(b []byte, err error) []byte {
	if errno, ok := err.(unix.Errno); ok {
		return appendErrno(b, errno)
	}
	return append(b, err.Error()...)
}

// appendQuoted appends s as a Go string literal, with \x escapes for bytes
// that are not valid UTF-8.
func appendQuoted(b []byte, s []byte) []byte {
	// AppendQuote does not keep its argument, so the string may share s.
	return strconv.AppendQuote(b, unsafe.String(unsafe.SliceData(s), len(s)))
}

// bytes returns the bytes of s in ev.scratch.
func (ev *event) bytes(s span) []byte {
	return ev.scratch[s.start:s.end]
}

// appendJSON appends ev as one JSON object and a newline. The fields are
// described in the package documentation.
func appendJSON(b []byte, ev *event) []byte {
	b = append(b, `{"id":"`...)
	b = appendHex(b, ev.id)
	b = append(b, `","pid":`...)
	b = strconv.AppendUint(b, uint64(ev.pid), 10)
	b = append(b, `,"syscall":`...)
	b = appendJSONString(b, ev.spec.name)
	b = append(b, `,"args":[`...)
	for i := range ev.nargs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendArgJSON(b, ev, &ev.args[i])
	}
	b = append(b, `],"action":`...)

	switch ev.action {
	case actionContinue:
		b = append(b, `"continue"`...)
	case actionErrno:
		b = append(b, `"errno","errno":"`...)
		b = appendErrno(b, ev.errno)
		b = append(b, '"')
	case actionGone:
		b = append(b, `"gone"`...)
	default:
		b = append(b, `"failed"`...)
	}
	return append(b, "}\n"...)
}

func appendArgJSON(b []byte, ev *event, a *argValue) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, a.spec.name)
	b = append(b, `,"raw":"`...)
	b = appendHex(b, a.raw)
	b = append(b, '"')

	switch a.state {
	case memGone:
		b = append(b, `,"error":"gone"`...)
	case memFailed:
		b = append(b, `,"error":`...)
		b = appendJSONString(b, appendError(nil, a.err))
	case memRead:
		b = appendMemoryJSON(b, ev, a)
	default:
		b = append(b, `,"value":"`...)
		if a.spec.kind.readsMemory() {
			b = append(b, "NULL"...)
		} else {
			b = appendValue(b, a.spec, a.raw)
		}
		b = append(b, '"')
	}
	return append(b, '}')
}

func appendMemoryJSON(b []byte, ev *event, a *argValue) []byte {
	data := ev.bytes(a.data)
	switch a.spec.kind {
	case kindPath:
		b = appendJSONBytes(b, "value", data)
	case kindSockaddr:
		b = appendSockaddrJSON(b, data)
	case kindArgv:
		b = append(b, `,"list":[`...)
		truncated := a.truncated
		for i, entry := range ev.argv[:ev.argvLen] {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, ev.bytes(entry.data))
			truncated = truncated || entry.truncated
		}
		b = append(b, ']')
		if truncated {
			b = append(b, `,"truncated":true`...)
		}
		return b
	case kindOpenHow:
		b = append(b, `,"value":"`...)
		b = appendOpenHow(b, &a.how)
		b = append(b, '"')
	}
	if a.truncated {
		b = append(b, `,"truncated":true`...)
	}
	return b
}

// appendSockaddrJSON appends the fields "family" and "value" for an AF_UNIX,
// AF_INET or AF_INET6 address, where value is a path (with a leading '@' for
// an abstract name) or address:port. Other addresses get "family" and
// "hex", the whole address in hex.
func appendSockaddrJSON(b []byte, data []byte) []byte {
	sa := parseSockaddr(data)
	if sa.family >= 0 {
		b = append(b, `,"family":"`...)
		b = appendFamily(b, sa.family)
		b = append(b, '"')
	}

	switch {
	case !sa.complete:
		b = append(b, `,"hex":"`...)
		b = hex.AppendEncode(b, data)
		return append(b, '"')
	case sa.family == unix.AF_UNIX:
		if sa.abstract {
			b = append(b, `,"abstract":true`...)
		}
		return appendJSONBytes(b, "value", sa.path)
	default:
		b = append(b, `,"value":"`...)
		b = sa.addr.AppendTo(b)
		return append(b, '"')
	}
}

// appendJSONBytes appends the field key with the string s, and the field
// "hex" with s in hex when s is not valid UTF-8, as JSON cannot hold it
// exactly.
func appendJSONBytes(b []byte, key string, s []byte) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":`...)
	b = appendJSONString(b, s)
	if !utf8.Valid(s) {
		b = append(b, `,"hex":"`...)
		b = hex.AppendEncode(b, s)
		b = append(b, '"')
	}
	return b
}

// appendJSONString appends s as a JSON string. Bytes that are not valid
// UTF-8 become U+FFFD, as in encoding/json.
func appendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}

		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
