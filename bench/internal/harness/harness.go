// Package harness runs one benchmark measurement: it starts the target
// processes, hands their listener fds to a supervisor implementation, lets
// it respond to every intercepted getppid call and reports the time, the
// supervisor's OS threads and its allocations.
//
// The targets are the C program bench/c/target.c. Each installs its own
// filter and sends the listener fd over a Unix socket, so no filter is ever
// installed in the supervisor process.
package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccompgo/seccomp"
)

// ResponseValue is the value every supervisor returns for getppid. The
// target checks it, so a call that ran for real cannot pass for a
// response. Keep it equal to RESPONSE_VALUE in target.c and supervisor.c.
const ResponseValue = 1234567890

// Config describes one measurement.
type Config struct {
	Target     string // path of the compiled target program
	Targets    int    // number of target processes, each with its own listener
	Calls      int    // timed getppid calls per target
	Warmup     int    // untimed getppid calls per target before the timed ones
	SyncWakeUp bool   // set SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on every listener
	Samples    string // file the first target writes its round trips to; "" for none
}

// Result is the outcome of one measurement, printed as one JSON object by
// every supervisor program, the C one included.
type Result struct {
	Impl       string `json:"impl"`
	SyncWakeUp bool   `json:"sync_wake_up"`
	Targets    int    `json:"targets"`
	Calls      int    `json:"calls"`
	Warmup     int    `json:"warmup"`
	// Served is the number of notifications responded to, warm-up included.
	Served int64 `json:"served"`
	// WallNS is the time from releasing the targets to the last response.
	WallNS int64 `json:"wall_ns"`
	// ThreadsIdle is the supervisor's thread count (/proc/self/task) once a
	// receiver waits on every listener and before any notification.
	ThreadsIdle int `json:"threads_idle"`
	// ThreadsEnd is the thread count after the last response. The Go runtime
	// keeps the threads it created, so it is also the peak of the run.
	ThreadsEnd int `json:"threads_end"`
	// AllocsPerCall is the number of Go heap allocations of the whole
	// process per notification, or -1 for the C supervisor.
	AllocsPerCall float64 `json:"allocs_per_call"`
}

// An Impl is a supervisor implementation under test.
type Impl struct {
	Name string
	// Open returns a server for listener fd and takes ownership of fd.
	Open func(fd int) (Server, error)
}

// A Server responds to the notifications of one listener.
type Server interface {
	// Serve receives n notifications and responds to each with ResponseValue. The
	// harness calls it in a goroutine of its own.
	Serve(n int) error
	// Close releases the listener fd.
	Close() error
}

// Hooks are called around the timed part of [Measure], for example to
// reset and stop a benchmark's timer. Either may be nil.
type Hooks struct {
	BeforeRelease func()
	AfterServe    func()
}

// Measure starts cfg.Targets targets, serves them with impl and returns
// the result. It fails if a target exits with an error, which it does when
// a call does not return [ResponseValue].
func Measure(impl Impl, cfg Config, hooks Hooks) (Result, error) {
	if cfg.Targets < 1 || cfg.Calls < 0 || cfg.Warmup < 0 {
		return Result{}, fmt.Errorf("invalid configuration: %d targets, %d calls, %d warm-up calls: want at least 1 target and no negative count", cfg.Targets, cfg.Calls, cfg.Warmup)
	}
	res := Result{Impl: impl.Name, SyncWakeUp: cfg.SyncWakeUp, Targets: cfg.Targets, Calls: cfg.Calls, Warmup: cfg.Warmup}

	group, err := startTargets(cfg)
	if err != nil {
		return res, err
	}
	defer group.kill()

	servers := make([]Server, 0, len(group.fds))
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for i, fd := range group.fds {
		if cfg.SyncWakeUp {
			if err := seccomp.IoctlNotifSetFlags(fd, seccomp.NotifFDFlagSyncWakeUp); err != nil {
				return res, err
			}
		}
		s, err := impl.Open(fd)
		if err != nil {
			return res, fmt.Errorf("%s: open listener of target %d: %w", impl.Name, i, err)
		}
		group.fds[i] = -1 // owned by s now
		servers = append(servers, s)
	}

	perTarget := cfg.Warmup + cfg.Calls
	errs := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errs <- s.Serve(perTarget) }()
	}
	res.ThreadsIdle = settledThreadCount()

	// Collect the set-up's garbage now, so that no collection, which
	// allocates, runs while allocations are counted. Then block on a channel
	// once: the first blocking channel operation of a P after a collection
	// allocates the runtime's wait record, which the wait for the servers
	// below would otherwise add to the count.
	runtime.GC()
	warm := make(chan struct{})
	go func() { warm <- struct{}{} }()
	<-warm

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if hooks.BeforeRelease != nil {
		hooks.BeforeRelease()
	}
	start := time.Now()
	group.release()

	var serveErr error
	for range servers {
		if err := <-errs; err != nil && serveErr == nil {
			serveErr = err
		}
	}
	res.WallNS = time.Since(start).Nanoseconds()
	if hooks.AfterServe != nil {
		hooks.AfterServe()
	}
	runtime.ReadMemStats(&after)
	res.ThreadsEnd = ThreadCount()
	res.Served = int64(perTarget) * int64(cfg.Targets)
	if res.Served > 0 {
		res.AllocsPerCall = float64(after.Mallocs-before.Mallocs) / float64(res.Served)
	}

	if serveErr != nil {
		return res, fmt.Errorf("%s: serve: %w", impl.Name, serveErr)
	}
	if err := group.wait(); err != nil {
		return res, err
	}
	return res, nil
}

