// Command supervisor is the benchmark supervisor for this module's two ways
// of serving a listener: -impl listener (seccomp.Listener on the runtime
// poller) and -impl blocking (IoctlNotifRecv and IoctlNotifSend on a locked
// thread). bench/cmd/benchmark runs it; see bench/README.md.
package main

import "github.com/seccompgo/seccomp/bench/internal/harness"

func main() {
	harness.Main(harness.ListenerImpl, harness.BlockingImpl)
}
