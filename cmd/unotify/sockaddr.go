package main

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// sockaddr is a decoded struct sockaddr.
type sockaddr struct {
	// family is sa_family, or -1 when the address is too short to hold it.
	family int
	// complete is set when the address is long enough for its family's
	// fields below. Other families are never complete.
	complete bool
	// path is the AF_UNIX path up to its NUL, or the abstract name without
	// its leading NUL (abstract names may contain NULs).
	path     []byte
	abstract bool
	// addr is the AF_INET or AF_INET6 address and port.
	addr netip.AddrPort
}

// parseSockaddr decodes the socket address b, as the kernel reads it for
// connect or bind: a family in native byte order, then the family's fields
// in network byte order.
func parseSockaddr(b []byte) sockaddr {
	if len(b) < 2 {
		return sockaddr{family: -1}
	}
	sa := sockaddr{family: int(binary.NativeEndian.Uint16(b))}
	body := b[2:]

	switch sa.family {
	case unix.AF_UNIX:
		sa.complete = true
		switch {
		case len(body) > 0 && body[0] == 0:
			sa.abstract = true
			sa.path = body[1:]
		default:
			if i := bytes.IndexByte(body, 0); i >= 0 {
				body = body[:i]
			}
			sa.path = body
		}
	case unix.AF_INET:
		// sin_port, then sin_addr.
		if len(body) >= 6 {
			sa.complete = true
			ip := netip.AddrFrom4([4]byte(body[2:6]))
			sa.addr = netip.AddrPortFrom(ip, binary.BigEndian.Uint16(body))
		}
	case unix.AF_INET6:
		// sin6_port, sin6_flowinfo, sin6_addr, then sin6_scope_id, which
		// the kernel accepts addresses without (RFC 2133 length).
		if len(body) >= 22 {
			sa.complete = true
			ip := netip.AddrFrom16([16]byte(body[6:22]))
			if len(body) >= 26 {
				if scope := binary.NativeEndian.Uint32(body[22:]); scope != 0 {
					ip = ip.WithZone(strconv.FormatUint(uint64(scope), 10))
				}
			}
			sa.addr = netip.AddrPortFrom(ip, binary.BigEndian.Uint16(body))
		}
	}
	return sa
}

// familyName returns the AF_* name of a socket address family, or "" when
// unotify does not name it.
func familyName(family int) string {
	switch family {
	case unix.AF_UNSPEC:
		return "AF_UNSPEC"
	case unix.AF_UNIX:
		return "AF_UNIX"
	case unix.AF_INET:
		return "AF_INET"
	case unix.AF_INET6:
		return "AF_INET6"
	case unix.AF_NETLINK:
		return "AF_NETLINK"
	case unix.AF_PACKET:
		return "AF_PACKET"
	case unix.AF_VSOCK:
		return "AF_VSOCK"
	case unix.AF_BLUETOOTH:
		return "AF_BLUETOOTH"
	case unix.AF_ALG:
		return "AF_ALG"
	}
	return ""
}

// appendFamily appends the family's name, or "family=N".
func appendFamily(b []byte, family int) []byte {
	if name := familyName(family); name != "" {
		return append(b, name...)
	}
	b = append(b, "family="...)
	return strconv.AppendInt(b, int64(family), 10)
}

// appendSockaddrText appends the address in the text report's form:
// {AF_UNIX, "/run/x.sock"}, {AF_UNIX, @"name"} for an abstract name,
// {AF_INET, 127.0.0.1:80}, {AF_INET6, [::1]:80}, and the family and length
// for anything else.
func appendSockaddrText(b []byte, raw []byte) []byte {
	sa := parseSockaddr(raw)
	b = append(b, '{')
	if sa.family < 0 {
		b = append(b, "len="...)
		b = strconv.AppendInt(b, int64(len(raw)), 10)
		return append(b, '}')
	}

	b = appendFamily(b, sa.family)
	b = append(b, ", "...)
	switch {
	case !sa.complete:
		b = append(b, "len="...)
		b = strconv.AppendInt(b, int64(len(raw)), 10)
	case sa.family == unix.AF_UNIX:
		if sa.abstract {
			b = append(b, '@')
		}
		b = strconv.AppendQuote(b, string(sa.path))
	default:
		b = sa.addr.AppendTo(b)
	}
	return append(b, '}')
}
