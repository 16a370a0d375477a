package launch_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
	"github.com/seccompgo/seccomp/launch"
	"github.com/seccompgo/seccomp/sysnum"
)

// This example runs ls under a listener that sees its file opens, lets
// them run, and fails every unlink with EPERM.
func ExampleStart() {
	prog, err := launch.NotifyFilterNames([]string{"openat", "unlinkat"})
	if err != nil {
		log.Fatal(err)
	}

	cmd := exec.Command("ls", "/")
	cmd.Stdout = os.Stdout
	served := make(chan error, 1)
	l, err := launch.Start(cmd, launch.Options{
		Filter: prog,
		Serve: func(l *seccomp.Listener) {
			var n seccomp.Notif
			for {
				if err := l.Receive(&n); err != nil {
					served <- err // ErrNoTargets once ls has exited
					return
				}
				name, _ := sysnum.Name(uint32(n.Data.Nr))
				fmt.Fprintf(os.Stderr, "pid %d: %s\n", n.Pid, name)

				if name == "unlinkat" {
					err = l.RespondErrno(n.ID, unix.EPERM)
				} else {
					err = l.Continue(n.ID)
				}
				if err != nil && !errors.Is(err, seccomp.ErrNotifGone) {
					log.Print(err)
				}
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	if err := cmd.Wait(); err != nil {
		log.Print(err)
	}
	log.Print(<-served)
}
