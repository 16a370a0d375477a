package seccomp

// IoctlNumbers exposes the generated ioctl request numbers to the external
// tests, by their C names.
var IoctlNumbers = map[string]uint64{
	"SECCOMP_IOCTL_NOTIF_RECV":            ioctlNotifRecv,
	"SECCOMP_IOCTL_NOTIF_SEND":            ioctlNotifSend,
	"SECCOMP_IOCTL_NOTIF_ID_VALID":        ioctlNotifIDValid,
	"SECCOMP_IOCTL_NOTIF_ADDFD":           ioctlNotifAddFD,
	"SECCOMP_IOCTL_NOTIF_SET_FLAGS":       ioctlNotifSetFlags,
	"legacy SECCOMP_IOCTL_NOTIF_ID_VALID": ioctlNotifIDValidLegacy,
}
