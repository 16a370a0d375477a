package launch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// The re-exec route, helper side. reexec.go describes the protocol.

func init() {
	value, ok := os.LookupEnv(helperEnv)
	if !ok {
		return
	}
	os.Exit(runHelper(value))
}

// runHelper installs the filter of the launcher's request on this thread,
// sends the listener to the launcher and executes the command. socketValue
// is the value of helperEnv. It returns the exit status only when it fails.
func runHelper(socketValue string) int {
	// The filter goes on this thread only, and execve ends the others, so
	// the command runs entirely under it. init runs on the main thread.
	runtime.LockOSThread()

	socket, err := strconv.Atoi(socketValue)
	if err == nil {
		err = checkHelperSocket(socket)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "launch: %s=%s is set, so this process acts as a re-exec helper of launch.Start, but it has no request socket (%v); unset %s to run the program itself\n",
			helperEnv, socketValue, err, helperEnv)
		return exitHelperFailure
	}

	// The launcher queued the request before starting this process.
	buf := make([]byte, maxRequestLen)
	n, _, _, _, err := unix.Recvmsg(socket, buf, nil, unix.MSG_DONTWAIT)
	if err != nil {
		sendHelperError(socket, fmt.Sprintf("read request: %v", err))
		return exitHelperFailure
	}
	req, err := decodeRequest(buf[:n])
	if err != nil {
		sendHelperError(socket, err.Error())
		return exitHelperFailure
	}
	env := environWithout(helperEnv)

	// The socket closes on a successful execve, which the launcher reads
	// as end of file. Setting it here keeps the fcntl before the filter.
	unix.CloseOnExec(socket)

	if req.noNewPrivs {
		if err := seccomp.SetNoNewPrivs(); err != nil {
			errno := unix.EPERM
			errors.As(err, &errno)
			sendErrno(socket, msgInstallErr, errno)
			return exitHelperFailure
		}
	}
	// The listener fd is close-on-exec (the kernel opens it with
	// O_CLOEXEC), so the command does not inherit it.
	if errno := installAndSend(socket, req); errno != 0 {
		sendErrno(socket, msgInstallErr, errno)
		return exitHelperFailure
	}

	// Every call from here on can get a response, as the launcher has the
	// listener.
	err = syscall.Exec(req.path, os.Args, env)

	errno := unix.EIO
	errors.As(err, &errno)
	sendErrno(socket, msgExecErr, errno)
	if errno == unix.ENOENT {
		return exitNotFound
	}
	return exitCannotExec
}

// checkHelperSocket returns an error unless fd is a Unix SOCK_SEQPACKET
// socket, so that a helperEnv set by mistake is detected before reading
// from an unrelated fd.
func checkHelperSocket(fd int) error {
	if fd < 3 {
		return fmt.Errorf("fd %d is standard input, output or error", fd)
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return fmt.Errorf("fd %d: %w", fd, err)
	}
	domain, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return fmt.Errorf("fd %d: %w", fd, err)
	}
	if typ != unix.SOCK_SEQPACKET || domain != unix.AF_UNIX {
		return fmt.Errorf("fd %d is not a Unix SOCK_SEQPACKET socket", fd)
	}
	return nil
}

// installAndSend installs the filter of req on this thread and sends the
// listener fd to the launcher. It returns the errno of the install.
//
// Until the launcher has the fd, no notified call of this thread can get a
// response. So between the two steps the thread runs no signal handler and
// makes raw system calls only, because Syscall could park the thread on a
// futex. The signal mask is restored afterwards, as execve passes it on to
// the command. If sendmsg fails, the helper exits at once, which closes the
// listener: a close(2) could itself be notified and wait forever.
func installAndSend(socket int, req *request) unix.Errno {
	fprog := unix.SockFprog{Len: uint16(len(req.prog)), Filter: &req.prog[0]}
	flags := req.flags | seccomp.FilterFlagNewListener

	// The message, prepared before the filter: one byte and the fd, which
	// is filled in after the install.
	data := []byte{msgListener}
	oob := unix.UnixRights(0)
	fdOffset := unix.CmsgLen(0)
	iov := unix.Iovec{Base: &data[0]}
	iov.SetLen(len(data))
	msg := unix.Msghdr{Iov: &iov, Control: &oob[0]}
	msg.SetIovlen(1)
	msg.SetControllen(len(oob))

	var all, saved unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^all.Val[i]
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &all, &saved); err != nil {
		errno := unix.EINVAL
		errors.As(err, &errno)
		return errno
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &saved, nil)

	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, uintptr(seccomp.OpSetModeFilter), uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return e
	}
	binary.NativeEndian.PutUint32(oob[fdOffset:], uint32(r))
	if _, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(socket), uintptr(unsafe.Pointer(&msg)), unix.MSG_NOSIGNAL); e != 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, exitHelperFailure, 0, 0)
	}
	runtime.KeepAlive(req)
	runtime.KeepAlive(data)
	runtime.KeepAlive(oob)
	return 0
}

// sendErrno sends a message of kind with errno to the launcher.
func sendErrno(socket int, kind byte, errno unix.Errno) {
	msg := append([]byte{kind}, strconv.FormatUint(uint64(errno), 10)...)
	unix.Sendmsg(socket, msg, nil, nil, unix.MSG_NOSIGNAL)
}

// sendHelperError sends text as a msgHelperErr to the launcher.
func sendHelperError(socket int, text string) {
	unix.Sendmsg(socket, append([]byte{msgHelperErr}, text...), nil, nil, unix.MSG_NOSIGNAL)
}

// environWithout returns the environment without the variable name.
func environWithout(name string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, name+"=") {
			env = append(env, kv)
		}
	}
	return env
}
