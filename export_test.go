package seccomp

import "time"

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

// HotWaiters returns how many receivers wait in the kernel's poll now, and
// MaxHotWaiters their limit.
func HotWaiters() int32 { return hotWaiters.Load() }

var MaxHotWaiters = maxHotWaiters

// SetHotWait sets how long a busy Listener's receiver waits in the kernel
// before it parks, and returns a function that restores the default.
func SetHotWait(wait time.Duration) (restore func()) {
	hotWaitNS.Store(int64(wait))
	return func() { hotWaitNS.Store(int64(hotWait)) }
}
