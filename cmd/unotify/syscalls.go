package main

import (
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp/sysnum"
)

// defaultTrace is the set of system calls intercepted without -trace: file
// opens, program execution, connections, and changes to directory entries.
// Names the running architecture lacks, such as open on arm64, are skipped.
var defaultTrace = []string{
	"open", "openat", "openat2", "creat",
	"execve", "execveat",
	"connect",
	"unlink", "unlinkat",
	"rename", "renameat", "renameat2",
	"mkdir", "mkdirat",
}

// argKind selects how one system call argument is decoded.
type argKind uint8

const (
	kindHex        argKind = iota // bits or an opaque value, in hex
	kindPtr                       // pointer that is not followed: NULL or hex
	kindInt                       // C int, in decimal
	kindLong                      // C long or size_t, in decimal
	kindFD                        // file descriptor, with AT_FDCWD by name
	kindMode                      // file mode, in octal
	kindOpenFlags                 // O_* flags
	kindFlags                     // bits named by argSpec.flags
	kindSignal                    // signal number, by name
	kindDomain                    // socket address family, by name
	kindSocketType                // SOCK_* type and flags
	kindPath                      // NUL-terminated string in the target's memory
	kindSockaddr                  // struct sockaddr in the target's memory; the next argument is its length
	kindArgv                      // NULL-terminated array of string pointers in the target's memory
	kindOpenHow                   // struct open_how in the target's memory; the next argument is its size
)

// readsMemory reports whether arguments of kind k point to data that the
// decoder reads from the target.
func (k argKind) readsMemory() bool {
	return k >= kindPath
}

// argSpec describes one parameter of a system call.
type argSpec struct {
	name  string
	kind  argKind
	flags []flagName // names of the bits, for kindFlags
}

// flagName is the name of one bit, or of a group of bits, in a flags argument.
type flagName struct {
	value uint64
	name  string
}

// syscallSpec describes the parameters of one system call.
type syscallSpec struct {
	name        string
	args        []argSpec
	readsMemory bool // some argument has a kind that reads the target's memory
}

