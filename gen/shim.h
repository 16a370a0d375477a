// Constants that Debian 12's kernel headers (Linux 6.1) lack. The generator
// pastes this file into the cgo preamble after <linux/seccomp.h>, so every
// definition is guarded and a newer header's own definition wins. The ioctl
// numbers use the header's SECCOMP_IOR and SECCOMP_IOW macros, so each
// architecture's direction encoding comes from its own <asm/ioctl.h>.
//
// Use only line comments here: the preamble sits inside a Go block comment,
// which a C block comment would end early.

// Linux 6.6: set flags on a listener fd; the argument is the flag value.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

// Linux 6.6: flag for SECCOMP_IOCTL_NOTIF_SET_FLAGS.
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

// Proposed in the patch series "seccomp: support nested listeners"
// (v3, December 2025). No released kernel has it.
#ifndef SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS
#define SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS (1UL << 6)
#endif

// The ID_VALID number of Linux 5.0 to 5.8, which had the wrong direction.
// Linux 5.9 switched to SECCOMP_IOW and still accepts this one. The name is
// the one kernel/seccomp.c uses; no uapi header defines it.
#ifndef SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR
#define SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR SECCOMP_IOR(2, __u64)
#endif
