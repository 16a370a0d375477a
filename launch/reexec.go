package launch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// The re-exec route, launcher side. The launcher queues the request on one
// end of a SOCK_SEQPACKET socket pair and starts the helper, a copy of its
// own executable, with the other end after cmd.ExtraFiles and helperEnv set
// to that end's fd number. The helper (helper.go) reads the request,
// installs the filter, sends the listener, and executes the command. Its end
// of the socket is close-on-exec, so the launcher reads end of file once the
// execve succeeds, or a msgExecErr when it fails.

// helperEnv marks a process as a re-exec helper. Its value is the fd of the
// helper's end of the socket. The helper removes it from the environment it
// passes to the command.
const helperEnv = "SECCOMPGO_LAUNCH_HELPER"

// Messages on the socket start with a byte that gives their kind.
const (
	msgRequest    = 'R' // launcher to helper: the request, see encodeRequest
	msgListener   = 'L' // the listener fd, in SCM_RIGHTS
	msgInstallErr = 'I' // setting no_new_privs or installing the filter failed: the errno in decimal
	msgExecErr    = 'X' // execve failed: the errno in decimal
	msgHelperErr  = 'E' // the helper failed otherwise: a message
)

// Exit statuses of a helper that fails. The launcher reports the failure
// from the socket and then reaps the helper, so these show only when a
// process is started with helperEnv set by mistake.
const (
	exitHelperFailure = 125 // the helper could not run, as with env(1)
	exitCannotExec    = 126 // the command could not be executed
	exitNotFound      = 127 // the command, or its interpreter, was not found
)

// maxPathLen bounds the command's path in a request. execve itself rejects
// paths longer than PATH_MAX (4096 bytes) with ENAMETOOLONG.
const maxPathLen = 64 << 10

// requestHeaderLen is the length of a request before the path: the kind,
// the filter flags, the no_new_privs byte and the path's length.
const requestHeaderLen = 1 + 4 + 1 + 4

// maxRequestLen bounds an encoded request.
const maxRequestLen = requestHeaderLen + maxPathLen + 8*seccomp.MaxInstructions

// request is the launcher's request to the helper. The command's arguments
// and environment reach the helper as its own.
type request struct {
	flags      seccomp.FilterFlag
	noNewPrivs bool
	path       string
	prog       []unix.SockFilter
}

// startReexec starts cmd through a re-exec helper and returns once the
// command's execve has succeeded.
func startReexec(cmd *exec.Cmd, opts Options, flags seccomp.FilterFlag) (*seccomp.Listener, error) {
	if cmd.SysProcAttr != nil && cmd.SysProcAttr.Ptrace {
		return nil, errors.New("launch: SysProcAttr.Ptrace would stop at the re-exec helper's execve of the command; allow the calls of the start-up in the filter instead")
	}
	req, err := encodeRequest(&request{flags: flags, noNewPrivs: !opts.KeepPrivileges, path: cmd.Path, prog: opts.Filter})
	if err != nil {
		return nil, fmt.Errorf("launch: %w", err)
	}

	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("launch: re-exec helper socket: %w", err)
	}
	socket := pair[0]
	defer unix.Close(socket)
	helperEnd := os.NewFile(uintptr(pair[1]), "launch-helper-socket")

	// The request waits in the socket until the helper reads it.
	if err := unix.Sendmsg(socket, req, nil, nil, 0); err != nil {
		helperEnd.Close()
		return nil, fmt.Errorf("launch: send request to re-exec helper: %w", err)
	}
	err = startHelper(cmd, helperEnd)
	helperEnd.Close()
	if err != nil {
		return nil, fmt.Errorf("launch: start re-exec helper: %w", err)
	}

	fd, err := receiveListener(socket)
	if err != nil {
		// The helper exits by itself after a failure it reports, but not
		// after one it could not report.
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("launch: %w", err)
	}
	l, err := seccomp.NewListener(fd)
	if err != nil {
		unix.Close(fd)
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("launch: %w", err)
	}

	// Serve runs before the helper's execve, which the filter may notify.
	if opts.Serve != nil {
		go opts.Serve(l)
	}
	execErrno, err := receiveExecResult(socket)
	if err == nil && execErrno == 0 {
		return l, nil
	}

	// With the listener closed, the helper's notified calls fail with
	// ENOSYS, so it cannot wait for a response that never comes.
	l.Close()
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("launch: %w", err)
	}
	cmd.Wait()
	return nil, fmt.Errorf("launch: %w", &ExecError{Path: cmd.Path, Errno: execErrno})
}

// startHelper starts the re-exec helper for cmd with helperEnd as its
// socket, and leaves cmd as it was apart from the started process.
func startHelper(cmd *exec.Cmd, helperEnd *os.File) error {
	path, args, env, extra := cmd.Path, cmd.Args, cmd.Env, cmd.ExtraFiles
	defer func() {
		cmd.Path, cmd.Args, cmd.Env, cmd.ExtraFiles = path, args, env, extra
	}()

	// The helper gets the command's arguments, which it passes on to
	// execve, and its environment with helperEnv, which it removes. The
	// socket goes after the caller's extra files, so theirs keep their
	// numbers in the command.
	if len(cmd.Args) == 0 {
		cmd.Args = []string{path}
	}
	socketFD := 3 + len(extra)
	cmd.Env = append(cmd.Environ(), helperEnv+"="+strconv.Itoa(socketFD))
	cmd.ExtraFiles = append(slices.Clip(extra), helperEnd)
	// /proc/self/exe is this process's executable even if its file was
	// replaced or removed since.
	cmd.Path = "/proc/self/exe"

	// NOTE: with SysProcAttr.Chroot the helper is executed after the
	// chroot, so /proc must be mounted inside the new root.
	return cmd.Start()
}

