package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seccompgo/seccomp/test/vm/internal/protocol"
)

// runGrace is how long the runner waits beyond the test timeout before it kills qemu. The
// init gives each binary the rest of the test timeout as its -test.timeout, and the grace
// leaves time for a timed-out binary to print its goroutines and for the guest to power off.
const runGrace = 30 * time.Second

// maxLineLength bounds one console line. The runner drops the rest of a longer line.
const maxLineLength = 1 << 20

// bootOptions are the qemu and timeout settings shared by all kernels.
type bootOptions struct {
	accel       string
	memory      string
	cpus        int
	testTimeout time.Duration
	verbose     bool
}

// bootResult is the outcome of one boot.
type bootResult struct {
	session *session

	bootTime time.Duration // qemu start to the init's ready line
	testTime time.Duration // ready line to qemu's exit
	wallTime time.Duration // qemu start to exit

	timedOut    string // "boot" or "tests" when the runner killed qemu at that stage
	interrupted bool   // the runner was interrupted and killed qemu
	qemuErr     error  // qemu could not start, or exited with an error
	qemuStderr  []string
}

// qemuArgs returns the qemu command line that boots kernelPath with initrd.
func qemuArgs(k kernel, kernelPath, initrd string, opts bootOptions) (string, []string) {
	spec := archs[k.Arch]
	args := append([]string{}, spec.machine...)
	args = append(args,
		"-accel", opts.accel,
		"-m", opts.memory,
		"-smp", strconv.Itoa(opts.cpus),
		"-nographic",
		"-no-reboot",
		"-nic", "none",
		"-kernel", kernelPath,
		"-initrd", initrd,
		// panic=-1 reboots at once on a panic, and -no-reboot turns the reboot into qemu's
		// exit, so a crashed guest ends the VM like a powered-off one.
		"-append", "console="+spec.console+" panic=-1 quiet",
	)
	return spec.qemu, args
}

// bootKernel boots one kernel, streams its console to console, and kills qemu when the
// init is not ready within the kernel's boot timeout, when the tests outlast
// opts.testTimeout plus runGrace, or when ctx is done.
func bootKernel(ctx context.Context, k kernel, kernelPath, initrd string, opts bootOptions, console *consolePrinter) *bootResult {
	result := &bootResult{session: &session{}}
	name, args := qemuArgs(k, kernelPath, initrd, opts)
	if opts.verbose {
		console.Line(k.Name, "run "+name+" "+strings.Join(args, " "))
	}

	cmd := exec.Command(name, args...)
	stdoutReader, stdoutWriter, err := os.Pipe()
	if err != nil {
		result.qemuErr = err
		return result
	}
	stderrReader, stderrWriter, err := os.Pipe()
	if err != nil {
		stdoutReader.Close()
		stdoutWriter.Close()
		result.qemuErr = err
		return result
	}
	cmd.Stdout = stdoutWriter
	cmd.Stderr = stderrWriter

	start := time.Now()
	err = cmd.Start()
	stdoutWriter.Close()
	stderrWriter.Close()
	if err != nil {
		stdoutReader.Close()
		stderrReader.Close()
		result.qemuErr = err
		return result
	}

	// The console reader owns the session until it has read everything. The main loop
	// learns of the ready and done lines through events.
	events := make(chan string, 4)
	var readers sync.WaitGroup
	readers.Go(func() {
		readLines(stdoutReader, func(line string) {
			console.Line(k.Name, line)
			if event := result.session.Line(line); event == protocol.EventReady || event == protocol.EventDone {
				select {
				case events <- event:
				default:
				}
			}
		})
	})
	readers.Go(func() {
		readLines(stderrReader, func(line string) {
			console.Line(k.Name, "qemu: "+line)
			result.qemuStderr = append(result.qemuStderr, line)
		})
	})

	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
	}()

	var readyAt time.Time
	deadline := time.NewTimer(time.Duration(k.BootTimeout))
	defer deadline.Stop()
	var waitErr error
wait:
	for {
		select {
		case event := <-events:
			if event == protocol.EventReady && readyAt.IsZero() {
				readyAt = time.Now()
				deadline.Reset(opts.testTimeout + runGrace)
			}
		case waitErr = <-exited:
			break wait
		case <-deadline.C:
			result.timedOut = "boot"
			if !readyAt.IsZero() {
				result.timedOut = "tests"
			}
			cmd.Process.Kill()
		case <-ctx.Done():
			result.interrupted = true
			cmd.Process.Kill()
		}
	}
	end := time.Now()
	readers.Wait()
	stdoutReader.Close()
	stderrReader.Close()

	result.wallTime = end.Sub(start)
	if !readyAt.IsZero() {
		result.bootTime = readyAt.Sub(start)
		result.testTime = end.Sub(readyAt)
	}
	if waitErr != nil && result.timedOut == "" && !result.interrupted {
		result.qemuErr = fmt.Errorf("%s: %v", name, waitErr)
	}
	return result
}

// readLines calls fn for each line read from r, without its line ending.
func readLines(r io.Reader, fn func(string)) {
	reader := bufio.NewReaderSize(r, 64*1024)
	var line []byte
	for {
		chunk, isPrefix, err := reader.ReadLine()
		if len(line)+len(chunk) <= maxLineLength {
			line = append(line, chunk...)
		}
		if err != nil {
			if len(line) > 0 {
				fn(strings.TrimRight(string(line), "\r"))
			}
			return
		}
		if !isPrefix {
			fn(strings.TrimRight(string(line), "\r"))
			line = line[:0]
		}
	}
}

// consolePrinter writes lines from several VMs to one writer, each whole and prefixed with
// its kernel's name.
type consolePrinter struct {
	mu sync.Mutex
	w  io.Writer
}

// Terminal control sequences from the firmware (SeaBIOS clears the screen) and other
// control characters would garble the host's terminal or log.
var controlSequence = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_]|c)|[\x00-\x08\x0b-\x1f\x7f]`)

// Line prints one console line of the named kernel.
func (p *consolePrinter) Line(name, line string) {
	line = controlSequence.ReplaceAllString(line, "")
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[%s] %s\n", name, line)
}