var (
	atFlagNames = []flagName{
		{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
		{unix.AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"},
		{unix.AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
		{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH"},
	}
	// unlinkat gives 0x200 the meaning AT_REMOVEDIR, faccessat2 AT_EACCESS.
	unlinkFlagNames = []flagName{
		{unix.AT_REMOVEDIR, "AT_REMOVEDIR"},
	}
	accessFlagNames = []flagName{
		{unix.AT_EACCESS, "AT_EACCESS"},
		{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
		{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH"},
	}
	renameFlagNames = []flagName{
		{unix.RENAME_NOREPLACE, "RENAME_NOREPLACE"},
		{unix.RENAME_EXCHANGE, "RENAME_EXCHANGE"},
		{unix.RENAME_WHITEOUT, "RENAME_WHITEOUT"},
	}
	resolveFlagNames = []flagName{
		{unix.RESOLVE_NO_XDEV, "RESOLVE_NO_XDEV"},
		{unix.RESOLVE_NO_MAGICLINKS, "RESOLVE_NO_MAGICLINKS"},
		{unix.RESOLVE_NO_SYMLINKS, "RESOLVE_NO_SYMLINKS"},
		{unix.RESOLVE_BENEATH, "RESOLVE_BENEATH"},
		{unix.RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT"},
		{resolveCached, "RESOLVE_CACHED"},
	}
	accessModeNames = []flagName{
		{unix.R_OK, "R_OK"},
		{unix.W_OK, "W_OK"},
		{unix.X_OK, "X_OK"},
	}
	// openFlagNames lists O_TMPFILE before O_DIRECTORY and O_SYNC before
	// O_DSYNC, because each of the first contains the bits of the second.
	// The access mode (O_RDONLY, O_WRONLY, O_RDWR) is decoded separately.
	openFlagNames = []flagName{
		{unix.O_TMPFILE, "O_TMPFILE"},
		{unix.O_SYNC, "O_SYNC"},
		{unix.O_CREAT, "O_CREAT"},
		{unix.O_EXCL, "O_EXCL"},
		{unix.O_NOCTTY, "O_NOCTTY"},
		{unix.O_TRUNC, "O_TRUNC"},
		{unix.O_APPEND, "O_APPEND"},
		{unix.O_NONBLOCK, "O_NONBLOCK"},
		{unix.O_DSYNC, "O_DSYNC"},
		{unix.O_ASYNC, "O_ASYNC"},
		{unix.O_DIRECT, "O_DIRECT"},
		{unix.O_DIRECTORY, "O_DIRECTORY"},
		{unix.O_NOFOLLOW, "O_NOFOLLOW"},
		{unix.O_NOATIME, "O_NOATIME"},
		{unix.O_CLOEXEC, "O_CLOEXEC"},
		{unix.O_PATH, "O_PATH"},
	}
	socketTypeFlagNames = []flagName{
		{unix.SOCK_NONBLOCK, "SOCK_NONBLOCK"},
		{unix.SOCK_CLOEXEC, "SOCK_CLOEXEC"},
	}
)

// resolveCached is RESOLVE_CACHED (Linux 5.12), which golang.org/x/sys/unix
// lacks.
const resolveCached = 0x20

// Shorthands for the parameter table below.
func fd(name string) argSpec   { return argSpec{name: name, kind: kindFD} }
func path(name string) argSpec { return argSpec{name: name, kind: kindPath} }
func mode(name string) argSpec { return argSpec{name: name, kind: kindMode} }
func flags(name string, names []flagName) argSpec {
	return argSpec{name: name, kind: kindFlags, flags: names}
}
func arg(name string, kind argKind) argSpec { return argSpec{name: name, kind: kind} }

// syscallArgs lists the parameters of the system calls that unotify
// decodes, with their names from the Linux man pages. Calls missing here
// print all six argument registers in hex. Calls that the running
// architecture lacks are ignored.
//
// NOTE: on 32-bit architectures a 64-bit argument, such as the length of
// truncate64, takes two registers, and each register is printed on its own.
var syscallArgs = map[string][]argSpec{
	"open":      {path("pathname"), arg("flags", kindOpenFlags), mode("mode")},
	"openat":    {fd("dirfd"), path("pathname"), arg("flags", kindOpenFlags), mode("mode")},
	"openat2":   {fd("dirfd"), path("pathname"), arg("how", kindOpenHow), arg("size", kindLong)},
	"creat":     {path("pathname"), mode("mode")},
	"execve":    {path("pathname"), arg("argv", kindArgv), arg("envp", kindPtr)},
	"execveat":  {fd("dirfd"), path("pathname"), arg("argv", kindArgv), arg("envp", kindPtr), flags("flags", atFlagNames)},
	"connect":   {fd("sockfd"), arg("addr", kindSockaddr), arg("addrlen", kindInt)},
	"bind":      {fd("sockfd"), arg("addr", kindSockaddr), arg("addrlen", kindInt)},
	"socket":    {arg("domain", kindDomain), arg("type", kindSocketType), arg("protocol", kindInt)},
	"unlink":    {path("pathname")},
	"unlinkat":  {fd("dirfd"), path("pathname"), flags("flags", unlinkFlagNames)},
	"rmdir":     {path("pathname")},
	"rename":    {path("oldpath"), path("newpath")},
	"renameat":  {fd("olddirfd"), path("oldpath"), fd("newdirfd"), path("newpath")},
	"renameat2": {fd("olddirfd"), path("oldpath"), fd("newdirfd"), path("newpath"), flags("flags", renameFlagNames)},
	"mkdir":     {path("pathname"), mode("mode")},
	"mkdirat":   {fd("dirfd"), path("pathname"), mode("mode")},
	"mknod":     {path("pathname"), mode("mode"), arg("dev", kindHex)},
	"mknodat":   {fd("dirfd"), path("pathname"), mode("mode"), arg("dev", kindHex)},
	"link":      {path("oldpath"), path("newpath")},
	"linkat":    {fd("olddirfd"), path("oldpath"), fd("newdirfd"), path("newpath"), flags("flags", atFlagNames)},
	"symlink":   {path("target"), path("linkpath")},
	"symlinkat": {path("target"), fd("newdirfd"), path("linkpath")},
	"readlink":  {path("pathname"), arg("buf", kindPtr), arg("bufsiz", kindLong)},
	"readlinkat": {
		fd("dirfd"), path("pathname"), arg("buf", kindPtr), arg("bufsiz", kindLong),
	},
	"chdir":      {path("path")},
	"chroot":     {path("path")},
	"access":     {path("pathname"), flags("mode", accessModeNames)},
	"faccessat":  {fd("dirfd"), path("pathname"), flags("mode", accessModeNames)},
	"faccessat2": {fd("dirfd"), path("pathname"), flags("mode", accessModeNames), flags("flags", accessFlagNames)},
	"stat":       {path("pathname"), arg("statbuf", kindPtr)},
	"lstat":      {path("pathname"), arg("statbuf", kindPtr)},
	"stat64":     {path("pathname"), arg("statbuf", kindPtr)},
	"lstat64":    {path("pathname"), arg("statbuf", kindPtr)},
	"newfstatat": {fd("dirfd"), path("pathname"), arg("statbuf", kindPtr), flags("flags", atFlagNames)},
	"fstatat64":  {fd("dirfd"), path("pathname"), arg("statbuf", kindPtr), flags("flags", atFlagNames)},
	"statx": {
		fd("dirfd"), path("pathname"), flags("flags", atFlagNames), arg("mask", kindHex), arg("statxbuf", kindPtr),
	},
	"chmod":    {path("pathname"), mode("mode")},
	"fchmodat": {fd("dirfd"), path("pathname"), mode("mode")},
	"chown":    {path("pathname"), arg("owner", kindInt), arg("group", kindInt)},
	"lchown":   {path("pathname"), arg("owner", kindInt), arg("group", kindInt)},
	"fchownat": {
		fd("dirfd"), path("pathname"), arg("owner", kindInt), arg("group", kindInt), flags("flags", atFlagNames),
	},
	"truncate":    {path("path"), arg("length", kindLong)},
	"truncate64":  {path("path"), arg("length", kindLong)},
	"close":       {fd("fd")},
	"read":        {fd("fd"), arg("buf", kindPtr), arg("count", kindLong)},
	"write":       {fd("fd"), arg("buf", kindPtr), arg("count", kindLong)},
	"kill":        {arg("pid", kindInt), arg("sig", kindSignal)},
	"tgkill":      {arg("tgid", kindInt), arg("tid", kindInt), arg("sig", kindSignal)},
	"exit":        {arg("status", kindInt)},
	"exit_group":  {arg("status", kindInt)},
	"getpid":      {},
	"getppid":     {},
	"gettid":      {},
	"getuid":      {},
	"geteuid":     {},
	"getgid":      {},
	"getegid":     {},
	"sched_yield": {},
	"sync":        {},
	"fork":        {},
	"vfork":       {},
	"pause":       {},
}

// rawArgs describes a system call missing from syscallArgs: six registers.
var rawArgs = []argSpec{
	arg("arg0", kindHex), arg("arg1", kindHex), arg("arg2", kindHex),
	arg("arg3", kindHex), arg("arg4", kindHex), arg("arg5", kindHex),
}

// specByNumber is syscallArgs keyed by this architecture's numbers.
var specByNumber = func() map[uint32]*syscallSpec {
	m := make(map[uint32]*syscallSpec, len(syscallArgs))
	for name, args := range syscallArgs {
		nr, ok := sysnum.Number(name)
		if !ok {
			continue
		}
		m[nr] = newSpec(name, args)
	}
	return m
}()

func newSpec(name string, args []argSpec) *syscallSpec {
	spec := &syscallSpec{name: name, args: args}
	for _, a := range args {
		if a.kind.readsMemory() {
			spec.readsMemory = true
		}
	}
	return spec
}

// specCache holds the specs made for numbers missing from specByNumber.
// Only the serve goroutine uses it, so it needs no lock.
type specCache map[uint32]*syscallSpec

// lookup returns the spec of system call nr.
func (c specCache) lookup(nr uint32) *syscallSpec {
	if spec, ok := specByNumber[nr]; ok {
		return spec
	}
	if spec, ok := c[nr]; ok {
		return spec
	}

	name, ok := sysnum.Name(nr)
	if !ok {
		name = "syscall_" + strconv.FormatUint(uint64(nr), 10)
	}
	spec := newSpec(name, rawArgs)
	c[nr] = spec
	return spec
}
