package launch

import (
	"os/exec"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// HelperEnv is the variable that marks a re-exec helper.
const HelperEnv = helperEnv

// StartReexec runs the re-exec route without Start's checks, so the tests
// can make the helper fail.
func StartReexec(cmd *exec.Cmd, opts Options) (*seccomp.Listener, error) {
	return startReexec(cmd, opts, opts.Flags|seccomp.FilterFlagNewListener)
}

// Request is a re-exec helper's request, for the encoding tests.
type Request struct {
	Flags      seccomp.FilterFlag
	NoNewPrivs bool
	Path       string
	Prog       []unix.SockFilter
}

// EncodeRequest encodes r as the launcher sends it.
func EncodeRequest(r Request) ([]byte, error) {
	return encodeRequest(&request{flags: r.Flags, noNewPrivs: r.NoNewPrivs, path: r.Path, prog: r.Prog})
}

// DecodeRequest decodes a request as the helper reads it.
func DecodeRequest(b []byte) (Request, error) {
	req, err := decodeRequest(b)
	if err != nil {
		return Request{}, err
	}
	return Request{Flags: req.flags, NoNewPrivs: req.noNewPrivs, Path: req.path, Prog: req.prog}, nil
}