// ThreadCount returns the number of threads of this process, from
// /proc/self/task, or -1 if it cannot be read.
func ThreadCount() int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	return len(tasks)
}

// settledThreadCount waits until the thread count has not changed for
// 100 ms, at most 5 s, so that every receiver has reached its wait, and
// returns it.
func settledThreadCount() int {
	const (
		interval = 20 * time.Millisecond
		stable   = 5
	)
	last, same := ThreadCount(), 0
	for deadline := time.Now().Add(5 * time.Second); same < stable && time.Now().Before(deadline); {
		time.Sleep(interval)
		if n := ThreadCount(); n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
	return last
}

// targetGroup is a set of started targets waiting for their release.
type targetGroup struct {
	cmds         []*exec.Cmd
	fds          []int    // listener fds, -1 once handed to a server
	releaseWrite *os.File // write end of the release pipe, nil once closed
	waited       bool
}

// startTargets starts cfg.Targets targets and receives their listener fds.
func startTargets(cfg Config) (*targetGroup, error) {
	releaseRead, releaseWrite, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer releaseRead.Close()

	g := &targetGroup{releaseWrite: releaseWrite}
	for i := range cfg.Targets {
		samples := "-"
		if i == 0 && cfg.Samples != "" {
			samples = cfg.Samples
		}
		fd, cmd, err := startTarget(cfg.Target, releaseRead, strconv.Itoa(cfg.Calls), strconv.Itoa(cfg.Warmup), samples)
		if cmd != nil {
			g.cmds = append(g.cmds, cmd)
		}
		if err != nil {
			g.kill()
			return nil, fmt.Errorf("start target %d of %d: %w", i+1, cfg.Targets, err)
		}
		g.fds = append(g.fds, fd)
	}
	return g, nil
}

// startTarget starts one target with a socket as fd 3 and the release
// pipe as fd 4, and receives its listener fd.
func startTarget(path string, releaseRead *os.File, args ...string) (int, *exec.Cmd, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, fmt.Errorf("create socket pair: %w", err)
	}
	defer unix.Close(pair[0])
	childEnd := os.NewFile(uintptr(pair[1]), "target-socket")

	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{childEnd, releaseRead}
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	childEnd.Close()
	if err != nil {
		return -1, nil, err
	}

	fd, err := receiveFD(pair[0])
	if err != nil {
		return -1, cmd, fmt.Errorf("receive listener fd from pid %d: %w", cmd.Process.Pid, err)
	}
	return fd, cmd, nil
}

func receiveFD(sock int) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		_, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, err
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) == 0 {
			return -1, errors.New("the target exited without sending its listener fd")
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return -1, fmt.Errorf("unexpected control message: %v", err)
		}
		return fds[0], nil
	}
}

// release lets every target start its calls.
func (g *targetGroup) release() {
	if g.releaseWrite != nil {
		g.releaseWrite.Close()
		g.releaseWrite = nil
	}
}

// wait waits for every target and returns an error naming the first that
// failed.
func (g *targetGroup) wait() error {
	g.waited = true
	var first error
	for i, cmd := range g.cmds {
		if err := cmd.Wait(); err != nil && first == nil {
			first = fmt.Errorf("target %d (pid %d): %w", i+1, cmd.Process.Pid, err)
		}
	}
	return first
}

// kill releases the targets, closes the fds that no server took and, unless
// wait was called, kills and reaps the targets.
func (g *targetGroup) kill() {
	g.release()
	for i, fd := range g.fds {
		if fd >= 0 {
			unix.Close(fd)
			g.fds[i] = -1
		}
	}
	if g.waited {
		return
	}
	g.waited = true
	var wg sync.WaitGroup
	for _, cmd := range g.cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd.Process.Kill()
			cmd.Wait()
		}()
	}
	wg.Wait()
}