// receiveListener waits for the helper's first message and returns the
// listener fd it carries, or the failure it reports.
func receiveListener(socket int) (int, error) {
	buf := make([]byte, 512)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, err := recvmsg(socket, buf, oob)
	switch {
	case err != nil:
		return -1, fmt.Errorf("receive listener from re-exec helper: %w", err)
	case n == 0:
		return -1, errors.New("re-exec helper exited before installing the filter")
	case buf[0] == msgInstallErr:
		return -1, helperInstallError(decodeErrno(buf[1:n]))
	case buf[0] == msgHelperErr:
		return -1, fmt.Errorf("re-exec helper: %s", buf[1:n])
	case buf[0] != msgListener || oobn == 0:
		return -1, fmt.Errorf("invalid message %q from re-exec helper", buf[:n])
	}

	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("invalid listener message from re-exec helper: %d control messages, %v", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("invalid listener message from re-exec helper: %d fds, %v", len(fds), err)
	}
	return fds[0], nil
}

// receiveExecResult waits until the helper has executed the command. It
// returns the errno of execve when that failed.
func receiveExecResult(socket int) (unix.Errno, error) {
	buf := make([]byte, 64)
	n, _, err := recvmsg(socket, buf, nil)
	switch {
	case err != nil:
		return 0, fmt.Errorf("wait for re-exec helper to execute the command: %w", err)
	case n == 0:
		// The helper's end closed on execve. It also closes if the helper
		// is killed, which cmd.Wait then reports.
		return 0, nil
	case buf[0] == msgExecErr:
		return decodeErrno(buf[1:n]), nil
	}
	return 0, fmt.Errorf("invalid message %q from re-exec helper", buf[:n])
}

// helperInstallError returns the error for the errno with which the helper
// failed to set no_new_privs or install the filter.
func helperInstallError(errno unix.Errno) error {
	e := &seccomp.Error{Op: "install filter in re-exec helper", Errno: errno}
	switch errno {
	case unix.EBUSY:
		e.Err = fmt.Errorf("%w and was not installed with ALLOW_NESTED_LISTENERS", seccomp.ErrListenerExists)
	case unix.EACCES:
		e.Err = errors.New("permission denied (EACCES): with Options.KeepPrivileges the filter needs CAP_SYS_ADMIN")
	}
	return e
}

// recvmsg calls recvmsg(2) with MSG_CMSG_CLOEXEC, retrying on EINTR.
func recvmsg(fd int, p, oob []byte) (n, oobn int, err error) {
	for {
		n, oobn, _, _, err = unix.Recvmsg(fd, p, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			return n, oobn, err
		}
	}
}

// decodeErrno decodes the decimal errno of a helper message, or returns EIO
// for a malformed one.
func decodeErrno(b []byte) unix.Errno {
	n, err := strconv.ParseUint(string(b), 10, 32)
	if err != nil || n == 0 || n > 4095 {
		return unix.EIO
	}
	return unix.Errno(n)
}

// encodeRequest encodes req in the byte order of this machine, which the
// helper shares: msgRequest, the filter flags (4 bytes), 1 if the helper
// sets no_new_privs, the path's length (4 bytes), the path, and the program
// (8 bytes per instruction).
func encodeRequest(req *request) ([]byte, error) {
	if len(req.path) > maxPathLen {
		return nil, fmt.Errorf("command path of %d bytes is longer than the maximum of %d", len(req.path), maxPathLen)
	}
	if len(req.prog) == 0 || len(req.prog) > seccomp.MaxInstructions {
		return nil, fmt.Errorf("filter program of %d instructions, want 1 to %d", len(req.prog), seccomp.MaxInstructions)
	}

	b := make([]byte, 0, requestHeaderLen+len(req.path)+8*len(req.prog))
	b = append(b, msgRequest)
	b = binary.NativeEndian.AppendUint32(b, uint32(req.flags))
	if req.noNewPrivs {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.NativeEndian.AppendUint32(b, uint32(len(req.path)))
	b = append(b, req.path...)
	for _, ins := range req.prog {
		b = binary.NativeEndian.AppendUint16(b, ins.Code)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.NativeEndian.AppendUint32(b, ins.K)
	}
	return b, nil
}

// decodeRequest decodes a request from encodeRequest.
func decodeRequest(b []byte) (*request, error) {
	if len(b) < requestHeaderLen || b[0] != msgRequest {
		return nil, errors.New("invalid request: no request header")
	}
	if b[5] > 1 {
		return nil, fmt.Errorf("invalid request: no_new_privs byte %d", b[5])
	}
	req := &request{
		flags:      seccomp.FilterFlag(binary.NativeEndian.Uint32(b[1:])),
		noNewPrivs: b[5] == 1,
	}
	pathLen := uint64(binary.NativeEndian.Uint32(b[6:]))
	b = b[requestHeaderLen:]
	if pathLen > maxPathLen || pathLen > uint64(len(b)) {
		return nil, fmt.Errorf("invalid request: path length %d with %d bytes left", pathLen, len(b))
	}
	req.path = string(b[:pathLen])

	b = b[pathLen:]
	if len(b) == 0 || len(b)%8 != 0 || len(b)/8 > seccomp.MaxInstructions {
		return nil, fmt.Errorf("invalid request: filter program of %d bytes", len(b))
	}
	req.prog = make([]unix.SockFilter, 0, len(b)/8)
	for ; len(b) > 0; b = b[8:] {
		req.prog = append(req.prog, unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:]),
		})
	}
	return req, nil
}
