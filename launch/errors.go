package launch

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// ExecError reports that the command could not be executed. Start returns
// it for the checks it makes before it starts anything (a command that is
// missing, not executable or a directory) and, in the re-exec route, for a
// failed execve of the command. Shells exit with 127 when Errno is ENOENT
// and with 126 otherwise.
type ExecError struct {
	// Path is the command's path, as in exec.Cmd.Path.
	Path string

	// Errno is the reason as execve reports it: ENOENT for a missing file
	// or interpreter, EACCES for a file that is not executable, ENOEXEC for
	// an unknown format, and so on. [errors.Is] matches it, so
	// errors.Is(err, fs.ErrNotExist) holds for ENOENT.
	Errno unix.Errno

	// Err is the error found before the start, such as the *fs.PathError of
	// a stat or the cause in exec.Cmd.Err, or nil when execve returned Errno.
	Err error
}

func (e *ExecError) Error() string {
	if e.Err != nil {
		return "command " + e.Path + ": " + e.Err.Error()
	}
	return "command " + e.Path + ": " + e.Errno.Error()
}

// Unwrap returns Errno and Err, so [errors.Is] matches both.
func (e *ExecError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Errno, e.Err}
	}
	return []error{e.Errno}
}

// FilterError reports that the filter does not allow a system call that
// the launch makes at a point where no notification can get a response.
type FilterError struct {
	// Call is the system call's name, such as "sendmsg".
	Call string

	// Action is the filter's return value for Call.
	Action seccomp.Action

	// Reason is why the launch needs Call allowed, as a relative clause.
	Reason string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter returns %v for %s, %s", e.Action, e.Call, e.Reason)
}
