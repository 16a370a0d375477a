package main

// headers are the uapi headers that the cgo preamble includes.
// <linux/seccomp.h> does not include <linux/ioctl.h> itself.
var headers = []string{
	"linux/types.h",
	"linux/ioctl.h",
	"linux/audit.h",
	"linux/filter.h",
	"linux/prctl.h",
	"linux/seccomp.h",
}

// A structSpec maps one C struct to its Go declaration.
type structSpec struct {
	Go     string
	C      string // without the "struct " keyword
	Doc    string // one line, naming the C struct
	Fields []fieldSpec
}

// A fieldSpec maps one C struct member to its Go field.
type fieldSpec struct {
	C  string
	Go string

	// Type, when set, replaces the uint32 that cgo -godefs writes. The
	// named types are declared by hand in the package.
	Type string
}

// structs are the generated struct types, in output order. Their members
// must appear in the same order as in the C struct.
var structs = []structSpec{
	{
		Go:  "Data",
		C:   "seccomp_data",
		Doc: "Data is struct seccomp_data, the system call that a filter program inspects.",
		Fields: []fieldSpec{
			{C: "nr", Go: "Nr"},
			{C: "arch", Go: "Arch"},
			{C: "instruction_pointer", Go: "InstructionPointer"},
			{C: "args", Go: "Args"},
		},
	},
	{
		Go:  "Notif",
		C:   "seccomp_notif",
		Doc: "Notif is struct seccomp_notif, which SECCOMP_IOCTL_NOTIF_RECV fills in.",
		Fields: []fieldSpec{
			{C: "id", Go: "ID"},
			{C: "pid", Go: "Pid"},
			{C: "flags", Go: "Flags"},
			{C: "data", Go: "Data"},
		},
	},
	{
		Go:  "NotifResp",
		C:   "seccomp_notif_resp",
		Doc: "NotifResp is struct seccomp_notif_resp, which SECCOMP_IOCTL_NOTIF_SEND reads.",
		Fields: []fieldSpec{
			{C: "id", Go: "ID"},
			{C: "val", Go: "Val"},
			{C: "error", Go: "Error"},
			{C: "flags", Go: "Flags", Type: "NotifRespFlag"},
		},
	},
	{
		Go:  "NotifSizes",
		C:   "seccomp_notif_sizes",
		Doc: "NotifSizes is struct seccomp_notif_sizes, which SECCOMP_GET_NOTIF_SIZES fills in.",
		Fields: []fieldSpec{
			{C: "notif", Go: "Notif"},
			{C: "notif_resp", Go: "NotifResp"},
			{C: "data", Go: "Data"},
		},
	},
	{
		Go:  "NotifAddFD",
		C:   "seccomp_notif_addfd",
		Doc: "NotifAddFD is struct seccomp_notif_addfd, the argument of SECCOMP_IOCTL_NOTIF_ADDFD.",
		Fields: []fieldSpec{
			{C: "id", Go: "ID"},
			{C: "flags", Go: "Flags", Type: "AddFDFlag"},
			{C: "srcfd", Go: "SrcFD"},
			{C: "newfd", Go: "NewFD"},
			{C: "newfd_flags", Go: "NewFDFlags"},
		},
	},
}

// A constSpec is one C constant in the generated files.
type constSpec struct {
	Go  string
	C   string
	Doc string // for exported constants
}

// ioctls are the per-architecture ioctl request numbers, in output order.
// They are unexported because the package's exported IoctlNotif* functions
// wrap them under the capitalized names.
var ioctls = []constSpec{
	{Go: "ioctlNotifRecv", C: "SECCOMP_IOCTL_NOTIF_RECV", Doc: "ioctlNotifRecv is SECCOMP_IOCTL_NOTIF_RECV (Linux 5.0)."},
	{Go: "ioctlNotifSend", C: "SECCOMP_IOCTL_NOTIF_SEND", Doc: "ioctlNotifSend is SECCOMP_IOCTL_NOTIF_SEND (Linux 5.0)."},
	{Go: "ioctlNotifIDValid", C: "SECCOMP_IOCTL_NOTIF_ID_VALID", Doc: "ioctlNotifIDValid is SECCOMP_IOCTL_NOTIF_ID_VALID as defined since Linux 5.9 (SECCOMP_IOW(2, __u64))."},
	{Go: "ioctlNotifIDValidLegacy", C: "SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR", Doc: "ioctlNotifIDValidLegacy is the SECCOMP_IOCTL_NOTIF_ID_VALID of Linux 5.0 to 5.8 (SECCOMP_IOR(2, __u64)), which later kernels still accept."},
	{Go: "ioctlNotifAddFD", C: "SECCOMP_IOCTL_NOTIF_ADDFD", Doc: "ioctlNotifAddFD is SECCOMP_IOCTL_NOTIF_ADDFD (Linux 5.9)."},
	{Go: "ioctlNotifSetFlags", C: "SECCOMP_IOCTL_NOTIF_SET_FLAGS", Doc: "ioctlNotifSetFlags is SECCOMP_IOCTL_NOTIF_SET_FLAGS (Linux 6.6)."},
}

// A constGroup is a run of related C constants in the common file. Each
// becomes an unexported Go constant named "_" + its C name.
type constGroup struct {
	Doc   string
	Names []string
	Notes map[string]string // trailing comments, by C name
}

// constGroups are the architecture-independent constants, in output order.
var constGroups = []constGroup{
	{
		Doc: "Operations of the seccomp system call.",
		Names: []string{
			"SECCOMP_SET_MODE_STRICT",
			"SECCOMP_SET_MODE_FILTER",
			"SECCOMP_GET_ACTION_AVAIL",
			"SECCOMP_GET_NOTIF_SIZES",
		},
	},
	{
		Doc: "Modes that PR_GET_SECCOMP returns.",
		Names: []string{
			"SECCOMP_MODE_DISABLED",
			"SECCOMP_MODE_STRICT",
			"SECCOMP_MODE_FILTER",
		},
	},
	{
		Doc: "Flags of SECCOMP_SET_MODE_FILTER.",
		Names: []string{
			"SECCOMP_FILTER_FLAG_TSYNC",
			"SECCOMP_FILTER_FLAG_LOG",
			"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
			"SECCOMP_FILTER_FLAG_NEW_LISTENER",
			"SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
			"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
			"SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS",
		},
		Notes: map[string]string{
			"SECCOMP_FILTER_FLAG_ALLOW_NESTED_LISTENERS": "proposed, in no released kernel",
		},
	},
	{
		Doc: "Filter return actions and the masks that split a return value.",
		Names: []string{
			"SECCOMP_RET_KILL_PROCESS",
			"SECCOMP_RET_KILL_THREAD",
			"SECCOMP_RET_KILL",
			"SECCOMP_RET_TRAP",
			"SECCOMP_RET_ERRNO",
			"SECCOMP_RET_USER_NOTIF",
			"SECCOMP_RET_TRACE",
			"SECCOMP_RET_LOG",
			"SECCOMP_RET_ALLOW",
			"SECCOMP_RET_ACTION_FULL",
			"SECCOMP_RET_ACTION",
			"SECCOMP_RET_DATA",
		},
	},
	{
		Doc: "Flags of the user-notification structs and of SECCOMP_IOCTL_NOTIF_SET_FLAGS.",
		Names: []string{
			"SECCOMP_USER_NOTIF_FLAG_CONTINUE",
			"SECCOMP_ADDFD_FLAG_SETFD",
			"SECCOMP_ADDFD_FLAG_SEND",
			"SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP",
		},
		Notes: map[string]string{
			"SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP": "Linux 6.6",
		},
	},
	{
		Doc: "Classic BPF and prctl values.",
		Names: []string{
			"BPF_MAXINSNS",
			"PR_SET_SECCOMP",
			"PR_GET_SECCOMP",
			"PR_SET_NO_NEW_PRIVS",
			"PR_GET_NO_NEW_PRIVS",
		},
	},
}
